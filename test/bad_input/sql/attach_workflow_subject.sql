-- Bad input for lowcode.attach_workflow_subject(subject text, workflow text): governs the tenant's submissions of a subject by a workflow.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LG001 bad subject name, LW001 bad workflow name, LW005 states that cannot be a status; PGRST LW002 (404) no such workflow.
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
SELECT lowcode.register_workflow('Caps', '{"initial": "Open", "states": {"Open": {}}}') AS caps;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.attach_workflow_subject(NULL, 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('', 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', '')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', 'no-such')::text$$),
  ($$SELECT lowcode.attach_workflow_subject(repeat('s', 10000000), 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', repeat('w', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s' || chr(0), 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', 'Caps')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
