-- Bad input for lowcode.unregister_document(uri text): false when there is no such document
-- (docs/jsonschema.md).  A NULL or malformed URI names no document.  An empty fragment names the
-- document itself (as in register_document), so that call removes it: it runs after the check.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.register_document('https://bi.example/u.json', '{}');
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.unregister_document(NULL)::text$$),
  ($$SELECT lowcode.unregister_document('')::text$$),
  ($$SELECT lowcode.unregister_document('not a uri')::text$$),
  ($$SELECT lowcode.unregister_document('https://bi.example/u.json#/x')::text$$),
  ($$SELECT lowcode.unregister_document('HTTPS://BI.EXAMPLE/u.json')::text$$),
  ($$SELECT lowcode.unregister_document('https://bi.example/' || repeat('a', 10000000))::text$$),
  ($$SELECT lowcode.unregister_document('https://bi.example/u' || chr(0))::text$$),
  ($$SELECT lowcode.unregister_document(convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.unregister_document(42)::text$$),
  ($$SELECT lowcode.unregister_document('{"uri": "x"}'::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.unregister_document('https://bi.example/u.json#')::text$$)
) v(q);
SELECT lowcode.unregister_document('https://bi.example/u.json') AS removed_at_the_end;
