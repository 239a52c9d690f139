-- Bad input for lowcode.validate(subject text, data jsonb, version integer).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, PGRST LG002 / LG003 (404), PGRST LG012 (422) data
-- that does not validate (x-rules included); PostgreSQL's 22P02 / 22P05 / 54001 for JSON jsonb cannot hold.
-- A NULL subject or instance answers NULL (docs/registry.md).
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
  ($$SELECT (lowcode.validate(NULL, '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('', '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('1abc', '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate(repeat('x', 10000000), '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form' || chr(0), '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate(convert_from('\xff'::bytea, 'UTF8'), '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.no-such-subject', '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate(42, '{}')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', NULL)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 0)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', -1)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 2)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 2147483647)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 2147483648)->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 'one')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', '')->>'valid')::text$$),
  ($$SELECT (lowcode.validate('bi.form', '{}', 1.5)->>'valid')::text$$),
  ($$SELECT lowcode.validate('bi.form', NULL)::text$$),
  ($$SELECT lowcode.validate('bi.form', '[]')::text$$),
  ($$SELECT lowcode.validate('bi.form', '""')::text$$),
  ($$SELECT lowcode.validate('bi.form', '{"a": "x"}')::text$$),
  ($$SELECT lowcode.validate('bi.form', '{"a": 1000}')::text$$),
  ($$SELECT lowcode.validate('bi.form', jsonb_build_object('a', 1, 'big', repeat('b', 10000000)))::text$$),
  ($$SELECT lowcode.validate('bi.form', pg_temp.many_keys(100000) || '{"a": "x"}')::text$$),
  ($$SELECT lowcode.validate('bi.form', jsonb_build_object('a', 'x', 'd', pg_temp.deep_array(10000)))::text$$),
  ($$SELECT lowcode.validate('bi.form', jsonb_build_object('l', pg_temp.big_array(1000000), 'a', 'x'))::text$$),
  ($$SELECT lowcode.validate('bi.form', ('{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}')::jsonb)::text$$),
  ($$SELECT lowcode.validate('bi.form', '{"a": "\ud800"}')::text$$),
  ($$SELECT lowcode.validate('bi.form', '{"a": "\u0000"}')::text$$),
  ($$SELECT lowcode.validate('bi.form', '{"a": 1}'::text)::text$$),
  ($$SELECT lowcode.validate('bi.form', convert_from('\xff'::bytea, 'UTF8')::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS submissions FROM lowcode.submissions WHERE subject = 'bi.form';
ROLLBACK;
