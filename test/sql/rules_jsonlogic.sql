-- JsonLogic: lowcode.jsonlogic_apply with json-logic-js 2.x semantics.
-- Every expected value here was checked against json-logic-js 2.0 under node.
-- (pg_regress loads the extension: scripts/test.sh --load-extension.)

-- SQLSTATE and message of an error, or 'no error'.
CREATE FUNCTION pg_temp.jl_err(rule jsonb, data jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lowcode.jsonlogic_apply(rule, data);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the same, for a rule given as text (so that a jsonb input error is caught too)
CREATE FUNCTION pg_temp.jl_err_text(rule text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lowcode.jsonlogic_apply(rule::jsonb, '{}');
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- one rule per row: rule, data -> result
CREATE TEMP TABLE cases (n serial, rule jsonb, data jsonb);
CREATE FUNCTION pg_temp.show() RETURNS TABLE(n int, rule jsonb, data jsonb, result jsonb)
LANGUAGE sql AS $$
  SELECT n, rule, data, lowcode.jsonlogic_apply(rule, data) FROM cases ORDER BY n
$$;

-- rule A of the benchmark
SELECT lowcode.jsonlogic_apply('{"and":[{">":[{"var":"a.b"},3]},{"in":[{"var":"c"},["x","y"]]}]}',
                               '{"a":{"b":5},"c":"x"}') AS rule_a_true,
       lowcode.jsonlogic_apply('{"and":[{">":[{"var":"a.b"},3]},{"in":[{"var":"c"},["x","y"]]}]}',
                               '{"a":{"b":"2"},"c":"x"}') AS rule_a_false;

-- defaults and NULLs: data defaults to {}, SQL NULL data is JSON null, NULL rule gives NULL
SELECT lowcode.jsonlogic_apply('{"var":""}') AS default_data,
       lowcode.jsonlogic_apply('{"var":""}', NULL) AS null_data,
       lowcode.jsonlogic_apply(NULL, '{}') IS NULL AS null_rule;

-- Number::toString in cat; NaN and Infinity become null like JSON.stringify
INSERT INTO cases (rule, data) VALUES
  ('{"cat":[1e21, 1e-7, 0.1, 123456789.125, -0.000001, 1.5e300, 100, 1e20, 0.000123]}', '{}'),
  ('{"cat":[{"+":[0.1,0.2]}, " ", {"/":[1,3]}]}', '{}'),
  ('{"cat":[383973172800000000000, " ", 11609735150000000000, " ", 191092076000000000000, " ", 5e-324, " ", 1.7976931348623157e308]}', '{}'),
  ('{"cat":[{"/":[1,0]}, " ", {"/":[0,0]}, " ", {"/":[-1,0]}]}', '{}'),
  ('{"/":[1,0]}', '{}'),
  ('{"/":[0,0]}', '{}'),
  ('[{"/":[1,0]}, {"-":[0]}, {"*":[-1,0,5]}, {"/":[1,{"*":[-1,0,5]}]}]', '{}'),
  ('[3333033333333333333, {"+":[9007199254740993]}, {"*":[1e20, 3]}, {"var":"big"}]', '{"big": 123456789012345678901}'),
  ('{"cat":[null, "a", [1,[2,[3,null]]], {"a":1,"b":2}, true]}', '{}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- loose equality (IsLooselyEqual), strict equality and object identity
INSERT INTO cases (rule, data) VALUES
  ('[{"==":[[1],1]}, {"==":[[1,2],"1,2"]}, {"==":[[],0]}, {"==":[[],""]}, {"==":[[],false]}]', '{}'),
  ('[{"==":[null,0]}, {"==":[null,false]}, {"==":[true,"1"]}, {"==":[false,"0"]}, {"==":["",0]}]', '{}'),
  ('[{"==":[" \t\n 12 ", 12]}, {"==":["0x10", 16]}, {"==":["1e3", 1000]}, {"==":["Infinity", {"/":[1,0]}]}]', '{}'),
  ('[{"==":[[1],[1]]}, {"==":[{"var":"a"},{"var":"a"}]}, {"==":[{"var":"a"},{"var":"b"}]}, {"===":[{"var":""},{"var":""}]}]', '{"a":[1],"b":[1]}'),
  ('[{"==":[]}, {"===":[{"and":[]}, null]}, {"!=":[{"and":[]}, null]}, {"!==":[1,"1"]}]', '{}'),
  ('{"reduce":[[1,2], {"if":[{"==":[{"var":"accumulator"},[5]]}, "same", [5]]}, null]}', '{}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- relational comparison: strings by UTF-16 code units, else numbers; NaN is false
INSERT INTO cases (rule, data) VALUES
  ('[{"<":["a","b"]}, {"<":["B","a"]}, {"<":["10","9"]}, {"<":["10",9]}, {"<":[[2],[10]]}]', '{}'),
  ('[{"<":["\uffff","😀"]}, {"<":[null,1]}, {"<=":[null,0]}, {">=":["a",1]}, {"<":[1,{"/":[0,0]}]}]', '{}'),
  ('[{"<":[1,2,3]}, {"<":[1,2,{"and":[]}]}, {"<=":[1,1,1]}, {"<":[3,2,1]}]', '{}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- arithmetic: + and * use parseFloat, - / % use ToNumber
INSERT INTO cases (rule, data) VALUES
  ('[{"+":["1e2","3px",true]}, {"+":[]}, {"+":["  -.5e1xyz"]}, {"+":["0b101", "0o17", " 1_000 "]}]', '{}'),
  ('[{"*":["2"]}, {"*":["2","3"]}, {"-":["5"]}, {"-":[[5]]}, {"-":[]}, {"-":["0x10", 1]}, {"-":["0b101", "0o17"]}]', '{}'),
  ('[{"%":[-7,3]}, {"%":[7,-3]}, {"%":[5.5,2]}, {"%":[1,0]}]', '{}'),
  ('[{"-":["+Infinity", 0]}, {"-":["infinity", 0]}, {"-":["1.", 0]}, {"-":[".5", 0]}, {"-":[".", 0]}, {"-":["-0x10", 0]}]', '{}'),
  ('[{"max":[]}, {"min":[]}, {"max":[1,"3",[2]]}, {"max":[1,"a"]}, {"min":[null, 2]}]', '{}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- in, cat, substr (UTF-16 units: a cut surrogate pair gives U+FFFD), merge
INSERT INTO cases (rule, data) VALUES
  ('[{"in":[1,"a1b"]}, {"in":["",""]}, {"in":["a",null]}, {"in":["a",5]}, {"in":[null,[null]]}, {"in":[[1],[[1]]]}, {"in":["1",[1]]}]', '{}'),
  ('{"in":[{"var":"x"},{"var":"arr"}]}', '{"x":[1],"arr":[[1]]}'),
  ('[{"substr":["😀abc", 1]}, {"substr":["😀abc", 0, 1]}, {"substr":["a😀bc", 2]}, {"substr":["héllo", -3, 2]}]', '{}'),
  ('[{"substr":[12345, 1, 2]}, {"substr":["abcdef", "2", "-2"]}, {"substr":["abcdef", 1, [-2]]}, {"substr":[]}, {"substr":["abc", -100, 2]}]', '{}'),
  ('[{"merge":[[1,[2]],3,[[4]]]}, {"merge":[{"var":"a"},{"var":"b"}]}]', '{"a":[1,2],"b":{"k":1}}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- var: dotted paths, indexes, length, defaults, non-string paths
INSERT INTO cases (rule, data) VALUES
  ('[{"var":"s.length"}, {"var":"s.1"}, {"var":"arr.length"}, {"var":"arr.01"}, {"var":"arr.2"}]', '{"s":"a😀","arr":[1,2,3]}'),
  ('[{"var":1.5}, {"var":true}, {"var":[["a","b"]]}]', '{"1":{"5":"x"},"true":1,"a,b":3}'),
  ('[{"var":"a.b"}, {"var":["a","dflt"]}, {"var":["a.b","dflt"]}, {"var":["x", {"var":"y"}]}]', '{"a":null,"y":7}'),
  ('[{"var":"a"}, {"var":"0"}, {"var":"length"}]', '"abc"'),
  ('[{"var":""}, {"var":null}, {"var":[]}]', '[1,2]');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- missing, missing_some
INSERT INTO cases (rule, data) VALUES
  ('{"missing":["a",["b","x"],"c.d"]}', '{"a":"", "c":{"d":0}}'),
  ('{"missing":[["a","b"],"c"]}', '{}'),
  ('[{"missing_some":[1, "ab"]}, {"missing_some":[0, []]}, {"missing_some":["1", ["a","b"]]}, {"missing_some":[1, [["a","b"]]]}, {"missing_some":[1, 5]}]', '{"a":1}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- logic and truthiness ([] is false in JsonLogic), operands returned by and/or
INSERT INTO cases (rule, data) VALUES
  ('[{"and":[]}, {"or":[]}, {"if":[{"and":[]}, 1]}, {"!!":["0"]}, {"!":[{"/":[0,0]}]}, {"!":[[]]}, {"!!":[[0]]}]', '{}'),
  ('[{"and":[1,"",3]}, {"or":[0,[],"x"]}, {"?:":[[], 1, 2]}, {"if":[false,1,[],2,3]}]', '{}'),
  ('[{"a":1, "b":{"var":"x"}}, {}, [{"var":"x"}, {"a":1,"b":2}]]', '{"x":5}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- map, filter, reduce, all, none, some
INSERT INTO cases (rule, data) VALUES
  ('{"reduce":[[1,2,3], {"var":""}, 0]}', '{}'),
  ('[{"reduce":[[1,2], {"cat":[{"var":"accumulator"},{"var":"current"}]}]}, {"reduce":[5, 1, {"and":[]}]}]', '{}'),
  ('{"map":[{"var":"a"},{"var":"x"}]}', '{"a":[{"x":1},{"y":2},3]}'),
  ('{"filter":[[0,1,"",[],[0],null,"0"], {"var":""}]}', '{}'),
  ('[{"all":[[1,2],{"var":""}]}, {"some":[[0,[]],{"var":""}]}, {"none":[[], 1]}, {"map":[[1,2]]}, {"filter":[[1,2]]}, {"all":[[1]]}]', '{}'),
  ('{"map":[{"var":"rows"}, {"reduce":[{"var":"v"}, {"+":[{"var":"current"},{"var":"accumulator"}]}, 0]}]}', '{"rows":[{"v":[1,2]},{"v":[3]},{}]}');
SELECT * FROM pg_temp.show();
TRUNCATE cases;

-- log returns its argument, and reports it at DEBUG1
SELECT lowcode.jsonlogic_apply('{"log":[{"var":"a"}]}', '{"a":[1,"x"]}') AS logged;
SET client_min_messages = debug1;
SELECT lowcode.jsonlogic_apply('{"log":{"map":[[1,2],{"/":[{"var":""},0]}]}}') AS logged;
RESET client_min_messages;

-- the whole data document and parts of it come back unchanged
SELECT lowcode.jsonlogic_apply('{"var":""}', '{"b":[1,2.50,{"c":null}],"a":"x"}') AS whole,
       lowcode.jsonlogic_apply('{"var":"b"}', '{"b":[1,2.50,{"c":null}],"a":"x"}') AS part,
       lowcode.jsonlogic_apply('[{"var":"b.2"}, {"var":"a"}]', '{"b":[1,2.50,{"c":null}],"a":"x"}') AS parts;

-- errors: unknown operators (wherever they are), JavaScript TypeErrors
SELECT pg_temp.jl_err('{"nope":[1]}');
SELECT pg_temp.jl_err('{"if":[true, 1, {"and":[{"frobnicate":[]}]}]}');
SELECT pg_temp.jl_err('{"a":{"b":1}}');
SELECT pg_temp.jl_err('{"*":[]}');
SELECT pg_temp.jl_err('{"missing_some":[1]}');
SELECT pg_temp.jl_err('{"missing_some":[1, null]}');
\set VERBOSITY default
SELECT lowcode.jsonlogic_apply('{"map":[[1], {"Var":"x"}]}');
\set VERBOSITY terse

-- limits: nesting depth, cost, rule length
SELECT pg_temp.jl_err((repeat('{"!":', 250) || 'true' || repeat('}', 250))::jsonb) AS depth_250;
SELECT pg_temp.jl_err((repeat('{"!":', 251) || 'true' || repeat('}', 251))::jsonb) AS depth_251;
SELECT pg_temp.jl_err((repeat('[', 300) || repeat(']', 300))::jsonb) AS array_depth_300;
SELECT pg_temp.jl_err(('{"a":1,"b":' || repeat('[', 300) || repeat(']', 300) || '}')::jsonb) AS literal_depth_300;
SELECT pg_temp.jl_err(('{"a":1,"b":' || repeat('[', 240) || repeat(']', 240) || '}')::jsonb) AS literal_depth_240;
\set VERBOSITY default
SELECT lowcode.jsonlogic_apply((repeat('{"and":[', 200) || 'true' || repeat(']}', 200))::jsonb);
\set VERBOSITY terse
-- a rule compiled earlier is checked again when the limit is lowered
SELECT pg_temp.jl_err((repeat('{"!":', 100) || 'true' || repeat('}', 100))::jsonb) AS depth_100;
SET lowcode.rules_max_depth = 50;
SELECT pg_temp.jl_err((repeat('{"!":', 100) || 'true' || repeat('}', 100))::jsonb) AS depth_100_limit_50;
CREATE TEMP TABLE deep_rules AS SELECT (repeat('{"!":', 100) || 'true' || repeat('}', 100))::jsonb AS r;
RESET lowcode.rules_max_depth;
SELECT lowcode.jsonlogic_apply(r) AS from_backend_cache FROM deep_rules;
SET lowcode.rules_max_depth = 50;
SELECT lowcode.jsonlogic_apply(r) AS from_backend_cache FROM deep_rules;
SET lowcode.rules_max_depth = 100000;
SELECT lowcode.jsonlogic_apply((repeat('{"!":', 5000) || 'true' || repeat('}', 5000))::jsonb) AS depth_5000;
-- nesting depth 100,000: a clean error, never a crash
-- (PostgreSQL's own jsonb input stops it first, at the stack depth limit)
SELECT pg_temp.jl_err_text(repeat('{"!":', 100000) || 'true' || repeat('}', 100000)) AS depth_100000;
SELECT pg_temp.jl_err_text(repeat('[', 100000) || repeat(']', 100000)) AS array_depth_100000;
SELECT pg_temp.jl_err_text(repeat('{"if":[', 50000) || 'true' || repeat(']}', 50000)) AS if_depth_50000;
-- the deepest rule jsonb accepts here still evaluates or fails cleanly
SELECT pg_temp.jl_err_text(repeat('{"!":', 20000) || 'true' || repeat('}', 20000)) AS depth_20000;
RESET lowcode.rules_max_depth;

SELECT pg_temp.jl_err('{"map":[{"var":"xs"}, {"*":[{"var":""},2]}]}',
                      jsonb_build_object('xs', (SELECT jsonb_agg(i) FROM generate_series(1, 400000) i))) AS cost;
SET lowcode.rules_max_cost = 100;
SELECT pg_temp.jl_err('{"reduce":[[1,2,3,4,5,6,7,8,9,10], {"cat":[{"var":"accumulator"}, "0123456789"]}, ""]}') AS cost_strings;
SELECT pg_temp.jl_err('{"+":[1,2]}') AS cheap;
RESET lowcode.rules_max_cost;
-- strings that double at each step stop at the cost limit long before MaxAllocSize
SELECT pg_temp.jl_err('{"reduce":[{"merge":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]},
                        {"cat":[{"var":"accumulator"},{"var":"accumulator"}]}, "x"]}') AS doubling;
SET lowcode.rules_max_expression_length = 20;
SELECT pg_temp.jl_err('{"cat":["a long rule text"]}') AS too_long;
RESET lowcode.rules_max_expression_length;

-- a long evaluation can be cancelled (18,000,000 steps, stopped by statement_timeout)
CREATE TEMP TABLE slow AS
  SELECT jsonb_build_object('all', jsonb_build_array(jsonb_build_object('var', 'xs'),
           jsonb_build_object('all', jsonb_build_array((SELECT jsonb_agg(i) FROM generate_series(1, 3000) i),
                                                       jsonb_build_object('var', ''))))) AS rule,
         jsonb_build_object('xs', (SELECT jsonb_agg(i) FROM generate_series(1, 6000) i)) AS data;
SET lowcode.rules_max_cost = 2147483647;
SET statement_timeout = '50ms';
SELECT lowcode.jsonlogic_apply(rule, data) FROM slow;
RESET statement_timeout;
RESET lowcode.rules_max_cost;

-- caches: many distinct rules through a tiny backend cache, same results
SET lowcode.rules_cache_size = 2;
CREATE TEMP TABLE rules AS
  SELECT i, jsonb_build_object('+', jsonb_build_array(jsonb_build_object('var', 'x'), i % 5)) AS rule
  FROM generate_series(1, 50) i;
SELECT sum((lowcode.jsonlogic_apply(rule, '{"x":1}'))::text::int) AS sum_small_cache FROM rules;
SET lowcode.rules_cache_size = 0;
SELECT sum((lowcode.jsonlogic_apply(rule, '{"x":1}'))::text::int) AS sum_no_cache FROM rules;
RESET lowcode.rules_cache_size;
SELECT sum((lowcode.jsonlogic_apply(rule, '{"x":1}'))::text::int) AS sum_default_cache FROM rules;
-- a failed compilation leaves the cache usable
SELECT pg_temp.jl_err(jsonb_build_object('bad' || i, 1)) FROM generate_series(1, 2) i;
SELECT sum((lowcode.jsonlogic_apply(rule, '{"x":2}'))::text::int) AS sum_after_errors FROM rules;

-- a rule as a CHECK constraint (IMMUTABLE)
CREATE TEMP TABLE orders (doc jsonb CHECK (
  lowcode.jsonlogic_apply('{"and":[{">":[{"var":"qty"},0]},{"in":[{"var":"tier"},["gold","silver"]]}]}', doc) = 'true'));
INSERT INTO orders VALUES ('{"qty":2,"tier":"gold"}');
INSERT INTO orders VALUES ('{"qty":0,"tier":"gold"}');
SELECT count(*) FROM orders;
