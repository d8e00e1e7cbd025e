-- Finding a job by the message it answers in (its status message while it runs).
CREATE INDEX jobs_message ON jobs (platform, message_id);
