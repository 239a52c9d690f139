-- Bad input for lowcode.rule_check(expr text): parses and checks a CEL expression and reports
-- problems as data (docs/rules.md).  STRICT: NULL answers NULL.  Errors it raises: LR002 too long,
-- LR021 too deep (docs/errors.md).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.rule_check(NULL)::text$$),
  ($$SELECT lowcode.rule_check('')::text$$),
  ($$SELECT lowcode.rule_check('1 +')::text$$),
  ($$SELECT lowcode.rule_check(42)::text$$),
  ($$SELECT lowcode.rule_check('{"a": 1}'::jsonb)::text$$),
  ($$SELECT lowcode.rule_check('"' || repeat('a', 10000000) || '"')::text$$),
  ($$SELECT lowcode.rule_check(repeat('(', 10000) || 'true' || repeat(')', 10000))::text$$),
  ($$SELECT lowcode.rule_check(repeat('-', 10000) || '1')::text$$),
  ($$SELECT lowcode.rule_check('a' || repeat('.b', 10000))::text$$),
  ($$SELECT lowcode.rule_check('true' || repeat(' || false', 100000))::text$$),
  ($$SELECT lowcode.rule_check('"\ud800"')::text$$),
  ($$SELECT lowcode.rule_check('"\u0000"')::text$$),
  ($$SELECT lowcode.rule_check('b"\xff"')::text$$),
  ($$SELECT lowcode.rule_check('"\777"')::text$$),
  ($$SELECT lowcode.rule_check(convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.rule_check('true' || chr(0))::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
