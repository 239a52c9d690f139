-- Bad input for lowcode.fire(record jsonb, event text, payload jsonb DEFAULT '{}'): fires an event on a record governed by a workflow.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-wf)
-- with one workflow bi.flow (version 1) attached to a table bi_wf that has one record (id 1, state a, n 0).
-- Documented (docs/errors.md): LW005 bad record reference, event name or payload; PGRST LW404 (404) no such record or instance, LW409 (409) event not allowed, LW422 (422) guard refused.
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
  ($$SELECT lowcode.fire(NULL, 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', NULL)::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go', NULL)::text$$),
  ($$SELECT lowcode.fire('{}', 'go')::text$$),
  ($$SELECT lowcode.fire('[]', 'go')::text$$),
  ($$SELECT lowcode.fire('"bi_wf"', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf"}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": null}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": {}}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": 42, "id": 1}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "", "id": 1}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "no_such", "id": 1}', 'go')::text$$),
  ($$SELECT lowcode.fire(jsonb_build_object('table', repeat('t', 10000000), 'id', 1), 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": "x"}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 2}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "pg_class", "id": 1}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"instance": -1}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"instance": 1e30}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"instance": "1"}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"submission": "abc"}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"submission": 99999}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', '')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go now')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', repeat('e', 10000000))::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go' || chr(0))::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'nope')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go', '[1]')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go', '"x"')::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go', pg_temp.deep_object(10000))::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 'go', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.fire('{"table": "bi_wf", "id": 1}', 42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
