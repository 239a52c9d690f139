-- Benchmark: regex translation/matching and JSON Schema format checks.
--
-- Per-row cost of lowcode.regex_test (ECMA-262 and RE2 patterns, cached
-- compiled forms) beside PostgreSQL's own ~ operator with the equivalent ARE
-- pattern, and of lowcode.format_check for common formats beside a trivial
-- expression (the floor: a scan that reads every value).  All timings are
-- taken in one run, side by side, on the same rows.
--
--   psql -X -d <database with pg_lowcode> -f bench/common_regex_format.sql
\set ECHO none
\pset footer off
SET client_min_messages = warning;
DROP TABLE IF EXISTS pg_temp.bench_rows;
CREATE TEMP TABLE bench_rows AS
SELECT i,
       'user' || i || '.name@example' || (i % 97) || '.com' AS email,
       to_char(timestamp '2024-01-01' + i * interval '17 minutes', 'YYYY-MM-DD"T"HH24:MI:SS') || 'Z' AS ts,
       'host' || (i % 1000) || '.sub' || (i % 7) || '.example.org' AS host,
       md5(i::text)::uuid::text AS uid,
       (i % 256) || '.' || (i % 200) || '.' || (i % 100) || '.' || (i % 50) AS ip
FROM generate_series(1, 200000) i;
ANALYZE bench_rows;

CREATE OR REPLACE FUNCTION pg_temp.time_us(q text, n int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best numeric := NULL; el numeric;
BEGIN
  FOR r IN 1..3 LOOP                       -- best of three
    t0 := clock_timestamp();
    EXECUTE q;
    el := extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
    best := least(coalesce(best, el), el);
  END LOOP;
  RETURN round(best, 3);
END $$;

WITH q(name, sql) AS (VALUES
  ('floor: count(*) FILTER (WHERE length(email) > 0)',
   'SELECT count(*) FILTER (WHERE length(email) > 0) FROM bench_rows'),
  ('native: email ~ ARE pattern',
   $q$SELECT count(*) FILTER (WHERE email ~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$') FROM bench_rows$q$),
  ('regex_test ecma262, same pattern',
   $q$SELECT count(*) FILTER (WHERE lowcode.regex_test('ecma262', '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$', email)) FROM bench_rows$q$),
  ('regex_test re2, same pattern',
   $q$SELECT count(*) FILTER (WHERE lowcode.regex_test('re2', '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$', email)) FROM bench_rows$q$),
  ('regex_test ecma262 \w+@\w+ (ASCII classes)',
   $q$SELECT count(*) FILTER (WHERE lowcode.regex_test('ecma262', '\w+@\w+', email)) FROM bench_rows$q$),
  ('regex_test ecma262 ^\p{L}+ (Unicode class)',
   $q$SELECT count(*) FILTER (WHERE lowcode.regex_test('ecma262', '^\p{L}+', email)) FROM bench_rows$q$),
  ('format_check email',        'SELECT count(*) FILTER (WHERE lowcode.format_check(''email'', email)) FROM bench_rows'),
  ('format_check date-time',    'SELECT count(*) FILTER (WHERE lowcode.format_check(''date-time'', ts)) FROM bench_rows'),
  ('format_check hostname',     'SELECT count(*) FILTER (WHERE lowcode.format_check(''hostname'', host)) FROM bench_rows'),
  ('format_check idn-hostname', 'SELECT count(*) FILTER (WHERE lowcode.format_check(''idn-hostname'', host)) FROM bench_rows'),
  ('format_check uuid',         'SELECT count(*) FILTER (WHERE lowcode.format_check(''uuid'', uid)) FROM bench_rows'),
  ('format_check ipv4',         'SELECT count(*) FILTER (WHERE lowcode.format_check(''ipv4'', ip)) FROM bench_rows'),
  ('format_check uri',          'SELECT count(*) FILTER (WHERE lowcode.format_check(''uri'', ''https://'' || host || ''/p?q='' || i)) FROM bench_rows')
)
SELECT name, pg_temp.time_us(sql, 200000) AS us_per_row FROM q;

-- compile time of a pattern that is not cached yet (distinct patterns)
SELECT round(pg_temp.time_us(
  $q$SELECT count(*) FROM generate_series(1, 2000) g WHERE lowcode.regex_test('ecma262', '^[a-z]+' || g || '\d{2,4}(?:-\w+)*$', 'x')$q$,
  2000), 1) AS compile_and_match_us_uncached;
