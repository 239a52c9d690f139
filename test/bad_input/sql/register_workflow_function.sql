-- Bad input for lowcode.register_workflow_function(name text, fn regprocedure): operator only, lets "call" actions call fn(jsonb) RETURNS jsonb.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LW005 bad name or signature; regprocedure input 42883/42704.
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
  ($$SELECT lowcode.register_workflow_function(NULL, 'lower(text)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', NULL)::text$$),
  ($$SELECT lowcode.register_workflow_function('', 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('1f', 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function(repeat('f', 10000000), 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'lower(text)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'jsonb_each(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'no_such(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 0::oid::regprocedure)::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'jsonb_set(jsonb, text[], jsonb, boolean)')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
