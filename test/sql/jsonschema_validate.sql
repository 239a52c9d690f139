-- JSON Schema: the validation functions, error shapes, options, locales.
SET client_min_messages = warning;
RESET client_min_messages;
\set VERBOSITY terse

-- jsonschema_is_valid: the contract
SELECT p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.oid = 'lowcode.jsonschema_is_valid(jsonb,jsonb)'::regprocedure;
SELECT lowcode.jsonschema_is_valid('{"type": "string", "minLength": 2}', '"ab"') AS ok,
       lowcode.jsonschema_is_valid('{"type": "string", "minLength": 2}', '"a"') AS too_short,
       lowcode.jsonschema_is_valid('{"type": "string"}', NULL) AS strict_null;

-- lengths count code points, not bytes
SELECT lowcode.jsonschema_is_valid('{"maxLength": 2}', '"汉字"') AS two_code_points,
       lowcode.jsonschema_is_valid('{"minLength": 3}', '"😀😀"') AS two_emoji;

-- JSON equality: 1 equals 1.0, objects regardless of key order
SELECT lowcode.jsonschema_is_valid('{"const": 1}', '1.0') AS int_float,
       lowcode.jsonschema_is_valid('{"enum": [{"a": [1, 2], "b": null}]}', '{"b": null, "a": [1.00, 2]}') AS deep,
       lowcode.jsonschema_is_valid('{"uniqueItems": true}', '[1, 1.0]') AS unique_int_float,
       lowcode.jsonschema_is_valid('{"type": "integer"}', '3.0') AS integer_3_0;

-- multipleOf is exact (numeric, not double)
SELECT lowcode.jsonschema_is_valid('{"multipleOf": 0.01}', '19.99') AS cents,
       lowcode.jsonschema_is_valid('{"multipleOf": 0.1}', '0.3') AS tenths,
       lowcode.jsonschema_is_valid('{"multipleOf": 0.01}', '19.999') AS not_cents,
       lowcode.jsonschema_is_valid('{"multipleOf": 0.5}', '1e308') AS huge;

-- drafts chosen by $schema (2020-12 by default)
SELECT lowcode.jsonschema_is_valid('{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]}', '[1]') AS draft7_tuple,
       lowcode.jsonschema_is_valid('{"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5, "exclusiveMaximum": true}', '5') AS draft4_exclusive,
       lowcode.jsonschema_is_valid('{"prefixItems": [{"type": "string"}], "items": false}', '["a", "b"]') AS prefix_items;

-- draft 4 tells 1.0 from 1; later drafts do not
SELECT lowcode.jsonschema_is_valid('{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}', '1.0') AS draft4_float,
       lowcode.jsonschema_is_valid('{"$schema": "http://json-schema.org/draft-07/schema#", "type": "integer"}', '1.0') AS draft7_float;

-- dynamic references: the outermost $dynamicAnchor wins
SELECT lowcode.jsonschema_is_valid(
  '{"$id": "https://example.com/root", "$ref": "list", "$defs": {
      "item": {"$dynamicAnchor": "item", "type": "string"},
      "list": {"$id": "list", "type": "array", "items": {"$dynamicRef": "#item"},
               "$defs": {"item": {"$dynamicAnchor": "item"}}}}}', '["a", 1]') AS dynamic_ref_extended,
  lowcode.jsonschema_is_valid(
  '{"$id": "https://example.com/list", "type": "array", "items": {"$dynamicRef": "#item"},
    "$defs": {"item": {"$dynamicAnchor": "item"}}}', '["a", 1]') AS dynamic_ref_alone;

-- in 2020-12 (the default) "items" is one schema, not an array
SELECT lowcode.jsonschema_is_valid('{"items": [{"type": "string"}]}', '[1]');

-- jsonschema_validate: both output shapes in each error
SELECT jsonb_pretty(lowcode.jsonschema_validate(
  '{"type": "object", "properties": {"email": {"type": "string", "pattern": "@"}, "age": {"type": "integer", "minimum": 18}},
    "required": ["email", "name"], "additionalProperties": false}',
  '{"email": "nobody", "age": 16, "extra": true}'));

-- through a $ref: absoluteKeywordLocation appears
SELECT e->>'keywordLocation' AS keyword_location, e->>'absoluteKeywordLocation' AS absolute, e->>'schemaPath' AS schema_path
FROM jsonb_array_elements(lowcode.jsonschema_validate(
  '{"$id": "https://example.com/person", "$defs": {"name": {"type": "string", "maxLength": 3}}, "properties": {"n": {"$ref": "#/$defs/name"}}}',
  '{"n": "abcdef"}')->'errors') e;

-- pointer escaping of ~ and /
SELECT e->>'instanceLocation' AS instance_location, e->>'keywordLocation' AS keyword_location
FROM jsonb_array_elements(lowcode.jsonschema_validate(
  '{"properties": {"~a/b": {"type": "number"}}}', '{"~a/b": "x"}')->'errors') e;

-- params of each keyword (ajv shape)
SELECT e->>'keyword' AS keyword, e->'params' AS params, e->>'message' AS message
FROM (VALUES
  ('{"minItems": 2}'::jsonb, '[1]'::jsonb),
  ('{"maxProperties": 1}', '{"a": 1, "b": 2}'),
  ('{"exclusiveMinimum": 0}', '0'),
  ('{"maximum": 10}', '11'),
  ('{"multipleOf": 3}', '7'),
  ('{"enum": ["a", "b"]}', '"c"'),
  ('{"const": {"x": 1}}', '{"x": 2}'),
  ('{"uniqueItems": true}', '[1, 2, 1]'),
  ('{"contains": {"type": "string"}, "minContains": 2}', '["a", 1]'),
  ('{"dependentRequired": {"card": ["billing"]}}', '{"card": 1}'),
  ('{"propertyNames": {"maxLength": 2}}', '{"abc": 1}'),
  ('{"not": {"type": "number"}}', '1'),
  ('{"anyOf": [{"type": "string"}, {"type": "boolean"}]}', '1'),
  ('{"oneOf": [{"type": "number"}, {"minimum": 0}]}', '1'),
  ('{"if": {"minimum": 10}, "then": {"multipleOf": 5}}', '12'),
  ('{"unevaluatedProperties": false, "properties": {"a": true}}', '{"a": 1, "b": 2}'),
  ('false', '1')
) AS t(schema, instance),
LATERAL jsonb_array_elements(lowcode.jsonschema_validate(t.schema, t.instance)->'errors') e;

-- options: output flag, max_errors, locale
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"output": "flag"}') AS flag;
SELECT lowcode.jsonschema_validate('{"type": "string"}', '"x"') AS valid_default;
-- "basic": the 2020-12 format strictly: a valid result carries annotations, not errors
SELECT jsonb_pretty(lowcode.jsonschema_validate(
  '{"$id": "https://example.com/form", "title": "Form", "properties": {"name": {"type": "string", "readOnly": true, "default": "n/a"}}}',
  '{"name": "x"}', '{"output": "basic"}')) AS valid_basic;
SELECT lowcode.jsonschema_validate('{"title": "T", "type": "string"}', '1', '{"output": "basic"}') ? 'annotations' AS invalid_has_annotations;
SELECT jsonb_array_length(lowcode.jsonschema_validate('{"items": {"type": "string"}}', '[1, 2, 3, 4]')->'errors') AS all_errors,
       jsonb_array_length(lowcode.jsonschema_validate('{"items": {"type": "string"}}', '[1, 2, 3, 4]', '{"max_errors": 2}')->'errors') AS two_errors;
SELECT e->>'message' AS message
FROM jsonb_array_elements(lowcode.jsonschema_validate(
  '{"required": ["email"], "properties": {"age": {"minimum": 18}, "name": {"maxLength": 2}}}',
  '{"age": 3, "name": "abc"}', '{"locale": "zh-CN"}')->'errors') e;
SET lowcode.locale = 'zh-CN';
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1')->'errors'->0->>'message' AS guc_locale;
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"locale": "en"}')->'errors'->0->>'message' AS option_overrides_guc;
RESET lowcode.locale;
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"locale": "it"}');
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"output": "verbose"}');
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"max_errors": -1}');
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '{"colour": "blue"}');
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1', '[]');
SELECT lowcode.jsonschema_validate('{"minimum": 1}', '0', '{"draft": "4"}')->'valid' AS draft_option;

-- usable in a CHECK constraint
CREATE TABLE js_orders (doc jsonb CHECK (lowcode.jsonschema_is_valid(
  '{"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}}}', doc)));
INSERT INTO js_orders VALUES ('{"qty": 2}');
INSERT INTO js_orders VALUES ('{"qty": 0}');
SELECT count(*) FROM js_orders;
DROP TABLE js_orders;

-- a schema per row (not constant): each row gets its own compiled schema
SELECT s, i, lowcode.jsonschema_is_valid(s, i)
FROM (VALUES ('{"type": "string"}'::jsonb, '"a"'::jsonb), ('{"type": "number"}', '"a"'), ('{"type": "string"}', '1')) t(s, i);

-- many properties, few keys (binary search instead of a merge join)
WITH s AS (SELECT jsonb_build_object('properties', jsonb_object_agg('p' || g, jsonb_build_object('type', 'integer', 'maximum', g)),
                                     'additionalProperties', false) AS schema
           FROM generate_series(1, 100) g)
SELECT lowcode.jsonschema_is_valid(schema, '{"p7": 7, "p50": 3}') AS ok,
       lowcode.jsonschema_is_valid(schema, '{"p7": 8, "p50": 3}') AS p7_too_big,
       lowcode.jsonschema_is_valid(schema, '{"p7": 7, "p500": 3}') AS unknown_key,
       lowcode.jsonschema_validate(schema, '{"p1": 1, "p99": 100, "q": 0}')->'errors' AS errors
FROM s;

-- jsonschema_check: the schema against its metaschema, and compilation
SELECT lowcode.jsonschema_check('{"type": "object", "properties": {"a": {"minLength": 1}}}') AS good;
SELECT e->>'instanceLocation' AS at, e->>'keyword' AS keyword, e->>'message' AS message
FROM jsonb_array_elements(lowcode.jsonschema_check('{"type": "object", "properties": {"a": {"minLength": -1}}}')->'errors') e;
SELECT e->>'instanceLocation' AS at, e->'params' AS params, e->>'message' AS message
FROM jsonb_array_elements(lowcode.jsonschema_check('{"pattern": "(unclosed"}')->'errors') e;
SELECT e->'params' AS params, e->>'message' AS message
FROM jsonb_array_elements(lowcode.jsonschema_check('{"$ref": "#/$defs/missing"}')->'errors') e;
SELECT lowcode.jsonschema_check('{"$schema": "http://json-schema.org/draft-04/schema#", "exclusiveMinimum": 3}')->'valid' AS draft4_boolean_expected;

-- one PL/pgSQL call site, the schema in a variable that changes: each call
-- uses its own schema (a Param is not a constant of the call site)
CREATE FUNCTION pg_temp.each_schema() RETURNS text LANGUAGE plpgsql AS $$
DECLARE s jsonb; r text := '';
BEGIN
    FOREACH s IN ARRAY ARRAY['{"type": "string"}', '{"type": "integer"}', '{"type": "string"}']::jsonb[] LOOP
        r := r || lowcode.jsonschema_is_valid(s, '3')::text || ' ' ||
             (lowcode.jsonschema_validate(s, '3', '{"output": "flag"}')->>'valid') || '; ';
    END LOOP;
    RETURN r;
END $$;
SELECT pg_temp.each_schema();
-- draft 4 named by $schema (not by the draft option): the root "id" is the
-- base URI, and an embedded "id" names a resource that "$ref" finds
SELECT lowcode.jsonschema_is_valid(s, '{"p": 3}') AS int_valid, lowcode.jsonschema_is_valid(s, '{"p": "x"}') AS string_valid
FROM (SELECT '{"$schema": "http://json-schema.org/draft-04/schema#", "id": "http://x.example/a.json",
               "properties": {"p": {"$ref": "c.json"}},
               "definitions": {"c": {"id": "c.json", "type": "integer"}}}'::jsonb AS s) x;
-- references are resolved where validation can reach them (as ajv): a broken
-- reference or a cycle in an unused definition is a warning of
-- jsonschema_check, not an error; reached, it is the error it always was
-- (a cycle: entered by validation)
SELECT lowcode.jsonschema_is_valid(s, '{"a": 1}') AS unused_broken_ok,
       lowcode.jsonschema_check(s) AS check_warns
FROM (SELECT '{"properties": {"a": {"type": "integer"}},
               "$defs": {"broken": {"$ref": "#/$defs/nowhere"}, "loop": {"$ref": "#/$defs/loop"},
                         "ext": {"$ref": "https://unknown.example/x.json"}}}'::jsonb AS s) x;
SELECT lowcode.jsonschema_is_valid('{"properties": {"a": {"$ref": "#/$defs/broken"}}, "$defs": {"broken": {"$ref": "#/$defs/nowhere"}}}', '{}') AS reachable_broken;
-- a cycle under "properties" is entered only by instances with that property
SELECT lowcode.jsonschema_is_valid('{"properties": {"a": {"$ref": "#/$defs/loop"}}, "$defs": {"loop": {"$ref": "#/$defs/loop"}}}', '{}') AS loop_not_entered;
SELECT lowcode.jsonschema_is_valid('{"properties": {"a": {"$ref": "#/$defs/loop"}}, "$defs": {"loop": {"$ref": "#/$defs/loop"}}}', '{"a": 1}') AS loop_entered;
-- one every validation enters is a compile error
SELECT lowcode.jsonschema_is_valid('{"allOf": [{"$ref": "#/$defs/loop"}], "$defs": {"loop": {"$ref": "#/$defs/loop"}}}', '{}') AS loop_always;
SELECT lowcode.jsonschema_check('{"properties": {"a": {"$ref": "#/$defs/broken"}}, "$defs": {"broken": {"$ref": "#/$defs/nowhere"}}}')->'errors'->0->>'message' AS check_error;
-- ajv_compat: ajv's answers where it extends a draft (const in draft 4,
-- siblings of $ref up to draft 7); without it, the spec's
SELECT o AS options,
       lowcode.jsonschema_validate('{"$schema": "http://json-schema.org/draft-04/schema#", "const": 1}', '2', o)->'valid' AS draft4_const,
       lowcode.jsonschema_validate('{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"s": {"type": "string"}},
                                    "$ref": "#/definitions/s", "maxLength": 2}', '"abc"', o)->'valid' AS draft7_ref_sibling
FROM (VALUES ('{}'::jsonb), ('{"ajv_compat": true}'), ('{"ajv_compat": false}')) v(o);
SELECT lowcode.jsonschema_validate('{}', '1', '{"ajv_compat": 1}');
-- numbers read in place: integers, fractions, signs, big and tiny values
SELECT n, lowcode.jsonschema_is_valid('{"type": "integer"}', n) AS is_int,
       lowcode.jsonschema_is_valid('{"minimum": -5, "maximum": 10000}', n) AS in_range,
       lowcode.jsonschema_is_valid('{"exclusiveMinimum": 9999.5}', n) AS above_9999_5
FROM unnest(ARRAY['0', '-0', '1.0', '-5', '-5.0001', '10000', '10000.0001', '9999.9', '1e2', '1.5e1',
                  '12345678901234567890', '-0.000001', '1e-20', '1e20', '-10000000000000000']::jsonb[]) n;

-- ajv's shape (issue 15, test/t/321 compares with ajv itself): type arrays, contains, schemaPath through $ref
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.jsonschema_validate('{"type": ["string", "null", "string"]}', '1') -> 'errors') e;
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.jsonschema_validate(
    '{"contains": {"const": 1}, "minContains": 1, "maxContains": 1}', '[2, 1, 3, 1, 4]') -> 'errors') e;
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params
  FROM jsonb_array_elements(lowcode.jsonschema_validate('{"contains": {"minimum": 5}}', '[1, 2]') -> 'errors') e;
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params
  FROM jsonb_array_elements(lowcode.jsonschema_validate('{"contains": {"minimum": 5}, "minContains": 3, "maxContains": 2}', '[9]') -> 'errors') e;
SELECT lowcode.jsonschema_validate('{"contains": {"minimum": 5}, "minContains": 0}', '[1]') ->> 'valid' AS min0_asks_nothing,
       lowcode.jsonschema_validate('{"contains": {"minimum": 5}}', '[1, 7]') -> 'errors' AS found_no_item_errors;
-- $ref: inlined targets start with the $ref as written, chains of bare $refs are one step,
-- targets holding references start at "#", anchors and names are ajv's
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword
  FROM jsonb_array_elements(lowcode.jsonschema_validate($${
    "$defs": {"a": {"type": "integer"}, "b": {"$ref": "#/$defs/a"}, "c": {"$ref": "#/$defs/b", "title": "c"},
              "anch": {"$anchor": "n", "type": "string"}, "tree": {"properties": {"next": {"$ref": "#/$defs/tree"}, "v": {"type": "number"}}},
              "withref": {"properties": {"x": {"$ref": "#/$defs/a"}, "y": {"type": "boolean"}}}},
    "properties": {"p": {"$ref": "#/$defs/c"}, "q": {"$ref": "#n"}, "r": {"$ref": "#/$defs/tree"},
                   "s": {"$ref": "#/$defs/withref"}, "foo\tbar": {"type": "null"}, "$ref": {"type": "null"}},
    "patternProperties": {"^[0-9]{2,}$": {"type": "null"}},
    "items": false}$$,
    '{"p": "x", "q": 1, "r": {"next": {"v": "no"}}, "s": {"x": "no", "y": 1}, "foo\tbar": 1, "$ref": 1, "123": 1}') -> 'errors') e
 ORDER BY 1, 2;
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params
  FROM jsonb_array_elements(lowcode.jsonschema_validate('{"items": false}', '[1, 2]') -> 'errors') e;
SELECT e ->> 'instancePath' AS at, e ->> 'schemaPath' AS schema_path, e ->> 'keyword' AS keyword, e -> 'params' AS params
  FROM jsonb_array_elements(lowcode.jsonschema_validate('{"prefixItems": [{}], "items": false}', '[1, 2]') -> 'errors') e;
