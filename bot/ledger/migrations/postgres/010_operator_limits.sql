-- PostgreSQL twin of sqlite/010_operator_limits.sql: an operator's block and limits stand.
ALTER TABLE quota_limits ADD COLUMN by_operator boolean NOT NULL DEFAULT false;
