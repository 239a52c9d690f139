-- Bad input for lowcode.jsonlogic_apply(rule jsonb, data jsonb): JsonLogic over jsonb.
-- Documented (docs/jsonlogic.md, docs/errors.md): LR101 unknown operator, LR102 too deep, LR103 cost,
-- LR104 rule too long, LR105 type error; 54001 / 22P02 / 22P05 from PostgreSQL's jsonb input.
-- A NULL rule or data is JSON null (docs/jsonlogic.md).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.jsonlogic_apply(NULL, '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "a"}', NULL)::text$$),
  ($$SELECT lowcode.jsonlogic_apply(NULL, NULL)::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('[]', '[]')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('""', '""')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "a"}', '[]')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": [[]]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"+": {"a": 1}}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"+": ["a", 1]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"no_such_op": [1]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"*": []}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"missing_some": [1, null]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"substr": ["abc", "x"]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"map": [{"var": "l"}, {"*": [{"var": ""}, 2]}]}', jsonb_build_object('l', pg_temp.big_array(1000000)))::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "s"}', jsonb_build_object('s', repeat('a', 10000000)))::text$$),
  ($$SELECT lowcode.jsonlogic_apply(to_jsonb(repeat('a', 10000000)), '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply(jsonb_build_object('cat', jsonb_build_array(repeat('a', 10000000), 'b')), '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply(pg_temp.many_keys(100000), '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "k99999"}', pg_temp.many_keys(100000))::text$$),
  ($$SELECT lowcode.jsonlogic_apply(pg_temp.big_array(1000000), '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply(pg_temp.deep_array(10000), '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply((repeat('{"!": [', 4000) || 'true' || repeat(']}', 4000))::jsonb, '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply((repeat('{"!": [', 10000) || 'true' || repeat(']}', 10000))::jsonb, '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "d"}', jsonb_build_object('d', pg_temp.deep_array(10000)))::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"==": [{"var": "d"}, {"var": "d"}]}', jsonb_build_object('d', pg_temp.deep_object(10000)))::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "a"}', ('{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}')::jsonb)::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "\ud800"}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "\u0000"}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "\ud83d\ude00"}', '{"\ud83d\ude00": 1}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"substr": ["\ud83d\ude00x", 0, 1]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"in": ["", "abc"]}', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('not json', '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply(42, '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply('{"var": "a"}'::text, '{}')::text$$),
  ($$SELECT lowcode.jsonlogic_apply(convert_from('\xff'::bytea, 'UTF8')::jsonb, '{}')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
