-- JSON Schema document store: register/unregister, $ref to stored documents,
-- invalidation of compiled schemas, privileges, bad input.
SET client_min_messages = warning;
RESET client_min_messages;
\set VERBOSITY terse

SELECT lowcode.register_document('https://example.com/schemas/address.json',
  '{"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}},
    "$defs": {"zip": {"type": "string", "pattern": "^[0-9]{6}$"}}}');
SELECT uri, document->'required' AS required FROM lowcode.schema_documents;

-- $ref to the stored document, to a pointer inside it, relative to $id
SELECT lowcode.jsonschema_is_valid('{"$ref": "https://example.com/schemas/address.json"}', '{"city": "Hangzhou"}') AS whole,
       lowcode.jsonschema_is_valid('{"$ref": "https://example.com/schemas/address.json"}', '{"town": "Hangzhou"}') AS missing_city,
       lowcode.jsonschema_is_valid('{"$ref": "https://example.com/schemas/address.json#/$defs/zip"}', '"310000"') AS zip,
       lowcode.jsonschema_is_valid('{"$id": "https://example.com/schemas/order.json", "properties": {"ship_to": {"$ref": "address.json"}}}',
                                   '{"ship_to": {"city": 5}}') AS relative;
SELECT e->>'keywordLocation' AS keyword_location, e->>'absoluteKeywordLocation' AS absolute
FROM jsonb_array_elements(lowcode.jsonschema_validate(
  '{"properties": {"ship_to": {"$ref": "https://example.com/schemas/address.json"}}}', '{"ship_to": {"city": 5}}')->'errors') e;

-- a changed document invalidates compiled schemas that used it, in this
-- session (same statement text, so the same call-site cache)...
PREPARE v(jsonb) AS SELECT lowcode.jsonschema_is_valid('{"$ref": "https://example.com/schemas/address.json"}', $1);
EXECUTE v('{"city": "Hangzhou"}');
SELECT lowcode.register_document('https://example.com/schemas/address.json', '{"properties": {"city": {"type": "integer"}}}');
EXECUTE v('{"city": "Hangzhou"}');
-- ... and inside one statement that changes the store between rows? No:
-- a statement sees one snapshot.  Direct DML (not through the functions)
-- invalidates too, through the statement trigger.
UPDATE lowcode.schema_documents SET document = '{"properties": {"city": {"type": "string"}}}'
WHERE uri = 'https://example.com/schemas/address.json';
EXECUTE v('{"city": "Hangzhou"}');
SELECT (lowcode.jsonschema_cache_stats()->>'entries')::int > 0 AS cache_used;

-- a rolled back change leaves the old document in force
BEGIN;
SELECT lowcode.register_document('https://example.com/schemas/address.json', 'false');
EXECUTE v('{"city": "Hangzhou"}');
ROLLBACK;
EXECUTE v('{"city": "Hangzhou"}');

-- unregister: later compilations cannot resolve it any more
SELECT lowcode.unregister_document('https://example.com/schemas/address.json') AS removed,
       lowcode.unregister_document('https://example.com/schemas/address.json') AS removed_again;
EXECUTE v('{"city": "Hangzhou"}');
DEALLOCATE v;

-- "uri#" names the same document as "uri"
SELECT lowcode.register_document('urn:example:flag#', 'true');
SELECT uri FROM lowcode.schema_documents;
SELECT lowcode.jsonschema_is_valid('{"$ref": "urn:example:flag"}', '42');

-- a custom metaschema from the store: its $vocabulary decides
SELECT lowcode.register_document('https://example.com/meta/no-validation',
  '{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/meta/no-validation",
    "$vocabulary": {"https://json-schema.org/draft/2020-12/vocab/applicator": true, "https://json-schema.org/draft/2020-12/vocab/core": true}}');
SELECT lowcode.jsonschema_is_valid('{"$schema": "https://example.com/meta/no-validation", "minimum": 10}', '1') AS validation_off;

-- bad input
SELECT lowcode.register_document('relative/path.json', '{}');
SELECT lowcode.register_document('https://example.com/a#frag', '{}');
SELECT lowcode.register_document('https://example.com/a', '[1, 2]');
SELECT lowcode.register_document(NULL, '{}');
SELECT count(*) AS documents FROM lowcode.schema_documents;

-- only the owner of the store may change it; everyone may read it
CREATE ROLE js_store_reader;
SET ROLE js_store_reader;
SELECT count(*) >= 0 AS readable FROM lowcode.schema_documents;
SELECT lowcode.register_document('https://example.com/evil', '{}');
SELECT lowcode.unregister_document('urn:example:flag');
INSERT INTO lowcode.schema_documents (uri, document) VALUES ('https://example.com/evil', '{}');
RESET ROLE;
DROP ROLE js_store_reader;

-- the store is dumped with the extension's data
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(relid) JOIN pg_class c ON c.oid = cfg.relid
WHERE e.extname = 'pg_lowcode' AND c.relname = 'schema_documents';

