-- Bad input for lowcode.format_check(format text, value text): JSON Schema formats on a string.
-- STRICT: NULL answers NULL.  Documented (docs/errors.md): 22023 unknown format name.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.format_check(NULL, 'a')::text$$),
  ($$SELECT lowcode.format_check('email', NULL)::text$$),
  ($$SELECT lowcode.format_check('', 'a')::text$$),
  ($$SELECT lowcode.format_check('no-such-format', 'a')::text$$),
  ($$SELECT lowcode.format_check(repeat('f', 10000000), 'a')::text$$),
  ($$SELECT lowcode.format_check('email', '')::text$$),
  ($$SELECT lowcode.format_check('date', '')::text$$),
  ($$SELECT lowcode.format_check('regex', '')::text$$),
  ($$SELECT lowcode.format_check('email', repeat('a', 10000000) || '@example.com')::text$$),
  ($$SELECT lowcode.format_check('hostname', repeat('a.', 5000000) || 'a')::text$$),
  ($$SELECT lowcode.format_check('idn-hostname', repeat('é', 1000000))::text$$),
  ($$SELECT lowcode.format_check('uri', 'http://' || repeat('a', 10000000))::text$$),
  ($$SELECT lowcode.format_check('json-pointer', repeat('/a', 5000000))::text$$),
  ($$SELECT lowcode.format_check('regex', repeat('(', 10000) || repeat(')', 10000))::text$$),
  ($$SELECT lowcode.format_check('regex', repeat('(', 10000))::text$$),
  ($$SELECT lowcode.format_check('regex', '\ud800')::text$$),
  ($$SELECT lowcode.format_check('date-time', '2026-13-45T99:99:99Z')::text$$),
  ($$SELECT lowcode.format_check('date', '99999999-01-01')::text$$),
  ($$SELECT lowcode.format_check('duration', 'P' || repeat('9', 100000) || 'D')::text$$),
  ($$SELECT lowcode.format_check('ipv4', '999.1.1.1')::text$$),
  ($$SELECT lowcode.format_check('ipv6', repeat('1:', 100000))::text$$),
  ($$SELECT lowcode.format_check('uuid', repeat('-', 36))::text$$),
  ($$SELECT lowcode.format_check('idn-email', 'a@' || repeat('ä', 100000))::text$$),
  ($$SELECT lowcode.format_check('email', 'a' || chr(0) || '@b.c')::text$$),
  ($$SELECT lowcode.format_check('email', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.format_check('email', 42)::text$$),
  ($$SELECT lowcode.format_check('email', '"a@b.c"'::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
