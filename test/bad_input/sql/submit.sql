-- Bad input for lowcode.submit(subject text, data jsonb, version integer).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, PGRST LG002 / LG003 (404), PGRST LG012 (422) data
-- that does not validate (x-rules included), 23502 NULL subject or data; PostgreSQL's 22P02 / 22P05 / 54001
-- for JSON jsonb cannot hold.  Valid data with a 10 MB value is stored: it runs after the check.
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
  ($$SELECT lowcode.submit(NULL, '{}')::text$$),
  ($$SELECT lowcode.submit('', '{}')::text$$),
  ($$SELECT lowcode.submit('1abc', '{}')::text$$),
  ($$SELECT lowcode.submit(repeat('x', 10000000), '{}')::text$$),
  ($$SELECT lowcode.submit('bi.form' || chr(0), '{}')::text$$),
  ($$SELECT lowcode.submit(convert_from('\xff'::bytea, 'UTF8'), '{}')::text$$),
  ($$SELECT lowcode.submit('bi.no-such-subject', '{}')::text$$),
  ($$SELECT lowcode.submit(42, '{}')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', NULL)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 0)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', -1)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 2)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 2147483647)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 2147483648)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 'one')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', '')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{}', 1.5)::text$$),
  ($$SELECT lowcode.submit('bi.form', NULL)::text$$),
  ($$SELECT lowcode.submit('bi.form', '[]')::text$$),
  ($$SELECT lowcode.submit('bi.form', '""')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{"a": "x"}')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{"a": 1000}')::text$$),
  ($$SELECT lowcode.submit('bi.form', pg_temp.many_keys(100000) || '{"a": "x"}')::text$$),
  ($$SELECT lowcode.submit('bi.form', jsonb_build_object('a', 'x', 'd', pg_temp.deep_array(10000)))::text$$),
  ($$SELECT lowcode.submit('bi.form', jsonb_build_object('l', pg_temp.big_array(1000000), 'a', 'x'))::text$$),
  ($$SELECT lowcode.submit('bi.form', ('{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}')::jsonb)::text$$),
  ($$SELECT lowcode.submit('bi.form', '{"a": "\ud800"}')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{"a": "\u0000"}')::text$$),
  ($$SELECT lowcode.submit('bi.form', '{"a": 1}'::text)::text$$),
  ($$SELECT lowcode.submit('bi.form', convert_from('\xff'::bytea, 'UTF8')::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT (lowcode.submit('bi.form', jsonb_build_object('a', 1, 'big', repeat('b', 10000000)))->>'status')::text$$)
) v(q);
SELECT count(*) AS submissions FROM lowcode.submissions WHERE subject = 'bi.form';
ROLLBACK;
