-- CEL over jsonb: rule_eval, rule_test, rule_check, the jsonb mapping,
-- errors with their SQLSTATEs, limits and caching.

-- the error of an expression as "SQLSTATE: message"
CREATE FUNCTION pg_temp.err(expr text, data jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lowcode.rule_eval(expr, data);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- variables are the top-level keys of data
SELECT lowcode.rule_test('amount > 1000 && customer.tier == "gold"',
                         '{"amount": 1500, "customer": {"tier": "gold"}}');
SELECT lowcode.rule_test('a.b > 3 && c in ["x", "y"]', '{"a": {"b": 4}, "c": "y"}'),
       lowcode.rule_test('a.b > 3 && c in ["x", "y"]', '{"a": {"b": 3}, "c": "y"}'),
       lowcode.rule_test('a.b > 3 && c in ["x", "y"]', '{"a": {"b": 9}, "c": "z"}');
SELECT lowcode.rule_eval('1 + 2 * 3'), lowcode.rule_eval('"ab" + "cd"'), lowcode.rule_eval('[1, 2] + [3]');

-- jsonb numbers: integral values that fit 64 bits are int, others double
SELECT lowcode.rule_eval('type(x)', '{"x": 3}') AS int3,
       lowcode.rule_eval('type(x)', '{"x": 3.0}') AS int3_0,
       lowcode.rule_eval('type(x)', '{"x": -7e2}') AS int_exp,
       lowcode.rule_eval('type(x)', '{"x": 3.5}') AS frac,
       lowcode.rule_eval('type(x)', '{"x": 18446744073709551616}') AS big,
       lowcode.rule_eval('type(x)', '{"x": 9223372036854775807}') AS maxint;
SELECT lowcode.rule_eval('x + 1', '{"x": 41}'), lowcode.rule_eval('x * 2.0', '{"x": 2.5}'),
       lowcode.rule_eval('x == 3', '{"x": 3.0}'), lowcode.rule_eval('x < 4', '{"x": 3.5}');
-- int and double do not mix in arithmetic (CEL has no implicit conversion) ...
SELECT pg_temp.err('x + 1', '{"x": 2.5}');
-- ... but double() converts, and comparisons work across numeric types
SELECT lowcode.rule_eval('double(x) + 1.0', '{"x": 2}'), lowcode.rule_eval('x > 2', '{"x": 2.5}');
-- doubles come back with their shortest exact digits (not float8_numeric's 15)
SELECT lowcode.rule_eval('double(9007199254740992)') AS two53,
       lowcode.rule_eval('double("6.02214e23")') AS avogadro,
       lowcode.rule_eval('0.1 + 0.2') AS sum,
       lowcode.rule_eval('[1.0 / 3.0, -2.5e-8, 1e20 * 10.0]') AS list;
-- other jsonb values
SELECT lowcode.rule_eval('[type(n), type(b), type(s), type(l), type(m)]',
                         '{"n": null, "b": true, "s": "x", "l": [1], "m": {"k": 1}}');
SELECT lowcode.rule_eval('m.k.size() + l.size() + s.size()', '{"m": {"k": [1, 2, 3]}, "l": [1], "s": "héllo"}');
SELECT lowcode.rule_eval('l.exists(x, x.name == "b")', '{"l": [{"name": "a"}, {"name": "b"}]}');
SELECT lowcode.rule_eval('m.map(k, k + "=" + string(m[k]))', '{"m": {"a": 1, "b": 2}}');

-- jsonb lists and maps in depth: equality with literals, comprehensions over
-- keys and entries, indexing, membership, optional access, dotted names
SELECT pg_temp.err('x.y.z', '{"x": {"y": [1]}}');
SELECT pg_temp.err('x.y.z', '{"x": {"y": {}}}');
SELECT pg_temp.err('l.map(x, x * 2)', '{"l": [1, 2.5]}');
SELECT lowcode.rule_eval('{"a": 1, "b": [1, 2]} == d', '{"d": {"b": [1, 2], "a": 1}}');
SELECT lowcode.rule_eval('d.l == [1, "x", true, null, 2.5]', '{"d": {"l": [1, "x", true, null, 2.5]}}');
SELECT lowcode.rule_eval('m.all(k, m[k] > 0)', '{"m": {"a": 1, "b": 2}}');
SELECT lowcode.rule_eval('m.exists(k, v, k == "b" && v == 2)', '{"m": {"a": 1, "b": 2}}');
SELECT lowcode.rule_eval('m.transformMap(k, v, v * 10)', '{"m": {"a": 1, "b": 2}}');
SELECT lowcode.rule_eval('l[1].name', '{"l": [{"name": "a"}, {"name": "b"}]}');
SELECT lowcode.rule_eval('"b" in m && !("z" in m) && 2 in l', '{"m": {"b": 1}, "l": [1, 2.0]}');
SELECT lowcode.rule_eval('a.?b.orValue("none")', '{"a": {}}'), lowcode.rule_eval('a.?b.c.orValue("none")', '{"a": {"b": {"c": 3}}}');
SELECT lowcode.rule_eval('m[?"k"].hasValue()', '{"m": {"k": null}}');
SELECT lowcode.rule_eval('a.b', '{"a.b": 7}'), lowcode.rule_eval('a.b.c', '{"a.b": {"c": 8}}');
SELECT lowcode.rule_eval('size(m) + size(l) + size(s)', '{"m": {"x": 1}, "l": [], "s": "日本"}');
SELECT lowcode.rule_eval('[n, uint(n), double(n), string(n)]', '{"n": 12345678901234}');
SELECT lowcode.rule_eval('n > 9223372036854775807', '{"n": 9223372036854775808}');
SELECT lowcode.rule_eval('d', '{"d": {"nested": {"deep": [1, {"x": true}]}}}');

-- CEL results as jsonb
SELECT lowcode.rule_eval('[1, 2u, 3.5, "s", b"hi", null, true, {"k": [1]}, {1: "one"}]');
SELECT lowcode.rule_eval('[timestamp("2024-01-02T03:04:05.5Z"), duration("90m"), type(1), 1.0/0.0, -1.0/0.0, 0.0/0.0]');
SELECT lowcode.rule_eval('optional.of(1)'), lowcode.rule_eval('optional.none()');

-- logic: && and || absorb errors in either order
SELECT lowcode.rule_eval('false && 1/0 == 1'), lowcode.rule_eval('1/0 == 1 && false'),
       lowcode.rule_eval('missing || true'), lowcode.rule_eval('true || missing');
SELECT lowcode.rule_eval('has(a.b) ? a.b : "none"', '{"a": {}}'), lowcode.rule_eval('has(a.b)', '{"a": {"b": null}}');

-- macros
SELECT lowcode.rule_eval('[1, 2, 3].all(x, x > 0)'), lowcode.rule_eval('[1, 2, 3].exists_one(x, x > 2)'),
       lowcode.rule_eval('[1, 2, 3].map(x, x * x)'), lowcode.rule_eval('[1, 2, 3].map(x, x > 1, x * 10)'),
       lowcode.rule_eval('[1, 2, 3].filter(x, x % 2 == 1)');

-- strings, regex (RE2 syntax on PostgreSQL's engine), extensions
SELECT lowcode.rule_eval('"hello".startsWith("he") && "hello".endsWith("lo") && "hello".contains("ell")');
SELECT lowcode.rule_eval('email.matches("^[a-z]+@[a-z]+\\.com$")', '{"email": "ann@example.com"}');
SELECT lowcode.rule_eval('"a,b,c".split(",")'), lowcode.rule_eval('"  x ".trim().upperAscii()'),
       lowcode.rule_eval('"%s has %d items".format(["cart", 3])'), lowcode.rule_eval('math.greatest([3, 7.5, 2u])');

-- timestamps and durations, with time zones (IANA names through PostgreSQL's tz library)
SELECT lowcode.rule_eval('timestamp("2024-03-10T12:00:00Z").getHours("America/New_York")'),
       lowcode.rule_eval('timestamp("2024-03-09T12:00:00Z").getHours("America/New_York")'),
       lowcode.rule_eval('timestamp("2009-02-13T23:31:30Z").getDayOfWeek("+05:30")');
SELECT lowcode.rule_eval('timestamp(t) + duration("36h") > timestamp("2024-01-02T00:00:00Z")',
                         '{"t": "2024-01-01T00:00:00Z"}');
SELECT pg_temp.err('timestamp("2024-01-01T00:00:00Z").getHours("Mars/Olympus")');

-- errors: distinct SQLSTATEs (docs/errors.md)
SELECT pg_temp.err('a.missing', '{"a": {}}');
SELECT pg_temp.err('m["k"]', '{"m": {}}');
SELECT pg_temp.err('9223372036854775807 + 1');
SELECT pg_temp.err('1 / 0');
SELECT pg_temp.err('1 % 0');
SELECT pg_temp.err('1 + "a"');
SELECT pg_temp.err('nobody > 1');
SELECT pg_temp.err('[1, 2][5]');
SELECT pg_temp.err('int("12x")');
SELECT pg_temp.err('"abc".matches("[")');
SELECT pg_temp.err('frobnicate(1)');
SELECT pg_temp.err('{"a": 1, "a": 2}');
SELECT pg_temp.err('x', '[1, 2]');
SELECT lowcode.rule_test('1 + 1');

-- parse errors show the position with a caret under the expression
\set VERBOSITY default
SELECT lowcode.rule_eval('(1 + 2');
SELECT lowcode.rule_eval(E'a &&\n  * b');
SELECT lowcode.rule_eval('"unterminated');
SELECT lowcode.rule_eval('if > 1');
SELECT lowcode.rule_eval('1 + 99999999999999999999');

-- rule_check: for editors, without data
SELECT lowcode.rule_check('a.b > 3 && c in ["x", "y"] && items.all(i, i.price < limit)');
SELECT lowcode.rule_check(E'amount >\n (3');
SELECT lowcode.rule_check('[1, 2].map(x, x + y)');
-- functions that do not exist are reported without evaluating
SELECT lowcode.rule_check(E'size(a) > 1 &&\n  frobnicate(a) && a.shout() && Msg{f: 1}.f');

-- limits: nesting depth (even 100,000 levels fail cleanly), length, cost
SET lowcode.rules_max_expression_length = 1000000;
SELECT pg_temp.err(repeat('(', 100000) || '1' || repeat(')', 100000));
SELECT pg_temp.err(repeat('[', 100000) || repeat(']', 100000));
SELECT pg_temp.err(repeat('-', 100000) || '1');
SELECT pg_temp.err(repeat('a.', 100000) || 'b');
SELECT pg_temp.err(repeat('1 + ', 100000) || '1');
SELECT pg_temp.err(repeat('f(', 100000) || repeat(')', 100000));
SELECT lowcode.rule_eval(repeat('x || ', 100000) || 'true');
SELECT (lowcode.rule_check(repeat('{"a":', 300) || '1' || repeat('}', 300)))->'errors'->0->>'position';
SET lowcode.rules_max_depth = 100000;
SELECT pg_temp.err(repeat('(', 100000) || '1' || repeat(')', 100000));
RESET lowcode.rules_max_depth;
RESET lowcode.rules_max_expression_length;
SELECT pg_temp.err(repeat('1 + ', 30000) || '1');
SET lowcode.rules_max_cost = 1000;
SELECT pg_temp.err('[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, a + b + c)))');
RESET lowcode.rules_max_cost;
SELECT pg_temp.err('[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, [1,2,3,4,5,6,7,8,9,10].map(f, 1))))))');
-- a string doubling itself: stopped by the cost limit before the allocation limit
SELECT pg_temp.err('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32].map(i, "x").map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s).map(s, s + s + s + s + s + s + s + s)');

-- caching: one expression over many rows, and one expression per row
SELECT count(*) FILTER (WHERE lowcode.rule_test('a.b > 3 && c in ["x", "y"]',
         jsonb_build_object('a', jsonb_build_object('b', i % 10), 'c', (ARRAY['x','y','z'])[1 + i % 3])))
FROM generate_series(1, 3000) i;
SELECT count(*) FILTER (WHERE lowcode.rule_test('x == ' || (i % 50), jsonb_build_object('x', i % 50)))
FROM generate_series(1, 3000) i;
SET lowcode.rules_cache_size = 0;
SELECT count(*) FILTER (WHERE lowcode.rule_test('x == ' || (i % 50), jsonb_build_object('x', i % 50)))
FROM generate_series(1, 300) i;
RESET lowcode.rules_cache_size;

-- STRICT: NULL in, NULL out
SELECT lowcode.rule_eval(NULL) IS NULL, lowcode.rule_test('true', NULL) IS NULL,
       lowcode.rule_check(NULL) IS NULL;

-- IMMUTABLE and usable in CHECK constraints
CREATE TABLE pg_temp.orders (doc jsonb CHECK (lowcode.rule_test('amount > 0 && currency in ["EUR", "USD"]', doc)));
INSERT INTO pg_temp.orders VALUES ('{"amount": 10, "currency": "EUR"}');
INSERT INTO pg_temp.orders VALUES ('{"amount": 0, "currency": "EUR"}');
SELECT provolatile, proparallel FROM pg_proc
WHERE oid IN ('lowcode.rule_eval(text,jsonb)'::regprocedure, 'lowcode.rule_test(text,jsonb)'::regprocedure,
              'lowcode.rule_check(text)'::regprocedure);
-- cel.bind (cel-go's bindings extension): a name for a value, computed once
SELECT lowcode.rule_eval('cel.bind(t, a + b, t * t + t)', '{"a": 2, "b": 3}') AS bound,
       lowcode.rule_eval('cel.bind(xs, items.map(i, i.qty), xs.size() > 1 && xs.all(q, q > 0))',
                         '{"items": [{"qty": 1}, {"qty": 2}]}') AS nested,
       lowcode.rule_eval('cel.bind(a, 1, cel.bind(a, a + 1, a))') AS shadowing;
SELECT pg_temp.err('cel.bind(1, 2, 3)');
SELECT pg_temp.err('cel.bind(x, 1 / 0, 2)');
-- the base64 encoders (cel-go's ext.Encoders)
SELECT lowcode.rule_eval('base64.encode(b"hello")') AS enc,
       lowcode.rule_eval('string(base64.decode("aGVsbG8="))') AS dec,
       lowcode.rule_eval('string(base64.decode("aGVsbG8"))') AS dec_unpadded,
       lowcode.rule_eval('base64.decode(base64.encode(b"\x00\xff")) == b"\x00\xff"') AS round_trip;
SELECT pg_temp.err('base64.decode("a")');
SELECT pg_temp.err('base64.encode("text")');
SELECT (lowcode.rule_check('base64.encode(b) == "x" && cel.bind(y, 2, y > 1)')->'valid') AS checks;
