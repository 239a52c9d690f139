#!/usr/bin/env bash
# JsonLogic benchmark: per-row cost of lowcode.jsonlogic_apply beside native
# SQL and jsonb_path_match over 1,000,000 jsonb rows, all measured in the same
# run on a temporary instance (results: docs/benchmarks.md, "JsonLogic").
#
#   bench/jsonlogic_bench.sh [ROWS] [REPEATS]      defaults: 1000000 rows, 5 repeats
#
# Builds and stages the extension like scripts/test.sh (tmp_install/), starts
# a private server on port ${LOWCODE_BENCH_PORT:-55442} in tmp_bench/, loads the
# rows, then times each query REPEATS times (rounds interleave the queries) and
# reports the median of the backend's CPU time.  Parallel query is off, so
# figures are per core.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
ROWS=${1:-1000000}
REPEATS=${2:-5}
PORT=${LOWCODE_BENCH_PORT:-55442}
DIR=$TOP/tmp_bench/jsonlogic

stage_install
rm -rf "$DIR"; mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown "$RUN_AS" "$DIR"
as_server_user "$STAGE_BIN/initdb" -D "$DIR/data" -U postgres >/dev/null
cat >> "$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'pg_lowcode'
shared_buffers = '512MB'
max_parallel_workers_per_gather = 0
jit = off
CONF
as_server_user "$STAGE_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start >/dev/null
trap 'as_server_user "$STAGE_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null' EXIT
PSQL=(as_server_user "$STAGE_BIN/psql" -X -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

"${PSQL[@]}" <<SQL
CREATE EXTENSION pg_lowcode;
CREATE TABLE docs AS
  SELECT jsonb_build_object(
           'a', jsonb_build_object('b', i % 7),
           'c', (ARRAY['x','y','z','w'])[1 + i % 4],
           'origin', (ARRAY['MOW','LED','SVO'])[1 + i % 3],
           'country', (ARRAY['RU','DE','FR','US','KZ'])[1 + i % 5],
           'value', (i * 37) % 200,
           'adults', 1 + i % 3,
           'id', i) AS d
  FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE docs;
-- rule A in every row, for the compile-time measurement (a non-constant argument)
CREATE TABLE rules_a AS
  SELECT '{"and":[{">":[{"var":"a.b"},3]},{"in":[{"var":"c"},["x","y"]]}]}'::jsonb AS r
  FROM generate_series(1, 100000);
VACUUM ANALYZE rules_a;
SELECT count(*) FROM docs;
SQL

RULE_A='{"and":[{">":[{"var":"a.b"},3]},{"in":[{"var":"c"},["x","y"]]}]}'
RULE_B='{"and":[{"or":[{"==":[{"var":"origin"},"MOW"]},{"==":[{"var":"country"},"RU"]}]},{"or":[{">=":[{"var":"value"},100]},{"==":[{"var":"adults"},1]}]}]}'

declare -A Q
NAMES=(scan native_a jsonpath_a jsonlogic_a jsonlogic_a_eq native_b jsonlogic_b compile_a_cached compile_a_uncached)
Q[scan]="SELECT count(*) FROM docs WHERE d IS NOT NULL"
Q[native_a]="SELECT count(*) FROM docs WHERE (d->'a'->>'b')::numeric > 3 AND d->>'c' IN ('x','y')"
Q[jsonpath_a]="SELECT count(*) FROM docs WHERE jsonb_path_match(d, '\$.a.b > 3 && (\$.c == \"x\" || \$.c == \"y\")')"
Q[jsonlogic_a]="SELECT count(*) FROM docs WHERE lowcode.jsonlogic_apply('$RULE_A', d)::boolean"
Q[jsonlogic_a_eq]="SELECT count(*) FROM docs WHERE lowcode.jsonlogic_apply('$RULE_A', d) = 'true'"
Q[native_b]="SELECT count(*) FROM docs WHERE (d->>'origin' = 'MOW' OR d->>'country' = 'RU') AND ((d->>'value')::numeric >= 100 OR (d->>'adults')::numeric = 1)"
Q[jsonlogic_b]="SELECT count(*) FROM docs WHERE lowcode.jsonlogic_apply('$RULE_B', d)::boolean"
# compile time: 100,000 calls with the rule taken from a column (not a
# constant); with the backend cache (one compilation, then a hash lookup per
# call) and without it (one compilation per call).
Q[compile_a_cached]="SELECT count(*) FROM rules_a WHERE lowcode.jsonlogic_apply(r, '{\"a\":{\"b\":5},\"c\":\"x\"}')::boolean"
Q[compile_a_uncached]="SET lowcode.rules_cache_size = 0; ${Q[compile_a_cached]}"

# results must agree before anything is timed
a1=$("${PSQL[@]}" -At -c "${Q[native_a]}"); a2=$("${PSQL[@]}" -At -c "${Q[jsonpath_a]}"); a3=$("${PSQL[@]}" -At -c "${Q[jsonlogic_a]}")
a4=$("${PSQL[@]}" -At -c "${Q[jsonlogic_a_eq]}")
b1=$("${PSQL[@]}" -At -c "${Q[native_b]}"); b2=$("${PSQL[@]}" -At -c "${Q[jsonlogic_b]}")
c1=$("${PSQL[@]}" -At -c "${Q[compile_a_cached]}"); c2=$("${PSQL[@]}" -At -c "${Q[compile_a_uncached]}" | tail -1)
echo "rule A matches: native $a1, jsonb_path_match $a2, jsonlogic $a3; rule B matches: native $b1, jsonlogic $b2"
[ "$a1" = "$a2" ] && [ "$a1" = "$a3" ] && [ "$a1" = "$a4" ] && [ "$b1" = "$b2" ] && [ "$c1" = 100000 ] && [ "$c2" = 100000 ] ||
  { echo "results differ" >&2; exit 1; }

# Each query is timed by the CPU time its backend spent on it (first field of
# /proc/self/schedstat, in ns, read through pg_read_file before and after, in
# the same session): on a shared machine, time spent waiting for a core does
# not count, which wall-clock time would.
time_query() {  # prints the CPU milliseconds of the statement
  "${PSQL[@]}" -At <<Q
SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint AS t0 \gset
$1;
SELECT round((split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint - :t0) / 1e6, 3);
Q
}
"${PSQL[@]}" -c "${Q[scan]}" >/dev/null   # warm the cache
declare -A T
for ((r = 1; r <= REPEATS; r++)); do
  for n in "${NAMES[@]}"; do T[$n]+="$(time_query "${Q[$n]}" | tail -1) "; done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A M
for n in "${NAMES[@]}"; do M[$n]=$(echo "${T[$n]}" | median); done

echo
echo "rows: $ROWS, repeats: $REPEATS (median CPU ms of the backend), PostgreSQL $("${PSQL[@]}" -At -c 'SHOW server_version')"
printf "%-20s %12s %18s\n" query "median ms" "us/row beyond scan"
for n in "${NAMES[@]}"; do
  case "$n" in
    compile_*) printf "%-20s %12s %18s\n" "$n" "${M[$n]}" "$(awk -v t="${M[$n]}" 'BEGIN {printf "%.3f", t*1000/100000}') (per call)" ;;
    *) printf "%-20s %12s %18s\n" "$n" "${M[$n]}" "$(awk -v t="${M[$n]}" -v s="${M[scan]}" -v n="$ROWS" 'BEGIN {printf "%.3f", (t-s)*1000/n}')" ;;
  esac
done
awk -v u="${M[compile_a_uncached]}" -v c="${M[compile_a_cached]}" 'BEGIN {printf "compile time of rule A: %.2f us\n", (u-c)*1000/100000}'
