-- Regular expressions of JSON Schema (ECMA-262) and CEL (RE2) on
-- PostgreSQL's regex engine: translation, matching, errors, the cache.
SET client_min_messages = warning;

-- What a pattern becomes, and whether it then matches.
CREATE FUNCTION pg_temp.show(d text, p text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    RETURN lowcode.regex_translate(d, p);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN format('%s: %s (%s)', st, msg, det);
END $$;

-- ECMA-262 translations
SELECT p AS ecma262, pg_temp.show('ecma262', p) AS are FROM (VALUES
    ('^\d+$'), ('\D'), ('\w\W'), ('\s'), ('\S'), ('.'), ('[^]'), ('[]'),
    ('\bword\B'), ('(?<year>\d{4})-\k<year>'), ('(a)\1'), ('\1(a)'),
    ('\u00e9\u{1F432}\ud83d\udc32'), ('\cJ\x41\0\t\n\v\f\r'), ('[\d\-_]'), ('[\w-.]'),
    ('[^\D]'), ('[\s\S]'), ('(?=a)(?!b)(?<=c)(?<!d)'), ('a{2,3}?b*?c+?d??'),
    ('x{300}'), ('x{0,600}'), ('x{256,}'), ('(?i:ab)c'), ('(?s:.)'), ('(?m:^a$)'),
    ('\p{Script=Greek}'), ('\p{ASCII}'),
    ('a{'), ('a{1'), (']'), ('}'), ('\/\-\.'), ('\$\^')
) v(p);

-- RE2 translations
SELECT p AS re2, pg_temp.show('re2', p) AS are FROM (VALUES
    ('(?i)straße'), ('(?i:k)'), ('(?s).'), ('.'), ('(?m)^a$'), ('\A\z'),
    ('\Qa.b*c\E+'), ('\p{Greek}\p{^Greek}'), ('[[:alpha:][:^digit:]]'),
    ('[]a]'), ('\x{263a}\x41\101\a'), ('(?P<name>x)(?<n2>y)'), ('(?U)a+'), ('\s\S')
) v(p);

-- Long Unicode classes: their size and a few members
SELECT p, length(lowcode.regex_translate(d, p)) > 100 AS long_class,
       lowcode.regex_test(d, '^' || p || '$', 'É') AS "É",
       lowcode.regex_test(d, '^' || p || '$', 'ж') AS "ж",
       lowcode.regex_test(d, '^' || p || '$', '7') AS "7",
       lowcode.regex_test(d, '^' || p || '$', '中') AS "中"
FROM (VALUES ('ecma262', '\p{Lu}'), ('ecma262', '\P{Ll}'), ('ecma262', '\p{L}'),
             ('ecma262', '\p{Script=Han}'), ('re2', '\pL'), ('re2', '\PN'), ('re2', '\p{Cyrillic}')) v(d, p);

-- Matching (search semantics, as ECMA-262 test() and RE2 partial match)
SELECT d, p, what, lowcode.regex_test(d, p, s) AS matches FROM (VALUES
    ('ecma262', '^abc$', E'abc\n', 'abc, newline'),
    ('ecma262', '^\d$', '৪', 'Bengali four'),
    ('ecma262', '^\p{Nd}$', '৪', 'Bengali four'),
    ('ecma262', '^\w$', 'é', 'e acute'),
    ('ecma262', '^\s$', E'\u2003', 'em space'),
    ('ecma262', '^\s$', E'\u0001', 'U+0001'),
    ('ecma262', '^.$', E'\n', 'newline'),
    ('ecma262', '^.$', E'\u2028', 'line separator'),
    ('ecma262', '^[^]$', E'\n', 'newline'),
    ('ecma262', '[]', '', 'empty'),
    ('ecma262', '^a[]?b$', 'ab', 'ab'),
    ('ecma262', '^\ud83d\udc32*$', '🐲🐲', 'two dragons'),
    ('ecma262', '^\ud83d\udc32*$', '🐉', 'another dragon'),
    ('ecma262', '^🐲$', '🐲', 'dragon'),
    ('ecma262', '(?<=a+)b', 'aaab', 'aaab'),
    ('ecma262', '(?<!a)b', 'ab', 'ab'),
    ('ecma262', '(\w)\1', 'hello', 'hello'),
    ('ecma262', '(\w)\1', 'helo', 'helo'),
    ('ecma262', '\bcat\b', 'a cat!', 'a cat!'),
    ('ecma262', '\bcat\b', 'concat', 'concat'),
    ('ecma262', '^x{300}$', repeat('x', 300), '300 x'),
    ('ecma262', '^x{300}$', repeat('x', 301), '301 x'),
    ('ecma262', '^[ab]{2,600}$', repeat('ab', 300), '600 a/b'),
    ('ecma262', '^(ab){300}$', repeat('ab', 300), '300 ab'),
    ('ecma262', '^(a)\1{300}$', repeat('a', 301), '301 a'),
    ('ecma262', '^(?i:straße)$', 'STRAẞE', 'STRAẞE'),
    ('ecma262', '^(?i:ärger)$', 'ÄRGER', 'ÄRGER'),
    ('ecma262', '\p{Letter}cole', 'l''école', 'l''école'),
    ('ecma262', '^\cC$', E'\u0003', 'U+0003'),
    ('ecma262', '^\p{Extended_Pictographic}+$', '😀🎉', 'emoji'),
    ('ecma262', '\p{Emoji_Presentation}', 'plain text', 'plain text'),
    ('ecma262', '^\p{Alpha}+$', 'Zoë', 'Zoë'),
    ('ecma262', '^\p{scx=Hiragana}+$', 'ひらがなー', 'hiragana with prolonged sound mark'),
    ('ecma262', '^\p{sc=Hiragana}+$', 'ひらがなー', 'hiragana with prolonged sound mark'),
    ('re2', '(?i)hello', 'HeLLo world', 'HeLLo world'),
    ('re2', '(?i)k', E'\u212a', 'Kelvin sign'),
    ('re2', '^(?i)\W$', 'ſ', 'long s is a variant of s'),
    ('re2', '^(?i)\P{Lu}$', 'A', 'A'),
    ('ecma262', '^(?i:\P{Lu})$', 'A', 'A (its variant a is not Lu)'),
    ('ecma262', '^(?i:\W)$', 'ſ', 'long s is a variant of s'),
    ('ecma262', '^(?i:[^k])$', 'K', 'Kelvin sign'),
    ('ecma262', '^(?i:s\b)', 'sſ', 'no boundary: long s is a word character under i'),
    ('re2', '^b$', E'a\nb', 'a, newline, b'),
    ('re2', '(?m)^b$', E'a\nb\nc', 'lines a b c'),
    ('re2', 'a.c', E'a\nc', 'a, newline, c'),
    ('re2', '(?s)a.c', E'a\nc', 'a, newline, c'),
    ('re2', '\Qa.c\E', 'abc', 'abc'),
    ('re2', '\Qa.c\E', 'a.c', 'a.c'),
    ('re2', '^\p{Greek}+$', 'αβγ', 'αβγ'),
    ('re2', '^\p{Han}+$', '漢字', '漢字'),
    ('re2', '^[[:upper:]]+\z', 'ABC', 'ABC'),
    ('re2', '^\s$', E'\u000b', 'vertical tab')
) v(d, p, s, what);

-- Patterns that do not translate or compile: SQLSTATE 2201B
SELECT d, p, pg_temp.show(d, p) AS error FROM (VALUES
    ('ecma262', '^(abc]'), ('ecma262', '\a'), ('ecma262', '(?i)abc'), ('ecma262', '(?P<n>x)'),
    ('ecma262', '(?#comment)'), ('ecma262', 'a**'), ('ecma262', '*a'), ('ecma262', '[z-a]'),
    ('ecma262', '\2(a)'), ('ecma262', '\k<nope>'), ('ecma262', '(?<a>.)(?<a>.)'),
    ('ecma262', '\p{NoSuchProperty}'), ('ecma262', '\u{110000}'), ('ecma262', '\x4'),
    ('ecma262', 'a)'), ('ecma262', '(?<=(a))\1'), ('ecma262', '((a){300})\1'), ('ecma262', '\c1'),
    ('ecma262', '\012'), ('ecma262', '^*'),
    ('re2', '(a)\1'), ('re2', '(?=a)'), ('re2', '\C'), ('re2', 'a++'), ('re2', 'x{1001}'),
    ('re2', '[[:nope:]]'), ('re2', '\Z'), ('re2', '(?z)')
) v(d, p);

SELECT lowcode.regex_test('perl', 'a', 'a');
SELECT lowcode.regex_test('ecma262', '(', 'a');

-- Deep nesting is an error, not a crash; long patterns work.
SELECT pg_temp.show('ecma262', repeat('(', 10000) || 'a' || repeat(')', 10000)) AS deep;
SELECT lowcode.regex_test('ecma262', repeat('(', 10000), 'a');
SELECT lowcode.regex_test('ecma262', repeat('(?:a)', 2000), repeat('a', 2000)) AS long_pattern;

-- The cache holds 256 expressions: 600 distinct patterns evict and
-- recompile without changing any answer.
SELECT count(*) FILTER (WHERE lowcode.regex_test('ecma262', '^' || i || '$', i::text)) AS matched,
       count(*) FILTER (WHERE lowcode.regex_test('re2', '^x' || i || '$', i::text)) AS unmatched
FROM generate_series(1, 600) i, generate_series(1, 2) rep;

-- A compiled JSON Schema keeps handles to its patterns; when the cache has
-- evicted them meanwhile, they are compiled again on their next use.
SELECT lowcode.jsonschema_is_valid('{"pattern": "^a+$", "propertyNames": {"pattern": "^k"}}', '"aaa"') AS before_eviction;
SELECT count(*) AS evicting FROM generate_series(1, 600) i WHERE lowcode.regex_test('ecma262', '^q' || i, 'x');
SELECT lowcode.jsonschema_is_valid('{"pattern": "^a+$", "propertyNames": {"pattern": "^k"}}', '"aaa"') AS after_eviction,
       lowcode.jsonschema_is_valid('{"pattern": "^a+$", "propertyNames": {"pattern": "^k"}}', '"aab"') AS no_match,
       lowcode.jsonschema_is_valid('{"pattern": "^a+$", "propertyNames": {"pattern": "^k"}}', '{"k1": 1}') AS key_ok,
       lowcode.jsonschema_is_valid('{"pattern": "^a+$", "propertyNames": {"pattern": "^k"}}', '{"x": 1}') AS key_bad;

-- NULL in, NULL out
SELECT lowcode.regex_test('ecma262', NULL, 'a') IS NULL AS strict;

-- ECMA-262 patterns match on PCRE2 (JIT) where the rewrite can express them
-- (see src/lc/lc_regex_pcre2.c); the same answers as ECMA-262 for what
-- PCRE2 spells differently:
SELECT p, s, lowcode.regex_test('ecma262', p, s) AS matches
FROM (VALUES ('^\v$', E'\x0b'), ('^\s$', U&'\00A0'), ('^\s$', U&'\FEFF'), ('^\S$', U&'\2003'),
             ('^.$', E'\r'), ('^.$', U&'\0085'), ('a$', E'a\n'), ('^[^]$', E'\n'), ('^a[]?b$', 'ab'),
             ('^\cJ$', E'\n'), ('^\x41\u0042\u{43}$', 'ABC'), ('^\ud83d\udc32$', U&'\+01F432'),
             ('^[[:alpha:]]$', 'a'), ('^[[:alpha:]]$', ':]'), ('^\w$', U&'\00E9'), ('\bé', U&'x\00E9'),
             ('^(a)?\1b$', 'b'), ('^(?<y>\d{4})-\k<y>$', '2024-2024'), ('^\p{Lu}$', U&'\00C9'),
             ('^\p{Script=Greek}$', U&'\03B1'), ('^(?<=a)b', 'b'), ('(?<=a+)b$', 'aab'), ('^[\S]$', ' ')) v(p, s);
-- a backtracking engine needs a budget: a pattern that backtracks
-- exponentially stops with 54000 instead of running without end
SELECT lowcode.regex_test('ecma262', '^(a+)+$', repeat('a', 40) || 'b');
SELECT lowcode.jsonschema_is_valid('{"pattern": "^(a+)+$"}', to_jsonb(repeat('a', 40) || 'b'));
-- (CEL's RE2 patterns stay on PostgreSQL's engine, which has no such blow-up)
SELECT lowcode.regex_test('re2', '^(a+)+$', repeat('a', 40) || 'b') AS re2_no_budget_needed;
