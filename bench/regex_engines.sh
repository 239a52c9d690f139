#!/usr/bin/env bash
# The regex engine decision (issue 18, docs/benchmarks.md): the same patterns
# on the same subjects (bench/regex/cases.h) in PCRE2 (interpreter and JIT),
# RE2 and PostgreSQL's engine (the ARE pattern pg_lowcode's translator makes,
# `~` in a backend: CPU time beyond the scan of 100,000 rows).  ns per match,
# CPU time, best of ROUNDS, the engines interleaved round by round.
#   bench/regex_engines.sh        env: ROUNDS (7), BENCH_PORT (55490)
# Needs libpcre2-dev, libre2-dev and pkg-config (LOWCODE_WITH_BENCH=1 scripts/install-deps.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds=${ROUNDS:-7}
bin=$TOP/tmp_bench/regex; mkdir -p "$bin"
cc -O2 -Wall -o "$bin/pcre2_bench" "$TOP/bench/regex/pcre2_bench.c" $(pkg-config --cflags --libs libpcre2-8)
c++ -O2 -Wall -o "$bin/re2_bench" "$TOP/bench/regex/re2_bench.cc" $(pkg-config --cflags --libs re2)
bench_start
"$bin/pcre2_bench" --list | bpsql -c "CREATE TABLE cases (name text, pattern text, subject text)" \
  -c "\copy cases FROM pstdin WITH (FORMAT csv, DELIMITER E'\t', QUOTE E'\x01')" -c "ALTER TABLE cases ADD COLUMN ord serial"
bpsql <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE FUNCTION cpu_ns() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint $$;
ALTER TABLE cases ADD COLUMN are text;
UPDATE cases SET are = lowcode.regex_translate('ecma262', pattern);
CREATE TABLE subj AS SELECT c.name, c.subject AS s FROM cases c, generate_series(1, 100000);
CREATE INDEX ON subj (name);
CLUSTER subj USING subj_name_idx;
VACUUM ANALYZE subj;
CREATE TABLE best (engine text, name text, ns float8, PRIMARY KEY (engine, name));
CREATE FUNCTION round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE c record; c0 bigint; scan bigint; t bigint; n bigint;
BEGIN
    SET LOCAL max_parallel_workers_per_gather = 0;
    FOR c IN SELECT * FROM cases WHERE name <> 'catastrophic' LOOP
        c0 := cpu_ns(); SELECT count(s) INTO n FROM subj WHERE name = c.name; scan := cpu_ns() - c0;
        c0 := cpu_ns(); SELECT count(*) INTO n FROM subj WHERE name = c.name AND s ~ c.are; t := cpu_ns() - c0;
        INSERT INTO best VALUES ('postgresql', c.name, (t - scan)::float8 / 100000)
        ON CONFLICT (engine, name) DO UPDATE SET ns = least(best.ns, excluded.ns);
    END LOOP;
END $$;
SQL
runs=$(mktemp); trap 'rm -f "$runs"; bench_stop' EXIT
for r in $(seq "$rounds"); do
  bpsql -c "SELECT round()" >/dev/null
  "$bin/pcre2_bench" 1 >> "$runs"
  "$bin/re2_bench" 1 >> "$runs"
done
# the catastrophic case in PostgreSQL's engine (its own bounds: no budget error, but its NFA/DFA hybrid is
# not exponential on this pattern): once, timed in the backend
bpsql -At <<'SQL'
DO $$
DECLARE c0 bigint; m boolean;
BEGIN
    c0 := cpu_ns();
    SELECT subject ~ are INTO m FROM cases WHERE name = 'catastrophic';
    RAISE NOTICE 'postgresql catastrophic: % us, %', (cpu_ns() - c0) / 1000, CASE WHEN m THEN 'match' ELSE 'no match' END;
END $$;
SQL
echo "best of $rounds interleaved rounds, ns per match (CPU time)"
cut -f1-3 "$runs" | bpsql -c "CREATE TEMP TABLE r (engine text, name text, ns float8)" -c "\copy r FROM pstdin" -c "
INSERT INTO best SELECT engine, name, min(ns) FROM r GROUP BY 1, 2;
SELECT c.name AS case, c.pattern,
       round(max(ns) FILTER (WHERE engine = 'pcre2-jit')::numeric, 1) AS pcre2_jit,
       round(max(ns) FILTER (WHERE engine = 'pcre2')::numeric, 1) AS pcre2_interp,
       round(max(ns) FILTER (WHERE engine = 're2')::numeric, 1) AS re2,
       round(max(ns) FILTER (WHERE engine = 'postgresql')::numeric, 1) AS postgresql,
       round((max(ns) FILTER (WHERE engine = 'postgresql') / max(ns) FILTER (WHERE engine = 'pcre2-jit'))::numeric, 1) AS pg_over_pcre2_jit,
       round((max(ns) FILTER (WHERE engine = 'postgresql') / max(ns) FILTER (WHERE engine = 're2'))::numeric, 1) AS pg_over_re2
FROM cases c JOIN best b USING (name) GROUP BY c.name, c.pattern ORDER BY min(c.ord);"
