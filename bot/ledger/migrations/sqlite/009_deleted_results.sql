-- A result deleted by its owner (or an admin): its messages are gone, so "the latest result" of
-- a thread, a person's latest here and their recent results pass over it.
ALTER TABLE jobs ADD COLUMN deleted_at TEXT;
