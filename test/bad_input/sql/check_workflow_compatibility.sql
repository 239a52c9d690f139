-- Bad input for lowcode.check_workflow_compatibility(name text, definition jsonb): compares a definition with the latest version.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW001 bad name; PGRST LW011 (422) invalid definition.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.check_workflow_compatibility(NULL, '{}')::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('bi.flow', NULL)::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('', '{}')::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('bi.flow', '[]')::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('bi.flow', '{"initial": "z", "states": {"z": {}}}')::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('no-such', '{"initial": "z", "states": {"z": {}}}')::text$$),
  ($$SELECT lowcode.check_workflow_compatibility('bi.flow', pg_temp.deep_array(10000))::text$$),
  ($$SELECT lowcode.check_workflow_compatibility(repeat('x', 10000000), '{}')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
