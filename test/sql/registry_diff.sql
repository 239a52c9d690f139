-- The registry's compatibility diff, lowcode.schema_diff(old, new, refs):
-- every change type of docs/registry.md, in both directions.  Each row shows
-- the changes from old to new and from new to old as "type path flags",
-- flags B = backward compatible (old instances stay valid), F = forward
-- compatible (new instances were valid under the old schema).

CREATE FUNCTION pg_temp.fmt(o jsonb, n jsonb, refs jsonb DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(format('%s %s %s', c ->> 'type', nullif(c ->> 'path', ''),
                  CASE WHEN (c ->> 'backward')::boolean THEN 'B' ELSE '-' END ||
                  CASE WHEN (c ->> 'forward')::boolean THEN 'F' ELSE '-' END), '; ' ORDER BY ord), '(none)')
    FROM jsonb_array_elements(lowcode.schema_diff(o, n, refs)) WITH ORDINALITY AS d(c, ord)
$$;

CREATE TEMP TABLE cases (id serial, label text, old jsonb, new jsonb);
INSERT INTO cases (label, old, new) VALUES
  -- types
  ('type narrowed',             '{"type": ["string", "null"]}', '{"type": "string"}'),
  ('type widened int->number',  '{"type": "integer"}', '{"type": "number"}'),
  ('type changed',              '{"type": "string"}', '{"type": "number"}'),
  ('type added',                '{}', '{"type": "string"}'),
  ('type same set, reordered',  '{"type": ["null", "string"]}', '{"type": ["string", "null"]}'),
  -- properties and content models
  ('property added, open model',         '{"type": "object", "properties": {"a": {}}}',
                                         '{"type": "object", "properties": {"a": {}, "b": {"type": "string"}}}'),
  ('property added, open, unconstrained','{"properties": {"a": {}}}', '{"properties": {"a": {}, "b": {"title": "B"}}}'),
  ('property added, closed model',       '{"properties": {"a": {}}, "additionalProperties": false}',
                                         '{"properties": {"a": {}, "b": {"type": "string"}}, "additionalProperties": false}'),
  ('property added, partially open',     '{"additionalProperties": {"type": "string"}}',
                                         '{"properties": {"b": {"type": "string", "maxLength": 5}}, "additionalProperties": {"type": "string"}}'),
  ('property added, wider than additional', '{"additionalProperties": {"type": "string"}}',
                                         '{"properties": {"b": {"type": ["string", "null"]}}, "additionalProperties": {"type": "string"}}'),
  ('property added, patternProperties',  '{"patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}',
                                         '{"properties": {"x_a": {"type": "integer", "minimum": 0}}, "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}'),
  ('property added, unevaluatedProperties false', '{"properties": {"a": {}}, "unevaluatedProperties": false}',
                                         '{"properties": {"a": {}, "b": {}}, "unevaluatedProperties": false}'),
  ('pattern property added, closed',     '{"additionalProperties": false}',
                                         '{"patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false}'),
  ('pattern property schema changed',    '{"patternProperties": {"^x_": {"type": "string"}}}',
                                         '{"patternProperties": {"^x_": {"type": "string", "maxLength": 3}}}'),
  ('content model closed',               '{"properties": {"a": {}}}', '{"properties": {"a": {}}, "additionalProperties": false}'),
  ('additionalProperties schema widened', '{"additionalProperties": {"type": "integer"}}', '{"additionalProperties": {"type": "number"}}'),
  ('unevaluatedProperties closed',       '{"properties": {"a": {}}}', '{"properties": {"a": {}}, "unevaluatedProperties": false}'),
  ('propertyNames added',                '{}', '{"propertyNames": {"maxLength": 8}}'),
  ('nested property type narrowed',      '{"properties": {"a": {"properties": {"b": {"type": ["string", "integer"]}}}}}',
                                         '{"properties": {"a": {"properties": {"b": {"type": "string"}}}}}'),
  -- required
  ('required added',                     '{"properties": {"a": {}}}', '{"properties": {"a": {}}, "required": ["a"]}'),
  ('required added with default',        '{"properties": {"a": {"default": 1}}}', '{"properties": {"a": {"default": 1}}, "required": ["a"]}'),
  ('dependentRequired added',            '{}', '{"dependentRequired": {"a": ["b"]}}'),
  ('dependencies (draft 7) schema',      '{"dependencies": {"a": {"required": ["b"]}}}', '{"dependencies": {"a": {"required": ["b", "c"]}}}'),
  ('dependentSchemas added',             '{}', '{"dependentSchemas": {"a": {"required": ["b"]}}}'),
  -- allowed values
  ('enum extended',                      '{"enum": ["a", "b"]}', '{"enum": ["a", "b", "c"]}'),
  ('enum changed',                       '{"enum": ["a", "b"]}', '{"enum": ["a", "c"]}'),
  ('enum added',                         '{"type": "string"}', '{"type": "string", "enum": ["a"]}'),
  ('enum numbers, 1 equals 1.0',         '{"enum": [1, 2]}', '{"enum": [2.0, 1.0]}'),
  ('const added',                        '{}', '{"const": "x"}'),
  ('const changed',                      '{"const": "x"}', '{"const": "y"}'),
  ('const to enum with it',              '{"const": "x"}', '{"enum": ["x", "y"]}'),
  ('const to enum of one',               '{"const": "x"}', '{"enum": ["x"]}'),
  -- bounds
  ('minLength added',                    '{"type": "string"}', '{"type": "string", "minLength": 2}'),
  ('minLength tightened',                '{"minLength": 2}', '{"minLength": 3}'),
  ('maxLength tightened',                '{"maxLength": 10}', '{"maxLength": 5}'),
  ('maxLength added',                    '{}', '{"maxLength": 5}'),
  ('minimum tightened (decimal)',        '{"minimum": 0.5}', '{"minimum": 0.75}'),
  ('maximum loosened',                   '{"maximum": 10}', '{"maximum": 100}'),
  ('exclusiveMinimum added',             '{}', '{"exclusiveMinimum": 0}'),
  ('exclusiveMaximum tightened',         '{"exclusiveMaximum": 10}', '{"exclusiveMaximum": 9.99}'),
  ('minimum to exclusiveMinimum',        '{"minimum": 0}', '{"exclusiveMinimum": 0}'),
  ('draft 4 exclusiveMaximum boolean',   '{"maximum": 5, "exclusiveMaximum": false}', '{"maximum": 5, "exclusiveMaximum": true}'),
  ('multipleOf added',                   '{}', '{"multipleOf": 5}'),
  ('multipleOf tightened 5 -> 10',       '{"multipleOf": 5}', '{"multipleOf": 10}'),
  ('multipleOf decimals 0.01 -> 0.1',    '{"multipleOf": 0.01}', '{"multipleOf": 0.1}'),
  ('multipleOf changed 3 -> 5',          '{"multipleOf": 3}', '{"multipleOf": 5}'),
  ('pattern added',                      '{"type": "string"}', '{"type": "string", "pattern": "^[a-z]+$"}'),
  ('pattern changed',                    '{"pattern": "^[a-z]+$"}', '{"pattern": "^[a-z0-9]+$"}'),
  ('format added',                       '{"type": "string"}', '{"type": "string", "format": "email"}'),
  ('minItems added',                     '{"type": "array"}', '{"type": "array", "minItems": 1}'),
  ('maxItems loosened',                  '{"maxItems": 3}', '{"maxItems": 4}'),
  ('uniqueItems added',                  '{"type": "array"}', '{"type": "array", "uniqueItems": true}'),
  ('uniqueItems false is absent',        '{"uniqueItems": false}', '{}'),
  ('minProperties added',                '{}', '{"minProperties": 1}'),
  ('maxContains tightened',              '{"contains": {"type": "string"}, "maxContains": 3}', '{"contains": {"type": "string"}, "maxContains": 2}'),
  -- arrays
  ('items narrowed',                     '{"items": {"type": ["string", "number"]}}', '{"items": {"type": "string"}}'),
  ('items added',                        '{"type": "array"}', '{"type": "array", "items": {"type": "string"}}'),
  ('items closed after prefix',          '{"prefixItems": [{"type": "string"}]}', '{"prefixItems": [{"type": "string"}], "items": false}'),
  ('prefixItems position added, open',   '{"prefixItems": [{"type": "string"}]}', '{"prefixItems": [{"type": "string"}, {"type": "integer"}]}'),
  ('prefixItems position added, closed', '{"prefixItems": [{"type": "string"}], "items": false}',
                                         '{"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false}'),
  ('prefixItems position narrowed',      '{"prefixItems": [{"type": ["string", "null"]}]}', '{"prefixItems": [{"type": "string"}]}'),
  ('draft 7 tuple items',                '{"items": [{"type": "string"}], "additionalItems": false}',
                                         '{"items": [{"type": "string"}, {"type": "number"}], "additionalItems": false}'),
  ('contains added',                     '{"type": "array"}', '{"type": "array", "contains": {"const": 1}}'),
  ('contains widened',                   '{"contains": {"type": "integer"}}', '{"contains": {"type": "number"}}'),
  ('unevaluatedItems closed',            '{"prefixItems": [{}]}', '{"prefixItems": [{}], "unevaluatedItems": false}'),
  -- combinators
  ('anyOf extended',                     '{"anyOf": [{"type": "string"}]}', '{"anyOf": [{"type": "string"}, {"type": "null"}]}'),
  ('anyOf changed',                      '{"anyOf": [{"type": "string"}, {"type": "null"}]}', '{"anyOf": [{"type": "integer"}]}'),
  ('anyOf branch modified',              '{"anyOf": [{"type": "string"}, {"type": "integer", "maximum": 5}]}',
                                         '{"anyOf": [{"type": "string"}, {"type": "integer", "maximum": 9}]}'),
  ('anyOf reordered',                    '{"anyOf": [{"type": "string"}, {"type": "null"}]}', '{"anyOf": [{"type": "null"}, {"type": "string"}]}'),
  ('anyOf added',                        '{}', '{"anyOf": [{"type": "string"}, {"type": "null"}]}'),
  ('oneOf extended',                     '{"oneOf": [{"type": "string"}]}', '{"oneOf": [{"type": "string"}, {"type": "null"}]}'),
  ('allOf extended',                     '{"allOf": [{"minLength": 1}]}', '{"allOf": [{"minLength": 1}, {"maxLength": 9}]}'),
  ('allOf member tightened',             '{"allOf": [{"minLength": 1}]}', '{"allOf": [{"minLength": 2}]}'),
  ('not added',                          '{}', '{"not": {"type": "null"}}'),
  ('not narrowed (schema wider)',        '{"not": {"type": ["string", "null"]}}', '{"not": {"type": "null"}}'),
  ('not inside not',                     '{"not": {"not": {"minimum": 1}}}', '{"not": {"not": {"minimum": 2}}}'),
  -- conditionals
  ('if/then added',                      '{}', '{"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}'),
  ('then tightened',                     '{"if": {"required": ["a"]}, "then": {"required": ["b"]}}',
                                         '{"if": {"required": ["a"]}, "then": {"required": ["b", "c"]}}'),
  ('else removed',                       '{"if": {"required": ["a"]}, "then": {}, "else": {"required": ["b"]}}',
                                         '{"if": {"required": ["a"]}, "then": {}}'),
  ('if changed',                         '{"if": {"required": ["a"]}, "then": {"required": ["b"]}}',
                                         '{"if": {"required": ["c"]}, "then": {"required": ["b"]}}'),
  ('if without then/else added',         '{}', '{"if": {"required": ["a"]}}'),
  -- references
  ('local $ref target tightened',        '{"$defs": {"n": {"maxLength": 9}}, "properties": {"a": {"$ref": "#/$defs/n"}}}',
                                         '{"$defs": {"n": {"maxLength": 5}}, "properties": {"a": {"$ref": "#/$defs/n"}}}'),
  ('$ref to inlined, same content',      '{"$defs": {"n": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}',
                                         '{"properties": {"a": {"type": "string"}}}'),
  ('recursive schema',                   '{"$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}, "v": {"type": "integer"}}}}, "$ref": "#/$defs/node"}',
                                         '{"$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}, "v": {"type": "number"}}}}, "$ref": "#/$defs/node"}'),
  ('unresolvable $ref changed',          '{"$ref": "https://example.com/a"}', '{"$ref": "https://example.com/b"}'),
  ('$ref beside keywords',               '{"$ref": "#/$defs/s", "maxLength": 3, "$defs": {"s": {"type": "string"}}}',
                                         '{"$ref": "#/$defs/s", "maxLength": 4, "$defs": {"s": {"type": ["string", "null"]}}}'),
  -- booleans, annotations, rules, unknown keywords
  ('true to false',                      'true', 'false'),
  ('property schema to false',           '{"properties": {"a": {"type": "string"}}}', '{"properties": {"a": false}}'),
  ('annotations changed',                '{"title": "A", "description": "d", "default": 1, "examples": [1], "type": "integer"}',
                                         '{"title": "B", "description": "e", "default": 2, "examples": [2], "type": "integer"}'),
  ('$defs only changed',                 '{"$defs": {"x": {"type": "string"}}}', '{"$defs": {"x": {"type": "number"}}}'),
  ('x-rules added',                      '{}', '{"x-rules": [{"rule": "a < b", "message": "a before b", "path": "/b"}]}'),
  ('x-rules message changed',            '{"x-rules": [{"rule": "a < b", "message": "m1"}]}', '{"x-rules": [{"rule": "a < b", "message": "m2"}]}'),
  ('unknown keyword added',              '{}', '{"x-widget": "date-picker"}'),
  ('$schema changed',                    '{"$schema": "https://json-schema.org/draft/2020-12/schema"}',
                                         '{"$schema": "http://json-schema.org/draft-07/schema#"}'),
  ('identical',                          '{"type": "object", "properties": {"a": {"type": "string"}}}',
                                         '{"properties": {"a": {"type": "string"}}, "type": "object"}');

\pset format unaligned
\pset fieldsep ' | '
SELECT label, pg_temp.fmt(old, new) AS old_to_new, pg_temp.fmt(new, old) AS new_to_old FROM cases ORDER BY id;
\pset format aligned

-- References to registry subjects are followed through the refs map
SELECT pg_temp.fmt('{"properties": {"addr": {"$ref": "lowcode:address/1"}}}',
                   '{"properties": {"addr": {"$ref": "lowcode:address/2"}}}',
                   '{"lowcode:address/1": {"properties": {"zip": {"type": "string"}}},
                     "lowcode:address/2": {"properties": {"zip": {"type": "string", "pattern": "^[0-9]+$"}}}}') AS followed;
SELECT pg_temp.fmt('{"$ref": "lowcode:address/1#/properties/zip"}', '{"$ref": "lowcode:address/2#/properties/zip"}',
                   '{"lowcode:address/1": {"properties": {"zip": {"maxLength": 5}}},
                     "lowcode:address/2": {"properties": {"zip": {"maxLength": 9}}}}') AS fragment_followed;

-- Bad input: errors, never a crash
SELECT lowcode.schema_diff(NULL, '{}') IS NULL AS strict_null;
SELECT pg_temp.fmt((repeat('{"not": ', 400) || '{"type": "string"}' || repeat('}', 400))::jsonb,
                   (repeat('{"not": ', 400) || '{"type": "integer"}' || repeat('}', 400))::jsonb) LIKE 'type_changed /not/not/%' AS deep_400;
\set VERBOSITY terse
SELECT lowcode.schema_diff((repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb,
                           (repeat('{"items": ', 10000) || '{"type": "null"}' || repeat('}', 10000))::jsonb);
\set VERBOSITY default
SELECT lowcode.schema_diff('{"pattern": "("}', '{"pattern": ")"}') ->> 0 IS NOT NULL AS bad_patterns_compared_as_text;
SELECT pg_temp.fmt('{"patternProperties": {"(": {}}, "additionalProperties": false}',
                   '{"properties": {"a": {}}, "patternProperties": {"(": {}}, "additionalProperties": false}') AS bad_pattern_matches_nothing;
SELECT pg_temp.fmt('{"patternProperties": {"^\\d+$": {"type": "integer"}}, "additionalProperties": false}',
                   '{"properties": {"12": {"minimum": 1}}, "patternProperties": {"^\\d+$": {"type": "integer"}}, "additionalProperties": false}') AS ecma_pattern;
SELECT pg_temp.fmt('{"multipleOf": 0}', '{"multipleOf": 3}') AS zero_divisor;
SELECT pg_temp.fmt('{"properties": [], "required": "x", "enum": 5, "items": 3, "type": 5, "anyOf": {}, "not": 7, "x-rules": "r", "dependencies": 3}',
                   '{"properties": {"a": 1}, "required": [1, null], "enum": [], "items": [1, "x"], "type": ["x"], "anyOf": [1], "allOf": "x", "x-rules": [1, {"rule": 5}], "dependencies": {"a": 5}}') AS garbage;
SELECT pg_temp.fmt('{"$ref": "#/definitions/a/b/c"}', '{"$ref": "#/x/~2/%zz", "x": 5}') AS bad_pointers;
SELECT pg_temp.fmt('{"$ref": "lowcode:a"}', '{"$ref": "lowcode:b"}',
                   '{"lowcode:a": {"$ref": "lowcode:b"}, "lowcode:b": {"$ref": "lowcode:a"}}') AS ref_cycle_across_documents;
SELECT pg_temp.fmt('{"$ref": "#"}', '{"$ref": "#", "minimum": 1}') AS self_reference;
SELECT lowcode.schema_diff('{"properties": {"a": 1}}', '{"properties": {"a": 2}}') AS non_schema_values;
SELECT lowcode.schema_diff('{"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}', '{}') IS NOT NULL AS ref_loop_terminates;

