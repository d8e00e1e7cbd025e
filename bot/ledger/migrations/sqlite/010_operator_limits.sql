-- Whether an operator (SEEDBOT_ADMINS, the CLI) has the last word on a person's block and
-- limits: quotas count on every server, so a server's admins may tighten them but not lift them
-- (an abuser would add the bot to a server of their own and unblock themselves).
ALTER TABLE quota_limits ADD COLUMN by_operator INTEGER NOT NULL DEFAULT 0;
-- From the audit, as the code marks them from now on: a block is an operator's when the newest
-- block or unblock came from the shell; limits are when the shell ever set them (a server admin
-- only tightens what an operator set). An operator's change from chat (SEEDBOT_ADMINS) can't be
-- told from here and counts from its next one.
UPDATE quota_limits SET by_operator = 1
WHERE (blocked AND (SELECT a.actor FROM admin_audit a
                    WHERE a.target = quota_limits.user_key AND a.action IN ('quota.block', 'quota.unblock')
                    ORDER BY a.id DESC LIMIT 1) LIKE 'cli:%')
   OR ((daily IS NOT NULL OR monthly IS NOT NULL)
       AND EXISTS (SELECT 1 FROM admin_audit a
                   WHERE a.target = quota_limits.user_key AND a.action = 'quota.set' AND a.actor LIKE 'cli:%'));
