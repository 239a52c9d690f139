-- Bad input for lowcode.schedule_maintenance(rollup_schedule, reconcile_schedule, retention_schedule).
-- Documented (docs/errors.md): LQ003 pg_cron not installed; with pg_cron, a bad schedule is refused by
-- pg_cron itself (its own error) and nothing changes.  pg_cron is created in a transaction rolled back
-- at the end (the pg_regress instance preloads it).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
CREATE EXTENSION pg_cron;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*) FROM lowcode.schedule_maintenance(NULL)$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance(NULL, NULL, NULL)$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('')$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('every minute')$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('* * * * * * *')$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('99 * * * *')$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('*/5 * * * *', '*/0 * * * *')$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance(repeat('*', 10000000))$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance('*/5 * * * *' || chr(0))$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance(convert_from('\xff'::bytea, 'UTF8'))$$),
  ($$SELECT count(*) FROM lowcode.schedule_maintenance(42)$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS cron_jobs FROM cron.job;
ROLLBACK;
SELECT pg_temp.try($$SELECT count(*) FROM lowcode.schedule_maintenance()$$) AS without_pg_cron;
