-- JSON Schema: invalid schemas and hostile input give clear errors with
-- documented SQLSTATEs (class LJ), never a crash.
SET client_min_messages = warning;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(schema jsonb, instance jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN lowcode.jsonschema_is_valid(schema, instance)::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || left(SQLERRM, 200);
END $$;

-- wrong types of keyword values
SELECT pg_temp.try('[]');
SELECT pg_temp.try('"string"');
SELECT pg_temp.try('{"type": "text"}');
SELECT pg_temp.try('{"properties": {"a": {"minLength": "3"}}}');
SELECT pg_temp.try('{"properties": {"a": {"maxItems": 1.5}}}');
SELECT pg_temp.try('{"multipleOf": 0}');
SELECT pg_temp.try('{"required": "a"}');
SELECT pg_temp.try('{"required": ["a", 1]}');
SELECT pg_temp.try('{"allOf": []}');
SELECT pg_temp.try('{"anyOf": {}}');
SELECT pg_temp.try('{"$ref": 5}');
SELECT pg_temp.try('{"$defs": {"a": {"enum": 3}}, "$ref": "#/$defs/a"}');
-- unknown $schema
SELECT pg_temp.try('{"$schema": "https://example.com/unknown-dialect"}');
-- regular expressions that do not compile
SELECT pg_temp.try('{"pattern": "(a"}');
SELECT pg_temp.try('{"patternProperties": {"[z-a]": true}}');
-- unresolvable references
SELECT pg_temp.try('{"$ref": "#/definitions/nope"}');
SELECT pg_temp.try('{"$ref": "#nope"}');
SELECT pg_temp.try('{"$ref": "https://nowhere.example/schema.json"}');
-- reference cycles that never reach the instance
SELECT pg_temp.try('{"$ref": "#"}');
SELECT pg_temp.try('{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}');
SELECT pg_temp.try('{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"a": {"not": {"$ref": "#/definitions/a"}}}, "$ref": "#/definitions/a"}');
-- recursion through the instance is fine
SELECT pg_temp.try('{"properties": {"child": {"$ref": "#"}}, "required": ["name"]}', '{"name": 1, "child": {"name": 2, "child": {}}}');

-- 10,000 levels: instance, schema
SELECT pg_temp.try('{"items": {"$ref": "#"}}', (repeat('[', 10000) || repeat(']', 10000))::jsonb);
SELECT pg_temp.try('{"items": {"$ref": "#"}}', (repeat('[', 1000) || repeat(']', 1000))::jsonb);
SELECT pg_temp.try((repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb, '[]');
SELECT pg_temp.try((repeat('{"not": ', 10000) || '{}' || repeat('}', 10000))::jsonb, '1');
SELECT length(lowcode.jsonschema_validate('{"items": {"$ref": "#"}}', (repeat('[', 1500) || '1' || repeat(']', 1500))::jsonb)::text) > 0 AS deep_valid;

-- a cycle through $dynamicRef is found when compiling too
SELECT pg_temp.try('{"$dynamicAnchor": "x", "$defs": {"d": {"$dynamicAnchor": "x", "$dynamicRef": "#x"}}, "$ref": "#/$defs/d"}', '1');

-- cancellation: a long validation answers to statement_timeout
SET statement_timeout = '200ms';
SELECT lowcode.jsonschema_is_valid('{"items": {"uniqueItems": true}}',
  (SELECT jsonb_agg(x) FROM (SELECT jsonb_agg(g) x FROM generate_series(1, 20000) g, generate_series(1, 30)) s));
RESET statement_timeout;

-- jsonschema_validate raises the same errors for a bad schema
SELECT lowcode.jsonschema_validate('{"minimum": "1"}', '1');
SELECT lowcode.jsonschema_validate('{"$ref": "#/x"}', '1', '{"output": "flag"}');

