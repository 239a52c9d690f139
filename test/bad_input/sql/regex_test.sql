-- Bad input for lowcode.regex_test(dialect text, pattern text, subject text).
-- STRICT: NULL answers NULL (docs/regex.md).  Documented (docs/errors.md): 2201B pattern invalid or not
-- translatable, 22023 unknown dialect.  An escaped lone surrogate (\uD800) is a character that never
-- matches (docs/regex.md); invalid UTF-8 cannot arrive (22021).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.regex_test(NULL, 'a', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', NULL, 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a', NULL)::text$$),
  ($$SELECT lowcode.regex_test('', 'a', 'a')::text$$),
  ($$SELECT lowcode.regex_test('perl', 'a', 'a')::text$$),
  ($$SELECT lowcode.regex_test(repeat('d', 10000000), 'a', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '', '')::text$$),
  ($$SELECT lowcode.regex_test('re2', '', 'abc')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '(', 'a')::text$$),
  ($$SELECT lowcode.regex_test('re2', '(?<', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a{2,1}', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a{99999999999}', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '\', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '\ud800', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '[\ud800-\udfff]', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '\ud83d\ude00', '😀')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '\u{110000}', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '\x00', 'a')::text$$),
  ($$SELECT lowcode.regex_test('re2', '\x{D800}', 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', repeat('(', 10000) || 'a' || repeat(')', 10000), 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', repeat('(?:', 10000) || 'a' || repeat(')', 10000), 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', repeat('a', 10000000), 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', repeat('a?', 100000) || repeat('a', 100000), repeat('a', 100000))::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '^(a+)+$', repeat('a', 100000) || 'b')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '(a*)*b', repeat('a', 10000000))::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'b$', repeat('a', 10000000) || 'b')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', '(a)\1', 'aa')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a', 'a' || chr(0))::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.regex_test('ecma262', convert_from('\xc080'::bytea, 'UTF8'), 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 42, 'a')::text$$),
  ($$SELECT lowcode.regex_test('ecma262', 'a', '{"a": 1}'::jsonb)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
