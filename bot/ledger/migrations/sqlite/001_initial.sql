-- Quotas: per-user overrides, usage counters per period, and one row per reservation.
CREATE TABLE quota_limits (
    user_key   TEXT PRIMARY KEY,
    daily      INTEGER,            -- NULL: the default from settings
    monthly    INTEGER,
    blocked    INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE quota_usage (
    user_key TEXT NOT NULL,
    period   TEXT NOT NULL,        -- 'd:2026-11-25' or 'm:2026-11' (UTC)
    used     INTEGER NOT NULL DEFAULT 0,   -- reserved + committed units
    PRIMARY KEY (user_key, period)
) WITHOUT ROWID;

CREATE TABLE reservations (
    id         INTEGER PRIMARY KEY,
    user_key   TEXT NOT NULL,
    day        TEXT NOT NULL,
    month      TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL CHECK (state IN ('reserved', 'settled')),
    created_at TEXT NOT NULL,
    settled_at TEXT
);
CREATE INDEX reservations_open ON reservations (state) WHERE state = 'reserved';

-- The usage counters follow the reservations, inside the same statement: a reservation and
-- its hold (or a settlement and its refund) can never be half applied.
CREATE TRIGGER reservations_hold AFTER INSERT ON reservations
BEGIN
    INSERT INTO quota_usage (user_key, period, used)
    VALUES (NEW.user_key, NEW.day, NEW.amount), (NEW.user_key, NEW.month, NEW.amount)
    ON CONFLICT (user_key, period) DO UPDATE SET used = used + excluded.used;
END;

CREATE TRIGGER reservations_settle AFTER UPDATE OF state ON reservations
WHEN OLD.state = 'reserved' AND NEW.state = 'settled'
BEGIN
    UPDATE quota_usage SET used = used - (OLD.amount - NEW.used)
    WHERE user_key = OLD.user_key AND period IN (OLD.day, OLD.month);
END;

-- Jobs: a row before the provider is called; lineage through parent_id and job_messages.
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    user_key          TEXT NOT NULL,
    platform          TEXT NOT NULL,
    workspace_id      TEXT,
    channel_id        TEXT,
    thread_id         TEXT,
    message_id        TEXT,
    kind              TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    model             TEXT NOT NULL,
    request_json      TEXT NOT NULL,
    provider          TEXT,
    provider_task_id  TEXT,
    status            TEXT NOT NULL,
    error_kind        TEXT,
    error             TEXT,
    reservation_id    INTEGER REFERENCES reservations (id),
    images_requested  INTEGER NOT NULL,
    images_delivered  INTEGER NOT NULL DEFAULT 0,
    parent_id         TEXT REFERENCES jobs (id),
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    duration_ms       INTEGER
);
CREATE INDEX jobs_user ON jobs (user_key, created_at);
CREATE INDEX jobs_thread ON jobs (platform, channel_id, thread_id, created_at);
CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('queued', 'running');

CREATE TABLE job_messages (
    platform   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    job_id     TEXT NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (platform, message_id)
) WITHOUT ROWID;

-- Image bytes by content hash: a job's references (for re-rolls) and results (for edits).
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    mime       TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE job_images (
    job_id   TEXT NOT NULL REFERENCES jobs (id),
    role     TEXT NOT NULL CHECK (role IN ('input', 'output')),
    position INTEGER NOT NULL,
    sha256   TEXT NOT NULL REFERENCES blobs (sha256),
    source   TEXT NOT NULL DEFAULT 'upload',
    url      TEXT,
    PRIMARY KEY (job_id, role, position)
) WITHOUT ROWID;
