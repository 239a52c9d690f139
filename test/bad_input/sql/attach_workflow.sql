-- Bad input for lowcode.attach_workflow(tbl regclass, workflow text, state_col name DEFAULT 'state', key_col name DEFAULT 'id'): governs a table by a workflow.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LW005 missing, non-text or non-unique columns, a system table; LW001 bad workflow name; 42501 not the owner; regclass input 42P01.
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
  ($$SELECT lowcode.attach_workflow(NULL, 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('no_such', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow(0::oid::regclass, 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('pg_class', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('lowcode.submissions', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', '')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'nope')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'n')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', 'state')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', 'n')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', repeat('c', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', repeat('w', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w' || chr(0))::text$$),
  ($$SELECT lowcode.attach_workflow(42, 'w')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
