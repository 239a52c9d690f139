-- The context of the workflow files of the bad-input catalogue: one transaction (the file rolls it back),
-- a tenant bi-wf and its claims, a workflow bi.flow (version 1: a -go-> b, guarded by self.n > 0) attached
-- to a table bi_wf with one record (id 1, state a, n 0), and the row counts before the calls.
BEGIN;
SELECT lowcode.create_tenant('bi-wf') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-wf'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_workflow('bi.flow', '{"initial": "a", "states": {"a": {"on": {"go": {"target": "b", "guard": "self.n > 0"}}}, "b": {"type": "final"}}}') AS registered;
CREATE TABLE bi_wf (id int PRIMARY KEY, state text, n int DEFAULT 0, tenant_id uuid DEFAULT lowcode.current_tenant());
SELECT lowcode.attach_workflow('bi_wf', 'bi.flow') IS NULL AS attached;
INSERT INTO bi_wf (id) VALUES (1);
SELECT lowcode.register_workflow('Caps', '{"initial": "Open", "states": {"Open": {}}}') AS caps;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
