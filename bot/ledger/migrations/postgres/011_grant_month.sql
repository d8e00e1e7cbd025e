-- Today's grant counts toward this month's limit too: "N more images today" (`quota grant`)
-- said so and gave nothing to someone whose month was used up. The same function as 003's
-- but for that one line (SQLite's twin is the statement in sqlite.py).
CREATE OR REPLACE FUNCTION ledger_reserve_pooled(
    p_user text, p_day text, p_month text, p_amount integer, p_unlimited boolean,
    p_daily integer, p_monthly integer, p_now timestamptz, p_pool text, p_pool_limit integer
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    day_used   integer;
    month_used integer;
    pool_used  integer;
    extra      integer;
    lim        record;
    new_id     bigint;
BEGIN
    INSERT INTO quota_usage (user_key, period, used) VALUES (p_user, p_day, 0), (p_user, p_month, 0)
    ON CONFLICT (user_key, period) DO NOTHING;
    SELECT used INTO day_used FROM quota_usage WHERE user_key = p_user AND period = p_day FOR UPDATE;
    SELECT used INTO month_used FROM quota_usage WHERE user_key = p_user AND period = p_month FOR UPDATE;
    IF p_pool IS NOT NULL THEN
        INSERT INTO quota_usage (user_key, period, used) VALUES (p_pool, p_day, 0)
        ON CONFLICT (user_key, period) DO NOTHING;
        SELECT used INTO pool_used FROM quota_usage WHERE user_key = p_pool AND period = p_day FOR UPDATE;
    END IF;
    SELECT daily, monthly, blocked INTO lim FROM quota_limits WHERE user_key = p_user;
    IF COALESCE(lim.blocked, false) THEN
        RETURN NULL;
    END IF;
    SELECT g.extra INTO extra FROM quota_grants g WHERE g.user_key = p_user AND g.day = p_day;
    IF NOT p_unlimited AND (
        day_used + p_amount > COALESCE(lim.daily, p_daily) + COALESCE(extra, 0)
        OR month_used + p_amount > COALESCE(lim.monthly, p_monthly) + COALESCE(extra, 0)
        OR (p_pool IS NOT NULL AND pool_used + p_amount > p_pool_limit)
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO reservations (user_key, day, month, amount, state, created_at, pool_key)
    VALUES (p_user, p_day, p_month, p_amount, 'reserved', p_now, p_pool)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
