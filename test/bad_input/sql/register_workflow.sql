-- Bad input for lowcode.register_workflow(name text, definition jsonb, description text DEFAULT NULL): registers a version of a workflow.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LW001 bad name, LW005 global name or long description; PGRST LW011 (422) invalid definition, LW004 (409) incompatible.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
SELECT lowcode.create_tenant('bi-wf') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-wf'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_workflow('bi.flow', '{"initial": "a", "states": {"a": {"on": {"go": {"target": "b", "guard": "self.n > 0"}}}, "b": {"type": "final"}}}') AS registered;
CREATE TABLE bi_wf (id int PRIMARY KEY, state text, n int DEFAULT 0, tenant_id uuid DEFAULT lowcode.current_tenant());
SELECT lowcode.attach_workflow('bi_wf', 'bi.flow') IS NULL AS attached;
INSERT INTO bi_wf (id) VALUES (1);
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
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
