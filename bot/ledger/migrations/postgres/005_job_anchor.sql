-- PostgreSQL twin of sqlite/005_job_anchor.sql: finding a job by the message it answers in.
CREATE INDEX jobs_message ON jobs (platform, message_id);
