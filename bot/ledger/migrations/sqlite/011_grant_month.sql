-- Today's grant counts toward this month's limit too (postgres/011_grant_month.sql). Nothing to
-- change here: SQLite's reservation is one statement in sqlite.py, which reads the grant.
SELECT 1;
