-- PostgreSQL twin of sqlite/010_operator_limits.sql: an operator's block and limits stand.
ALTER TABLE quota_limits ADD COLUMN by_operator boolean NOT NULL DEFAULT false;
-- Rows whose last quota change came from the shell (an operator) are theirs from now on; an
-- operator's change from chat (SEEDBOT_ADMINS) can't be told from here and counts from its next one.
UPDATE quota_limits SET by_operator = true
WHERE (blocked OR daily IS NOT NULL OR monthly IS NOT NULL)
  AND (SELECT a.actor FROM admin_audit a
       WHERE a.target = quota_limits.user_key AND a.action IN ('quota.set', 'quota.block', 'quota.unblock')
       ORDER BY a.id DESC LIMIT 1) LIKE 'cli:%';
