-- Bad input for lowcode.jsonschema_is_valid(schema jsonb, instance jsonb).
-- STRICT: a NULL argument answers NULL (docs/jsonschema.md).  Documented (docs/errors.md): LJ001 invalid
-- schema, LJ002 unknown dialect, LJ003 bad pattern, LJ004 unresolved reference, LJ005 reference cycle,
-- LJ006 nesting too deep; PostgreSQL's 22P02 / 22P05 / 54001 for JSON jsonb cannot hold.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.jsonschema_is_valid(NULL, '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{}', NULL)::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(NULL, NULL)::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{}', '{}')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('[]', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('""', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('42', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('null', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"type": "text"}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"minLength": "3"}', '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"required": "a"}', '{}')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"allOf": []}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"multipleOf": 0}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"$schema": "https://example.com/no-such-dialect"}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"$ref": "#/definitions/missing"}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"$ref": "#"}', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"pattern": "("}', '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"pattern": "\\ud800"}', '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(('{"pattern": "' || repeat('(', 10000) || 'a' || repeat(')', 10000) || '"}')::jsonb, '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(('{"pattern": "' || repeat('a', 1000000) || '"}')::jsonb, '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"pattern": "^(a+)+$"}', to_jsonb(repeat('a', 100000) || 'b'))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"maxLength": 5}', to_jsonb(repeat('a', 10000000)))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"type": "string"}', to_jsonb(repeat('a', 10000000)))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(jsonb_build_object('properties', pg_temp.many_keys(100000)), '{}')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"maxProperties": 10}', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"additionalProperties": false}', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"uniqueItems": true}', pg_temp.big_array(1000000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"uniqueItems": true}', pg_temp.big_array(1000000) || '[500000.0]'::jsonb)::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"items": {"type": "integer"}}', pg_temp.big_array(1000000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(jsonb_build_object('enum', pg_temp.big_array(1000000)), '0')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid((repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb, '[]')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid((repeat('{"not": ', 10000) || '{}' || repeat('}', 10000))::jsonb, '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"items": {"$ref": "#"}}', pg_temp.deep_array(10000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"additionalProperties": {"$ref": "#"}}', pg_temp.deep_object(10000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"type": "array"}', pg_temp.deep_array(10000))::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"const": "\ud800"}', '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"const": "\u0000"}', '"a"')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"properties": {"\ud83d\ude00": {"type": "string"}}}', '{"\ud83d\ude00": 1}')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('not json', '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{"type": "string"}'::text, '1')::text$$),
  ($$SELECT lowcode.jsonschema_is_valid('{}', 42)::text$$),
  ($$SELECT lowcode.jsonschema_is_valid(convert_from('\xff'::bytea, 'UTF8')::jsonb, '1')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
