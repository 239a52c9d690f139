-- Bad input for lowcode.rule_eval(expr text, data jsonb): CEL over jsonb.
-- STRICT: a NULL argument answers NULL (docs/rules.md).  Documented (docs/errors.md): LR001 syntax,
-- LR002 expression too long, LR003 data not an object, LR004 (rule_test) result not bool, LR013 no
-- overload, LR014 unknown variable, LR016 conversion, LR020 cost, LR021 too deep; PostgreSQL's own
-- 22P02 / 22P05 / 54001 for JSON it cannot hold or nest.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.rule_eval(NULL, '{}')::text$$),
  ($$SELECT lowcode.rule_eval('true', NULL)::text$$),
  ($$SELECT lowcode.rule_eval(NULL, NULL)::text$$),
  ($$SELECT lowcode.rule_eval('', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('   ', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('true', '[]')::text$$),
  ($$SELECT lowcode.rule_eval('true', '"x"')::text$$),
  ($$SELECT lowcode.rule_eval('true', 'null')::text$$),
  ($$SELECT lowcode.rule_eval('true', '42')::text$$),
  ($$SELECT lowcode.rule_eval('x + 1', '{"x": "a"}')::text$$),
  ($$SELECT lowcode.rule_eval('x', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('"abc"', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('1 +', '{}')::text$$),
  ($$SELECT lowcode.rule_eval(42, '{}')::text$$),
  ($$SELECT lowcode.rule_eval('true', 42)::text$$),
  ($$SELECT lowcode.rule_eval('{"a": 1}'::jsonb, '{}')::text$$),
  ($$SELECT lowcode.rule_eval('"' || repeat('a', 10000000) || '" != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('size(s) > 0', jsonb_build_object('s', repeat('a', 10000000)))::text$$),
  ($$SELECT lowcode.rule_eval('size(m) > 0', jsonb_build_object('m', pg_temp.many_keys(100000)))::text$$),
  ($$SELECT lowcode.rule_eval('size(l) > 0', jsonb_build_object('l', pg_temp.big_array(1000000)))::text$$),
  ($$SELECT lowcode.rule_eval('l.all(x, x > 0)', jsonb_build_object('l', pg_temp.big_array(1000000)))::text$$),
  ($$SELECT lowcode.rule_eval('true', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.rule_eval(repeat('(', 10000) || 'true' || repeat(')', 10000), '{}')::text$$),
  ($$SELECT lowcode.rule_eval(repeat('!', 10000) || 'true', '{}')::text$$),
  ($$SELECT lowcode.rule_eval(repeat('[', 10000) || repeat(']', 10000) || ' == []', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('true' || repeat(' && true', 100000), '{}')::text$$),
  ($$SELECT lowcode.rule_eval('size(d) > 0', jsonb_build_object('d', pg_temp.deep_array(10000)))::text$$),
  ($$SELECT lowcode.rule_eval('d == d', jsonb_build_object('d', pg_temp.deep_object(10000)))::text$$),
  ($$SELECT lowcode.rule_eval('true', ('{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}')::jsonb)::text$$),
  ($$SELECT lowcode.rule_eval('"\ud800" != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('"\u0000" != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('"\x00" != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('"a\u0000b"', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('{"k\u0000": 1}', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('string(b"a\x00b")', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('string(b"\xff") != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('string(b"\xc0\x80") != ""', '{}')::text$$),
  ($$SELECT lowcode.rule_eval('s.matches("\\ud800")', '{"s": "a"}')::text$$),
  ($$SELECT lowcode.rule_eval('true', '{"x": "\ud800"}')::text$$),
  ($$SELECT lowcode.rule_eval('true', '{"x": "\u0000"}')::text$$),
  ($$SELECT lowcode.rule_eval(convert_from('\xff'::bytea, 'UTF8'), '{}')::text$$),
  ($$SELECT lowcode.rule_eval('x == 1' || chr(0), '{}')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
