-- Bad input for lowcode.register_document(uri text, document jsonb): the JSON Schema document store.
-- Documented (docs/errors.md): LJ008 NULL argument, URI not absolute, with a fragment or over 2048
-- bytes, document not an object or boolean; PostgreSQL's 22P02 / 22P05 / 54001 for JSON jsonb cannot hold.
-- The store checks only the shape: a document that is no valid JSON Schema, a URI with an empty
-- fragment (the same document), spaces or bad escapes are stored as given; compiling a schema that
-- uses it reports the problems.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_document(NULL, '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', NULL)::text$$),
  ($$SELECT lowcode.register_document(NULL, NULL)::text$$),
  ($$SELECT lowcode.register_document('', '{}')::text$$),
  ($$SELECT lowcode.register_document('a.json', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json#frag', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '[]')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '""')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '42')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', 'null')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/' || repeat('a', 10000000), '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '{"const": "\ud800"}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '{"const": "\u0000"}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a' || chr(0), '{}')::text$$),
  ($$SELECT lowcode.register_document(convert_from('\xff'::bytea, 'UTF8'), '{}')::text$$),
  ($$SELECT lowcode.register_document(42, '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '{}'::text)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_document('https://bi.example/a.json#', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', '{"type": "text"}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/ a b', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/%zz', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/\ud800', '{}')::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', jsonb_build_object('description', repeat('d', 10000000)))::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', jsonb_build_object('properties', pg_temp.many_keys(100000)))::text$$),
  ($$SELECT lowcode.register_document('https://bi.example/a.json', (repeat('{"items": ', 10000) || '{}' || repeat('}', 10000))::jsonb)::text$$)
) v(q);
SELECT count(*) AS accepted_documents FROM lowcode.schema_documents WHERE uri LIKE 'https://bi.example/%';
DELETE FROM lowcode.schema_documents WHERE uri LIKE 'https://bi.example/%';
