-- Bad input for lowcode.get_schema(subject text, version integer).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, PGRST LG002 (404) no such subject, PGRST LG003
-- (404) no such version; integer input errors 22P02 / 22003; NULL version means the latest.
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
  ($$SELECT lowcode.get_schema(NULL)::text$$),
  ($$SELECT lowcode.get_schema('')::text$$),
  ($$SELECT lowcode.get_schema('1abc')::text$$),
  ($$SELECT lowcode.get_schema(repeat('x', 10000000))::text$$),
  ($$SELECT lowcode.get_schema('bi.form' || chr(0))::text$$),
  ($$SELECT lowcode.get_schema(convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.get_schema('bi.no-such-subject')::text$$),
  ($$SELECT lowcode.get_schema(42)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', NULL)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 0)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', -1)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 2)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 2147483647)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 2147483648)::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 'one')::text$$),
  ($$SELECT lowcode.get_schema('bi.form', '')::text$$),
  ($$SELECT lowcode.get_schema('bi.form', 1.5)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
