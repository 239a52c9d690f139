-- Bad input for lowcode.get_workflow(name text, version integer DEFAULT NULL): a version of a workflow definition.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW001 bad name; PGRST LW002 (404) no such workflow, LW003 (404) no such version.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.get_workflow(NULL)::text$$),
  ($$SELECT lowcode.get_workflow('')::text$$),
  ($$SELECT lowcode.get_workflow('no-such')::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow', 0)::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow', -1)::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow', 99)::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow', 2147483648)::text$$),
  ($$SELECT lowcode.get_workflow(repeat('x', 10000000))::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow' || chr(0))::text$$),
  ($$SELECT lowcode.get_workflow('bi.flow', 'x')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
