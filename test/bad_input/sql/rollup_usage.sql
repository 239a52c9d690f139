-- Bad input for lowcode.rollup_usage(keep_minutes interval, keep_days interval): rolls minute usage into days
-- and deletes what is older than the given ages (docs/quotas.md).  NULL, negative or absurd ages must
-- not delete everything or fail obscurely.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT (lowcode.rollup_usage(NULL, NULL) >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage(NULL) >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('-1 day') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('0 seconds', '0 seconds') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('1000000 years') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('2 days', '-1000000 years') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('infinity') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage('') >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage(42) >= 0)::text$$),
  ($$SELECT (lowcode.rollup_usage((repeat('1', 10000000) || ' seconds')::interval) >= 0)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
