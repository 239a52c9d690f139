-- Bad input for lowcode.register_schema(subject text, schema jsonb, description text).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1).
-- Documented (docs/errors.md): LG001 bad subject name; PGRST LG011 (422) invalid schema: not an object
-- or boolean, not a valid JSON Schema, bad x-rules; LG011 description over 10,000 characters;
-- PGRST LG004 incompatible; LG010 diff too complex.  An enum of 1,000,000 values is a valid schema:
-- accepted (it runs after the check).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
SELECT lowcode.create_tenant('bi-reg') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-reg'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_schema('bi.form', '{"type": "object", "properties": {"a": {"type": "integer"}}}') IS NOT NULL AS registered;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_schema(NULL, '{}')::text$$),
  ($$SELECT lowcode.register_schema('', '{}')::text$$),
  ($$SELECT lowcode.register_schema('1abc', '{}')::text$$),
  ($$SELECT lowcode.register_schema('a b', '{}')::text$$),
  ($$SELECT lowcode.register_schema('bi.' || repeat('x', 200), '{}')::text$$),
  ($$SELECT lowcode.register_schema(repeat('x', 10000000), '{}')::text$$),
  ($$SELECT lowcode.register_schema('bi.é', '{}')::text$$),
  ($$SELECT lowcode.register_schema('bi.form' || chr(0), '{}')::text$$),
  ($$SELECT lowcode.register_schema(convert_from('\xff'::bytea, 'UTF8'), '{}')::text$$),
  ($$SELECT lowcode.register_schema(42, '{}')::text$$),
  ($$SELECT lowcode.register_schema('bi.form', NULL)::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '[]')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '""')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', 'null')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"type": "text"}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"$ref": "lowcode:bi.no-such"}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"x-rules": 42}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"x-rules": [{"rule": "1 +"}]}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', ('{"x-rules": [{"rule": "' || repeat('(', 10000) || 'true' || repeat(')', 10000) || '"}]}')::jsonb)::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"x-rules": [{"nope": 1}]}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{}', repeat('d', 10001))::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{}', repeat('d', 10000000))::text$$),
  ($$SELECT lowcode.register_schema('bi.form', '{"type": "object", "properties": {"a": {"type": "string"}}}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', jsonb_build_object('properties', pg_temp.many_keys(100000)))::text$$),
  ($$SELECT lowcode.register_schema('bi.new', (repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb)::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"const": "\ud800"}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{"const": "\u0000"}')::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{}', 'd' || chr(0))::text$$),
  ($$SELECT lowcode.register_schema('bi.new', '{}'::text)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_schema('bi.new', jsonb_build_object('enum', pg_temp.big_array(1000000)))::text$$)
) v(q);
SELECT count(*) AS versions FROM lowcode.schema_versions v WHERE v.subject LIKE 'bi.%';
ROLLBACK;
