-- Bad input for lowcode.regex_translate(dialect text, pattern text): the PostgreSQL ARE a pattern becomes.
-- STRICT: NULL answers NULL (docs/regex.md).  Documented (docs/errors.md): 2201B, 22023 unknown dialect.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.regex_translate(NULL, 'a')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', NULL)::text$$),
  ($$SELECT lowcode.regex_translate('', 'a')::text$$),
  ($$SELECT lowcode.regex_translate('RE2', 'a')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', '')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', '(')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', '(?<n>a)\k<m>')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', '\ud800')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', '\u{110000}')::text$$),
  ($$SELECT lowcode.regex_translate('re2', '\C')::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', repeat('(', 10000) || 'a' || repeat(')', 10000))::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', repeat('[a]', 1000000))::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', repeat('a', 10000000))::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', repeat('\p{L}', 100000))::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', 'a' || chr(0))::text$$),
  ($$SELECT lowcode.regex_translate('ecma262', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.regex_translate(42, 'a')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
