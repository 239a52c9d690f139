-- Bad input for lowcode.attach_validation(tbl regclass, col name, subject text): validates a jsonb column
-- against a subject on every write.
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG015 missing or non-jsonb column, LG001 bad subject name; regclass input 42P01.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
SELECT lowcode.create_tenant('bi-reg') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-reg'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_schema('bi.form', '{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "x-rules": [{"rule": "a < 100", "message": "a is too big", "path": "/a"}]}') IS NOT NULL AS registered;
CREATE TABLE bi_av (id int, doc jsonb, note text);
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.attach_validation(NULL, 'doc', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', NULL, 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', NULL)::text$$),
  ($$SELECT lowcode.attach_validation(NULL, NULL, NULL)::text$$),
  ($$SELECT lowcode.attach_validation('', 'doc', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av_no_such', 'doc', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation(0::oid::regclass, 'doc', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation(42, 'doc', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', '', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'no_such_col', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'note', 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', repeat('c', 10000000), 'bi.form')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', '')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', '1abc')::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', repeat('x', 10000000))::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', 'bi.form' || chr(0))::text$$),
  ($$SELECT lowcode.attach_validation('bi_av', 'doc', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.attach_validation('pg_class', 'relname', 'bi.form')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'bi_av'::regclass;
ROLLBACK;
