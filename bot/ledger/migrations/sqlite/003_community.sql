-- Community features: a server/workspace daily pool held together with the user's quota,
-- extra images granted for one day, per-workspace settings and the admin audit trail.

-- The pool a reservation also holds (its usage row is quota_usage (pool_key, day)), or NULL.
ALTER TABLE reservations ADD COLUMN pool_key TEXT;

-- The counters follow the reservation in the same statement, the pool's with the user's: a
-- reservation holds both or neither, and a settlement refunds both.
DROP TRIGGER reservations_hold;
CREATE TRIGGER reservations_hold AFTER INSERT ON reservations
BEGIN
    INSERT INTO quota_usage (user_key, period, used)
    VALUES (NEW.user_key, NEW.day, NEW.amount), (NEW.user_key, NEW.month, NEW.amount)
    ON CONFLICT (user_key, period) DO UPDATE SET used = used + excluded.used;
    INSERT INTO quota_usage (user_key, period, used)
    SELECT NEW.pool_key, NEW.day, NEW.amount WHERE NEW.pool_key IS NOT NULL
    ON CONFLICT (user_key, period) DO UPDATE SET used = used + excluded.used;
END;

DROP TRIGGER reservations_settle;
CREATE TRIGGER reservations_settle AFTER UPDATE OF state ON reservations
WHEN OLD.state = 'reserved' AND NEW.state = 'settled'
BEGIN
    UPDATE quota_usage SET used = used - (OLD.amount - NEW.used)
    WHERE (user_key = OLD.user_key AND period IN (OLD.day, OLD.month))
       OR (OLD.pool_key IS NOT NULL AND user_key = OLD.pool_key AND period = OLD.day);
END;

-- Extra units an admin granted a user for one UTC day (on top of the daily limit).
CREATE TABLE quota_grants (
    user_key TEXT NOT NULL,
    day      TEXT NOT NULL,        -- 'd:2026-11-25'
    extra    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_key, day)
) WITHOUT ROWID;

-- Per server/workspace settings ('discord:<guild id>', 'slack:<team id>'), as JSON.
CREATE TABLE workspace_settings (
    workspace     TEXT PRIMARY KEY,
    settings_json TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- Every admin change: who, when, what, to whom.
CREATE TABLE admin_audit (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX admin_audit_target ON admin_audit (target, id);

-- Stats: jobs of a workspace (or all) since a moment.
CREATE INDEX jobs_workspace ON jobs (platform, workspace_id, created_at);
CREATE INDEX jobs_created ON jobs (created_at);
