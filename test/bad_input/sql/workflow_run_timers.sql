-- Bad input for lowcode.workflow_run_timers(batch_size integer DEFAULT 500): operator only, fires due workflow timers.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW005 batch size out of range.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.workflow_run_timers(NULL)::text$$),
  ($$SELECT lowcode.workflow_run_timers(0)::text$$),
  ($$SELECT lowcode.workflow_run_timers(-1)::text$$),
  ($$SELECT lowcode.workflow_run_timers(100001)::text$$),
  ($$SELECT lowcode.workflow_run_timers(2147483648)::text$$),
  ($$SELECT lowcode.workflow_run_timers('x')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
