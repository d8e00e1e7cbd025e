-- Job leases: the process running a job owns it and renews its lease; when the lease runs out
-- (the process died), another process takes the job over (SELECT ... FOR UPDATE SKIP LOCKED).
ALTER TABLE jobs ADD COLUMN owner text;
ALTER TABLE jobs ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status IN ('queued', 'running');

-- Platform events already handled (Slack retries the same event id), shared by every process
-- on this database. Old rows are pruned by the ledger.
CREATE TABLE seen_events (
    key     text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
CREATE INDEX seen_events_age ON seen_events (seen_at);
