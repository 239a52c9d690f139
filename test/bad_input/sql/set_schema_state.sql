-- Bad input for lowcode.set_schema_state(subject text, version integer, state text).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, PGRST LG002 / LG003 (404) no such subject or
-- version, LG016 state not enabled, deprecated or disabled.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
SELECT lowcode.create_tenant('bi-reg') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-reg'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_schema('bi.form', '{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "x-rules": [{"rule": "a < 100", "message": "a is too big", "path": "/a"}]}') IS NOT NULL AS registered;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_schema_state(NULL, 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('', 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('1abc', 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state(repeat('x', 10000000), 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form' || chr(0), 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state(convert_from('\xff'::bytea, 'UTF8'), 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.no-such-subject', 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state(42, 1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', NULL, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 0, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', -1, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 2, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 2147483647, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 2147483648, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 'one', 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', '', 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1.5, 'deprecated')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, NULL)::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, '')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, 'DISABLED')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, 'deleted')::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, repeat('s', 10000000))::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, 'enabled' || chr(0))::text$$),
  ($$SELECT lowcode.set_schema_state('bi.form', 1, true)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT state FROM lowcode.schema_versions WHERE subject = 'bi.form';
ROLLBACK;
