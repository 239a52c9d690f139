-- Bad input for lowcode.jsonschema_check(schema jsonb, options jsonb): reports a bad schema as data
-- (docs/jsonschema.md: valid false and the errors, a compile error with params.sqlstate); raises LJ007 for
-- bad options (docs/errors.md) and PostgreSQL's 22P02 / 22P05 / 54001 for JSON jsonb cannot hold.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.jsonschema_check(NULL)::text$$),
  ($$SELECT lowcode.jsonschema_check('{}', NULL)::text$$),
  ($$SELECT lowcode.jsonschema_check(NULL, NULL)::text$$),
  ($$SELECT lowcode.jsonschema_check('{}')::text$$),
  ($$SELECT lowcode.jsonschema_check('[]')::text$$),
  ($$SELECT lowcode.jsonschema_check('""')::text$$),
  ($$SELECT lowcode.jsonschema_check('null')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"type": "text"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"minLength": "3"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"$schema": "https://example.com/no-such-dialect"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"$ref": "#/definitions/missing"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"$ref": "#"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"pattern": "("}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"pattern": "\\ud800"}')::text$$),
  ($$SELECT lowcode.jsonschema_check(('{"pattern": "' || repeat('(', 10000) || 'a' || repeat(')', 10000) || '"}')::jsonb)::text$$),
  ($$SELECT lowcode.jsonschema_check(('{"pattern": "' || repeat('a', 1000000) || '"}')::jsonb)::text$$),
  ($$SELECT jsonb_array_length(lowcode.jsonschema_check(jsonb_build_object('properties', pg_temp.many_keys(100000)), '{"max_errors": 10}')->'errors')::text$$),
  ($$SELECT lowcode.jsonschema_check(jsonb_build_object('enum', pg_temp.big_array(1000000)))::text$$),
  ($$SELECT lowcode.jsonschema_check(jsonb_build_object('description', repeat('d', 10000000)))::text$$),
  ($$SELECT lowcode.jsonschema_check((repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb)::text$$),
  ($$SELECT lowcode.jsonschema_check((repeat('{"not": ', 10000) || '{}' || repeat('}', 10000))::jsonb)::text$$),
  ($$SELECT lowcode.jsonschema_check(jsonb_build_object('const', pg_temp.deep_array(10000)))::text$$),
  ($$SELECT lowcode.jsonschema_check('{"const": "\ud800"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{"const": "\u0000"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{}', '[]')::text$$),
  ($$SELECT lowcode.jsonschema_check('{}', '{"output": "nope"}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{}', '{"no_such_option": true}')::text$$),
  ($$SELECT lowcode.jsonschema_check('{}', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.jsonschema_check('not json')::text$$),
  ($$SELECT lowcode.jsonschema_check(42)::text$$),
  ($$SELECT lowcode.jsonschema_check(convert_from('\xff'::bytea, 'UTF8')::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
