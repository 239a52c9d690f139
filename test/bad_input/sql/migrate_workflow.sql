-- Bad input for lowcode.migrate_workflow(name text, from_version integer, to_version integer DEFAULT NULL): moves instances to a later version.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW001 bad name, LW005 target not later; PGRST LW002/LW003 (404) no such workflow or version.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.migrate_workflow(NULL, 1)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', NULL)::text$$),
  ($$SELECT lowcode.migrate_workflow('', 1)::text$$),
  ($$SELECT lowcode.migrate_workflow('no-such', 1)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', 0)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', 1)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', 1, 1)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', 1, 99)::text$$),
  ($$SELECT lowcode.migrate_workflow('bi.flow', -5, -1)::text$$),
  ($$SELECT lowcode.migrate_workflow(repeat('x', 10000000), 1)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
