-- Whether an operator (SEEDBOT_ADMINS, the CLI) has the last word on a person's block and
-- limits: quotas count on every server, so a server's admins may tighten them but not lift them
-- (an abuser would add the bot to a server of their own and unblock themselves).
ALTER TABLE quota_limits ADD COLUMN by_operator INTEGER NOT NULL DEFAULT 0;
