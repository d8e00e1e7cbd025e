-- PostgreSQL twin of sqlite/009_deleted_results.sql: when a result was deleted.
ALTER TABLE jobs ADD COLUMN deleted_at timestamptz;
