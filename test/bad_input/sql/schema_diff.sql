-- Bad input for lowcode.schema_diff(old_schema jsonb, new_schema jsonb, refs jsonb): the compatibility
-- diff of two schemas.  STRICT: NULL answers NULL.  Documented (docs/errors.md): LG010 more than 500
-- levels of nesting or 1,000,000 comparison steps; PostgreSQL's 22P02 / 22P05 / 54001.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.schema_diff(NULL, '{}')::text$$),
  ($$SELECT lowcode.schema_diff('{}', NULL)::text$$),
  ($$SELECT lowcode.schema_diff('{}', '{}', NULL)::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{}', '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('[]', '[]'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('"a"', '42'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"type": 42}', '{"type": [[]]}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"properties": []}', '{"properties": "x"}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"$ref": "#/nope"}', '{"$ref": 42}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{}', '{}', '[]'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"$ref": "lowcode:x"}', '{}', '{"lowcode:x": 42}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"$ref": "#"}', '{"$ref": "#"}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"properties": {"a": {"$ref": "#"}}}', '{"properties": {"a": {"$ref": "#"}}}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(jsonb_build_object('properties', pg_temp.many_keys(100000)), '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(jsonb_build_object('properties', (SELECT jsonb_object_agg('k' || i, '{}'::jsonb) FROM generate_series(1, 100000) i)), '{"additionalProperties": false}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(jsonb_build_object('enum', pg_temp.big_array(1000000)), jsonb_build_object('enum', pg_temp.big_array(999999))))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(jsonb_build_object('description', repeat('d', 10000000)), '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff((repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb, (repeat('{"items": ', 10000) || '{"type": "string"}' || repeat('}', 10000))::jsonb))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff((repeat('{"not": ', 600) || '{}' || repeat('}', 600))::jsonb, '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(jsonb_build_object('const', pg_temp.deep_array(10000)), jsonb_build_object('const', pg_temp.deep_array(9999))))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"const": "\ud800"}', '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{"const": "\u0000"}', '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff('{}'::text, '{}'))::text$$),
  ($$SELECT jsonb_array_length(lowcode.schema_diff(convert_from('\xff'::bytea, 'UTF8')::jsonb, '{}'))::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
