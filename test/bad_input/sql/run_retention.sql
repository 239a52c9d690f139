-- Bad input for lowcode.run_retention(audit_retention interval): deletes events past their deadline and
-- audit rows older than the given age (docs/quotas.md).  NULL or negative ages must not delete
-- everything or fail obscurely.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT (lowcode.run_retention(NULL) >= 0)::text$$),
  ($$SELECT (lowcode.run_retention('-1 day') >= 0)::text$$),
  ($$SELECT (lowcode.run_retention('0 seconds') >= 0)::text$$),
  ($$SELECT (lowcode.run_retention('-1000000 years') >= 0)::text$$),
  ($$SELECT (lowcode.run_retention('infinity') >= 0)::text$$),
  ($$SELECT (lowcode.run_retention('') >= 0)::text$$),
  ($$SELECT (lowcode.run_retention(42) >= 0)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
