-- PostgreSQL twin of sqlite/010_operator_limits.sql: an operator's block and limits stand.
ALTER TABLE quota_limits ADD COLUMN by_operator boolean NOT NULL DEFAULT false;
-- From the audit, as the code marks them from now on: a block is an operator's when the newest
-- block or unblock came from the shell; limits are when the shell ever set them (a server admin
-- only tightens what an operator set). An operator's change from chat (SEEDBOT_ADMINS) can't be
-- told from here and counts from its next one.
UPDATE quota_limits SET by_operator = true
WHERE (blocked AND (SELECT a.actor FROM admin_audit a
                    WHERE a.target = quota_limits.user_key AND a.action IN ('quota.block', 'quota.unblock')
                    ORDER BY a.id DESC LIMIT 1) LIKE 'cli:%')
   OR ((daily IS NOT NULL OR monthly IS NOT NULL)
       AND EXISTS (SELECT 1 FROM admin_audit a
                   WHERE a.target = quota_limits.user_key AND a.action = 'quota.set' AND a.actor LIKE 'cli:%'));
