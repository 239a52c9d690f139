-- Bad input for lowcode.deprecate_schema(subject text, version integer): set_schema_state(..., 'deprecated').
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, PGRST LG002 / LG003 (404).
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
  ($$SELECT lowcode.deprecate_schema(NULL, 1)::text$$),
  ($$SELECT lowcode.deprecate_schema('', 1)::text$$),
  ($$SELECT lowcode.deprecate_schema('1abc', 1)::text$$),
  ($$SELECT lowcode.deprecate_schema(repeat('x', 10000000), 1)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form' || chr(0), 1)::text$$),
  ($$SELECT lowcode.deprecate_schema(convert_from('\xff'::bytea, 'UTF8'), 1)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.no-such-subject', 1)::text$$),
  ($$SELECT lowcode.deprecate_schema(42, 1)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', NULL)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 0)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', -1)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 2)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 2147483647)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 2147483648)::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 'one')::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', '')::text$$),
  ($$SELECT lowcode.deprecate_schema('bi.form', 1.5)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT state FROM lowcode.schema_versions WHERE subject = 'bi.form';
ROLLBACK;
