-- Bad input for lowcode.unschedule_maintenance(quiet boolean): removes the maintenance jobs.
-- Documented (docs/errors.md): LQ003 pg_cron not installed (unless quiet); NULL quiet is not quiet.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.unschedule_maintenance(NULL)::text$$),
  ($$SELECT lowcode.unschedule_maintenance(false)::text$$),
  ($$SELECT lowcode.unschedule_maintenance(true)::text$$),
  ($$SELECT lowcode.unschedule_maintenance('')::text$$),
  ($$SELECT lowcode.unschedule_maintenance('maybe')::text$$),
  ($$SELECT lowcode.unschedule_maintenance(42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
