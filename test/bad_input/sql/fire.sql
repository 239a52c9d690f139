-- Bad input for lowcode.fire(record jsonb, event text, payload jsonb DEFAULT '{}'): fires an event on a record governed by a workflow.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW005 bad record reference, event name or payload; PGRST LW404 (404) no such record or instance, LW409 (409) event not allowed, LW422 (422) guard refused.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
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
