-- JSON Schema: the fast path (src/jsonschema/js_fast.c) against the full
-- validator.  Every case is validated with lowcode.jsonschema_fast_path on,
-- off and check (check runs both and raises an internal error when they
-- disagree); the answers and the outputs of both must be the same.
SET client_min_messages = warning;
RESET client_min_messages;
\set VERBOSITY terse

SHOW lowcode.jsonschema_fast_path;

CREATE TEMP TABLE fast_cases (id int PRIMARY KEY, what text, schema jsonb, doc jsonb);
INSERT INTO fast_cases VALUES
-- lengths count code points, not bytes
(1, 'two 2-byte chars, maxLength 2', '{"type": "string", "maxLength": 2}', '"éé"'),
(2, 'three 2-byte chars, maxLength 2', '{"type": "string", "maxLength": 2}', '"ééé"'),
(3, 'three 3-byte chars, maxLength 3', '{"type": "string", "maxLength": 3}', '"日本語"'),
(4, 'four emoji (16 bytes), maxLength 4', '{"type": "string", "maxLength": 4}', '"😀😀😀😀"'),
(5, 'two emoji, minLength 3', '{"type": "string", "minLength": 3}', '"😀😀"'),
(6, 'mixed, minLength 3 maxLength 3', '{"minLength": 3, "maxLength": 3}', '"aé😀"'),
(7, 'empty string, minLength 1', '{"minLength": 1}', '""'),
(8, 'empty string, maxLength 0', '{"maxLength": 0}', '""'),
-- numerics: big scale, big weight, signs, zero
(10, 'minimum 0.1, just above', '{"minimum": 0.1}', '0.1000000000000000000000000000001'),
(11, 'minimum 0.1, just below', '{"minimum": 0.1}', '0.0999999999999999999999999999999'),
(12, 'maximum 1e20, equal', '{"maximum": 1e20}', '100000000000000000000'),
(13, 'maximum 1e20, a fraction above', '{"maximum": 1e20}', '100000000000000000000.00000000001'),
(14, 'exclusiveMinimum -1.5, equal', '{"exclusiveMinimum": -1.5}', '-1.50'),
(15, 'exclusiveMinimum -1.5, above', '{"exclusiveMinimum": -1.5}', '-1.4999999999999'),
(16, 'exclusiveMaximum 0, negative zero', '{"exclusiveMaximum": 0}', '-0'),
(17, 'minimum 0, -0.0', '{"minimum": 0}', '-0.0'),
(18, 'minimum -10000, -10000.0001', '{"minimum": -10000}', '-10000.0001'),
(19, 'maximum 9999.9999, 10000', '{"maximum": 9999.9999}', '10000'),
(20, 'multipleOf 0.01, 9.99', '{"multipleOf": 0.01}', '9.99'),
(21, 'multipleOf 0.01, 9.999', '{"multipleOf": 0.01}', '9.999'),
(22, 'multipleOf 3, 1e17', '{"multipleOf": 3}', '100000000000000000'),
(23, 'multipleOf 3, 123456789012345678901234567890', '{"multipleOf": 3}', '123456789012345678901234567890'),
-- type integer
(30, 'integer, 1.0', '{"type": "integer"}', '1.0'),
(31, 'integer, 1.5', '{"type": "integer"}', '1.5'),
(32, 'integer, 1e30', '{"type": "integer"}', '1e30'),
(33, 'integer, 12345678901234567890.000', '{"type": "integer"}', '12345678901234567890.000'),
(34, 'integer, -0.0', '{"type": "integer"}', '-0.0'),
(35, 'integer, 1e-30', '{"type": "integer"}', '1e-30'),
(36, 'draft 4 integer, 1.0', '{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}', '1.0'),
(37, 'draft 4 integer, 1', '{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}', '1'),
(38, 'integer or string, "1"', '{"type": ["integer", "string"]}', '"1"'),
-- nested arrays
(40, 'arrays of arrays of integers', '{"type": "array", "items": {"type": "array", "maxItems": 2, "items": {"type": "integer"}}}', '[[1, 2], [3], []]'),
(41, 'inner array too long', '{"type": "array", "items": {"type": "array", "maxItems": 2, "items": {"type": "integer"}}}', '[[1, 2], [1, 2, 3]]'),
(42, 'an array where an integer goes', '{"type": "array", "items": {"type": "array", "maxItems": 2, "items": {"type": "integer"}}}', '[[1, [2]]]'),
(43, 'prefixItems and items false', '{"prefixItems": [{"type": "string"}, {"type": "number"}], "items": false}', '["a", 1]'),
(44, 'prefixItems and items false, one more', '{"prefixItems": [{"type": "string"}, {"type": "number"}], "items": false}', '["a", 1, null]'),
(45, 'draft 7 items array, additionalItems', '{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}], "additionalItems": {"type": "integer"}}', '["a", 1, 2.5]'),
(46, 'contains, minContains 2', '{"contains": {"type": "integer"}, "minContains": 2}', '[1, "a", 2]'),
(47, 'contains, maxContains 1', '{"contains": {"type": "integer"}, "maxContains": 1}', '[1, "a", 2]'),
(48, 'uniqueItems, 1 and 1.0', '{"uniqueItems": true}', '[1, 1.0]'),
(49, 'uniqueItems, objects', '{"uniqueItems": true}', '[{"a": 1}, {"a": 1.00, "b": 2}]'),
-- keys: jsonb keeps the last of duplicates; order is length, then bytes
(50, 'duplicate key, last one a string', '{"properties": {"a": {"type": "string"}}, "additionalProperties": false}', '{"a": 1, "a": "x"}'),
(51, 'duplicate key, last one a number', '{"properties": {"a": {"type": "string"}}, "additionalProperties": false}', '{"a": "x", "a": 1}'),
(52, 'keys that differ by case', '{"properties": {"a": {}, "b": {}}, "additionalProperties": false}', '{"A": 1}'),
(53, 'a longer key sorting before', '{"properties": {"b": {}, "aa": {}}, "required": ["aa", "b"], "additionalProperties": false}', '{"aa": 1, "b": 2}'),
(54, 'a key with a trailing space', '{"properties": {"a": {}}, "required": ["a"], "additionalProperties": false}', '{"a ": 1}'),
(55, 'required not among properties', '{"properties": {"a": {}}, "required": ["a", "zz"]}', '{"a": 1, "zz": 2}'),
(56, 'required not among properties, missing', '{"properties": {"a": {}}, "required": ["a", "zz"]}', '{"a": 1}'),
(57, 'required listed twice', '{"properties": {"a": {}}, "required": ["a", "a"]}', '{"a": 1}'),
(58, 'unicode keys', '{"properties": {"名前": {"type": "string"}, "é": {"type": "integer"}}, "additionalProperties": false}', '{"é": 1, "名前": "x"}'),
(59, 'additionalProperties a schema', '{"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}', '{"a": "x", "b": 1, "c": "y"}'),
(60, 'patternProperties and additionalProperties false', '{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}', '{"x-a": "1", "x-b": "2"}'),
(61, 'patternProperties, a wrong value', '{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}', '{"x-a": 1}'),
(62, 'propertyNames maxLength', '{"propertyNames": {"maxLength": 3}}', '{"abc": 1, "abcd": 2}'),
(63, 'dependentRequired', '{"dependentRequired": {"a": ["b"]}}', '{"a": 1}'),
(64, 'dependentSchemas', '{"dependentSchemas": {"a": {"required": ["c"]}}}', '{"a": 1, "c": 2}'),
(65, 'many properties, few keys (binary search)', (SELECT jsonb_build_object('properties', jsonb_object_agg('p' || g, jsonb_build_object('type', 'integer')), 'additionalProperties', false) FROM generate_series(1, 40) g), '{"p7": 7, "p33": "x"}'),
(66, 'many properties, few keys, valid', (SELECT jsonb_build_object('properties', jsonb_object_agg('p' || g, jsonb_build_object('type', 'integer')), 'additionalProperties', false) FROM generate_series(1, 40) g), '{"p7": 7, "p33": 33}'),
(67, 'a required key missing, another of its length there', '{"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}', '{"town": "Hangzhou"}'),
(68, 'every required key there, with others', '{"required": ["b", "city"], "properties": {"city": {"type": "string"}, "b": {}}}', '{"a": 0, "b": 1, "city": "x", "town": "y"}'),
-- empty containers
(70, 'empty object, required', '{"type": "object", "required": ["a"]}', '{}'),
(71, 'empty object, additionalProperties false', '{"type": "object", "additionalProperties": false}', '{}'),
(72, 'empty array, minItems 1', '{"type": "array", "minItems": 1}', '[]'),
(73, 'empty array where an object goes', '{"type": "object"}', '[]'),
(74, 'empty object, minProperties 1', '{"minProperties": 1}', '{}'),
(75, 'an empty schema, anything', '{}', '{"a": [{}, [], null]}'),
(76, 'false schema', 'false', '{}'),
-- enum and const
(80, 'enum of scalars, 1.0', '{"enum": [1, "1", null, true]}', '1.0'),
(81, 'enum of scalars, "1"', '{"enum": [1, "1", null, true]}', '"1"'),
(82, 'enum of scalars, false', '{"enum": [1, "1", null, true]}', 'false'),
(83, 'enum with containers, [1.0]', '{"enum": [[1], {"a": 1}]}', '[1.0]'),
(84, 'enum with containers, {"a": 1.00}', '{"enum": [[1], {"a": 1}]}', '{"a": 1.00}'),
(85, 'const 0, -0', '{"const": 0}', '-0'),
(86, 'const 0, false', '{"const": 0}', 'false'),
(87, 'const "a", "a " ', '{"const": "a"}', '"a "'),
(88, 'const with 30 decimals', '{"const": 0.123456789012345678901234567890}', '0.12345678901234567890123456789'),
-- applicators, references
(90, 'anyOf, second', '{"anyOf": [{"type": "string"}, {"type": "integer"}]}', '3'),
(91, 'oneOf, both', '{"oneOf": [{"type": "number"}, {"type": "integer"}]}', '3'),
(92, 'not', '{"not": {"type": "null"}}', 'null'),
(93, 'if/then/else, else', '{"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"minimum": 5}}', '4'),
(94, 'allOf', '{"allOf": [{"minimum": 1}, {"maximum": 3}]}', '2'),
(95, 'recursive $ref, a tree', '{"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "additionalProperties": false}}, "$ref": "#/$defs/node"}', '{"v": 1, "kids": [{"v": 2, "kids": []}, {"v": 3, "kids": [{"v": 4}]}]}'),
(96, 'recursive $ref, a bad leaf', '{"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "additionalProperties": false}}, "$ref": "#/$defs/node"}', '{"v": 1, "kids": [{"v": 2, "kids": [{"v": "x"}]}]}'),
(97, 'draft 7 $ref ignores its siblings', '{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 1}}}', '{"a": "long"}'),
(98, 'unevaluatedProperties (the full validator)', '{"properties": {"a": {}}, "unevaluatedProperties": false}', '{"a": 1, "b": 2}'),
(99, 'unevaluatedProperties below a plan node', '{"properties": {"x": {"properties": {"a": {}}, "unevaluatedProperties": false}}}', '{"x": {"a": 1}}'),
(100, 'a tree deeper than the fast path goes', '{"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}', (SELECT (repeat('[', 80) || repeat(']', 80))::jsonb)),
-- scalar documents, the form of the benchmark
(110, 'a scalar document', '{"type": "string", "pattern": "^a"}', '"abc"'),
(111, 'a scalar document, no match', '{"type": "string", "pattern": "^a"}', '"bc"'),
(112, 'the form, valid', '{"type": "object", "required": ["name", "age"], "additionalProperties": false, "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 50}, "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}, "status": {"enum": ["draft", "submitted"]}, "items": {"type": "array", "items": {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}, "price": {"type": "number", "minimum": 0}}}}}}',
      '{"name": "Ann", "email": "ann@example.com", "age": 30, "status": "draft", "items": [{"qty": 1, "price": 9.99}, {"qty": 2}]}'),
(113, 'the form, a bad price', '{"type": "object", "required": ["name", "age"], "additionalProperties": false, "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 50}, "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}, "status": {"enum": ["draft", "submitted"]}, "items": {"type": "array", "items": {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}, "price": {"type": "number", "minimum": 0}}}}}}',
      '{"name": "Ann", "age": 30, "items": [{"qty": 1, "price": -0.01}]}'),
(114, 'the form, age 30.0', '{"type": "object", "properties": {"age": {"type": "integer", "minimum": 0, "maximum": 150}}}', '{"age": 30.0}');

-- the answers with the fast path, then without it
SET lowcode.jsonschema_fast_path = on;
CREATE TEMP TABLE fast_on AS
SELECT id, lowcode.jsonschema_is_valid(schema, doc) AS valid,
       lowcode.jsonschema_validate(schema, doc) AS out,
       lowcode.jsonschema_validate(schema, doc, '{"output": "flag"}') AS flag
FROM fast_cases;
SET lowcode.jsonschema_fast_path = off;
CREATE TEMP TABLE fast_off AS
SELECT id, lowcode.jsonschema_is_valid(schema, doc) AS valid,
       lowcode.jsonschema_validate(schema, doc) AS out,
       lowcode.jsonschema_validate(schema, doc, '{"output": "flag"}') AS flag
FROM fast_cases;
RESET lowcode.jsonschema_fast_path;

SELECT c.id, c.what, f.valid,
       f.valid = s.valid AND f.out = s.out AND f.flag = s.flag AS same_as_full
FROM fast_cases c JOIN fast_on f USING (id) JOIN fast_off s USING (id)
ORDER BY c.id;

-- check: both run on every case, an internal error if they disagree
SET lowcode.jsonschema_fast_path = 'check';
SELECT count(*) AS cases, count(*) FILTER (WHERE lowcode.jsonschema_is_valid(schema, doc)) AS valid
FROM fast_cases;
RESET lowcode.jsonschema_fast_path;

-- many objects in a row: the keys of the last object a schema saw are kept
-- (js_fast.c, FShape); same keys, other keys, a missing required key, a tree
-- whose nested objects are the same schema's
CREATE TEMP TABLE fast_rows AS
SELECT g, CASE g % 5
         WHEN 0 THEN jsonb_build_object('name', 'n' || g, 'age', g % 90)
         WHEN 1 THEN jsonb_build_object('name', 'n' || g, 'age', g % 90, 'tags', jsonb_build_array('a', 'b'))
         WHEN 2 THEN jsonb_build_object('name', 'n' || g, 'age', 'x')
         WHEN 3 THEN jsonb_build_object('nick', 'n' || g, 'age', g)
         ELSE jsonb_build_object('name', 'n' || g, 'age', g % 90, 'kids',
                                 jsonb_build_array(jsonb_build_object('name', 'k', 'age', 1),
                                                   jsonb_build_object('name', 'k', 'age', CASE WHEN g % 10 = 4 THEN 200 ELSE 2 END)))
       END AS doc
FROM generate_series(1, 300) g;
CREATE TEMP TABLE fast_schema AS SELECT '{"$defs": {"p": {"type": "object", "required": ["name", "age"], "additionalProperties": false,
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "maximum": 150},
                   "tags": {"type": "array", "items": {"type": "string"}}, "kids": {"type": "array", "items": {"$ref": "#/$defs/p"}}}}},
  "$ref": "#/$defs/p"}'::jsonb AS schema;
SET lowcode.jsonschema_fast_path = on;
CREATE TEMP TABLE rows_on AS SELECT g, lowcode.jsonschema_is_valid(schema, doc) AS valid FROM fast_rows, fast_schema;
SET lowcode.jsonschema_fast_path = off;
CREATE TEMP TABLE rows_off AS SELECT g, lowcode.jsonschema_is_valid(schema, doc) AS valid FROM fast_rows, fast_schema;
SET lowcode.jsonschema_fast_path = 'check';
SELECT count(*) AS docs, count(*) FILTER (WHERE lowcode.jsonschema_is_valid(schema, doc)) AS valid FROM fast_rows, fast_schema;
RESET lowcode.jsonschema_fast_path;
SELECT g % 5 AS shape, count(*) AS docs, count(*) FILTER (WHERE f.valid) AS valid,
       count(*) FILTER (WHERE f.valid IS DISTINCT FROM s.valid) AS differ
FROM rows_on f JOIN rows_off s USING (g) GROUP BY 1 ORDER BY 1;
DROP TABLE fast_rows, fast_schema, rows_on, rows_off;

-- format assertion follows the option, as the full validator
SELECT lowcode.jsonschema_validate('{"format": "email"}', '"not an email"', '{"output": "flag", "format": "assert"}') AS asserted,
       lowcode.jsonschema_validate('{"format": "email"}', '"not an email"', '{"output": "flag"}') AS annotated;

-- the errors of an invalid document are the full validator's
SELECT e->>'keyword' AS keyword, e->>'instanceLocation' AS at, e->>'message' AS message
FROM jsonb_array_elements(lowcode.jsonschema_validate(
       '{"type": "object", "properties": {"age": {"type": "integer", "maximum": 150}}, "additionalProperties": false}',
       '{"age": 151, "x": 1}') -> 'errors') e;

-- the setting takes on, off and check only
SET lowcode.jsonschema_fast_path = sometimes;
RESET lowcode.jsonschema_fast_path;

DROP TABLE fast_cases, fast_on, fast_off;
