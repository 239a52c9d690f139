-- pg_cron maintenance: named, idempotent jobs; DROP EXTENSION leaves no orphan.
-- The pg_regress instance preloads pg_cron with cron.database_name = contrib_regression.
-- DROP EXTENSION pg_lowcode is tested inside transactions that roll back (the
-- extension is shared by every test); 2NN_quota_cron.pl drops it for real.
\set VERBOSITY terse

-- without the pg_cron extension in the database: a clear error
SELECT lowcode.pg_cron_location();
SELECT * FROM lowcode.schedule_maintenance();
SELECT lowcode.unschedule_maintenance();
SELECT lowcode.unschedule_maintenance(quiet => true);

CREATE EXTENSION pg_cron;
SELECT lowcode.pg_cron_location();
SELECT job_name, schedule FROM lowcode.schedule_maintenance();
SELECT jobname, schedule, command, database FROM cron.job ORDER BY jobname;
-- again, with other schedules: the same jobs, updated
SELECT job_name, schedule FROM lowcode.schedule_maintenance('* * * * *', '*/10 * * * *', '0 3 * * *');
SELECT jobname, schedule FROM cron.job ORDER BY jobname;
-- bad schedules are refused by pg_cron, nothing changes
SELECT lowcode.schedule_maintenance('every minute');
SELECT count(*) AS jobs FROM cron.job;

-- the jobs' commands work (what pg_cron runs)
SELECT lowcode.flush_usage() >= 0 AS ok;
SELECT lowcode.rollup_usage() >= 0 AS ok;
SELECT count(*) >= 0 AS ok FROM lowcode.reconcile_storage();
SELECT lowcode.run_retention() >= 0 AS ok;

SELECT lowcode.unschedule_maintenance();
SELECT lowcode.unschedule_maintenance();
SELECT count(*) AS jobs FROM cron.job;

-- a job of someone else is left alone
SELECT cron.schedule('not-ours', '0 0 * * *', 'SELECT 1') > 0 AS scheduled;
SELECT count(*) FROM lowcode.schedule_maintenance();

-- DROP EXTENSION pg_lowcode removes the jobs; if the DROP rolls back, they stay
BEGIN;
DROP EXTENSION pg_lowcode;
SELECT jobname FROM cron.job ORDER BY jobname;
ROLLBACK;
SELECT jobname FROM cron.job ORDER BY jobname;
-- other DROP statements do not touch them
CREATE SCHEMA quota_cron_scratch;
DROP SCHEMA quota_cron_scratch;
DROP EXTENSION IF EXISTS pg_nonexistent_ext;
SELECT count(*) AS jobs FROM cron.job;

-- DROP SCHEMA lowcode CASCADE is refused (the schema belongs to the
-- extension): the jobs stay
DROP SCHEMA lowcode CASCADE;
SELECT count(*) AS jobs FROM cron.job;
SELECT lowcode.unschedule_maintenance();

SELECT cron.unschedule('not-ours');
DROP EXTENSION pg_cron;
