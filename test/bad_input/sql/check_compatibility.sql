-- Bad input for lowcode.check_compatibility(subject text, schema jsonb).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1).
-- Documented (docs/errors.md): LG001 bad subject name, LG011 NULL schema, LG010 diff too complex.
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
  ($$SELECT (lowcode.check_compatibility(NULL, '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('', '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('1abc', '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('a b', '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.' || repeat('x', 200), '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility(repeat('x', 10000000), '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.é', '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form' || chr(0), '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility(convert_from('\xff'::bytea, 'UTF8'), '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.no-such-subject', '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility(42, '{}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', NULL)->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', '[]')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', '42')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', '{"type": "text"}')->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', jsonb_build_object('properties', pg_temp.many_keys(100000)))->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', (repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb)->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', jsonb_build_object('description', repeat('d', 10000000)))->>'compatible')::text$$),
  ($$SELECT (lowcode.check_compatibility('bi.form', '{"const": "\u0000"}')->>'compatible')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
