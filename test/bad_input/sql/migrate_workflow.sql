-- Bad input for lowcode.migrate_workflow(name text, from_version integer, to_version integer DEFAULT NULL): moves instances to a later version.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LW001 bad name, LW005 target not later; PGRST LW002/LW003 (404) no such workflow or version.
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
