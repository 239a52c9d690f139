-- Bad input for lowcode.register_workflow(name text, definition jsonb, description text DEFAULT NULL): registers a version of a workflow.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW001 bad name, LW005 global name or long description; PGRST LW011 (422) invalid definition, LW004 (409) incompatible.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_workflow(NULL, '{}')::text$$),
  ($$SELECT lowcode.register_workflow('w', NULL)::text$$),
  ($$SELECT lowcode.register_workflow(NULL, NULL)::text$$),
  ($$SELECT lowcode.register_workflow('', '{}')::text$$),
  ($$SELECT lowcode.register_workflow('1w', '{}')::text$$),
  ($$SELECT lowcode.register_workflow(repeat('w', 10000000), '{}')::text$$),
  ($$SELECT lowcode.register_workflow('w' || chr(0), '{}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '[]')::text$$),
  ($$SELECT lowcode.register_workflow('w', 'null')::text$$),
  ($$SELECT lowcode.register_workflow('w', '"x"')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": 1, "states": []}')::text$$),
  ($$SELECT lowcode.register_workflow('w', pg_temp.deep_object(10000))::text$$),
  ($$SELECT lowcode.register_workflow('w', jsonb_build_object('initial', 'a', 'states', jsonb_build_object('a', jsonb_build_object('description', repeat('d', 300000)))))::text$$),
  ($$SELECT lowcode.register_workflow('w', jsonb_build_object('initial', 'k1', 'states', (SELECT jsonb_object_agg('k' || i, '{}'::jsonb) FROM generate_series(1, 300) i)))::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": "a", "states": {"a": {"on": {"x": {"target": "a", "guard": "((("}}}}}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": "a", "states": {"a": {"on": {"x": {"actions": 5}}}}}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": "a", "states": {"a": {"after": {"-1s": "a"}}}}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": "a", "states": {"a": {"after": {"99999999h": "a"}}}}')::text$$),
  ($$SELECT lowcode.register_workflow('w', '{"initial": "a", "states": {"a": {}}}', repeat('d', 20000))::text$$),
  ($$SELECT lowcode.register_workflow('bi.flow', '{"initial": "z", "states": {"z": {}}}')::text$$),
  ($$SELECT lowcode.register_workflow('w', 42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
