#!/usr/bin/env bash
# CEL benchmark: per-row cost of lowcode.rule_test beside native SQL,
# jsonb_path_match and (when present) lowcode.jsonlogic_apply over 1,000,000
# jsonb rows, all measured side by side in one run on a throwaway instance
# (results: docs/benchmarks.md, "Rules (CEL)").
#
#   bench/rules_cel.sh [ROWS=1000000] [REPEATS=5]
#
# Rule A:  a.b > 3 && c in ["x", "y"]
# Rule B:  (origin == "MOW" || country == "RU") && (value >= 100 || adults == 1)
# Each query runs REPEATS times, rounds interleave the queries; the time is
# the backend's CPU time (/proc/PID/schedstat), the minimum over the repeats is
# kept; "beyond scan" subtracts a plain scan with a trivial qual.  Parallel
# query and JIT are off, so figures are per core.  Compile time: 100,000
# calls whose rule text differs per row (a trailing // comment) with the
# caches off, minus the same calls with one constant text.
set -euo pipefail
export BENCH_PORT=${BENCH_PORT:-55434}
export BENCH_CONF="max_parallel_workers_per_gather = 0
jit = off"
source "$(dirname "$0")/common.sh"
ROWS=${1:-1000000}
REPEATS=${2:-5}
bench_start
PSQL=(bpsql -d postgres)

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
CREATE TABLE texts AS
  SELECT 'a.b > 3 && c in ["x", "y"] // ' || i AS varying,
         'a.b > 3 && c in ["x", "y"]'::text AS same
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE texts;
SQL
HAVE_JL=$("${PSQL[@]}" -At -c "SELECT count(*) FROM pg_proc WHERE proname = 'jsonlogic_apply'")

RULE_A='a.b > 3 && c in ["x", "y"]'
RULE_B='(origin == "MOW" || country == "RU") && (value >= 100 || adults == 1)'
JL_A='{"and":[{">":[{"var":"a.b"},3]},{"in":[{"var":"c"},["x","y"]]}]}'
JL_B='{"and":[{"or":[{"==":[{"var":"origin"},"MOW"]},{"==":[{"var":"country"},"RU"]}]},{"or":[{">=":[{"var":"value"},100]},{"==":[{"var":"adults"},1]}]}]}'
DATA_A='{"a":{"b":5},"c":"x"}'

declare -A Q
NAMES=(scan native_a jsonpath_a cel_a native_b jsonpath_b cel_b compile_same compile_varying)
Q[scan]="SELECT count(*) FROM docs WHERE d IS NOT NULL"
Q[native_a]="SELECT count(*) FROM docs WHERE (d->'a'->>'b')::numeric > 3 AND d->>'c' IN ('x','y')"
Q[jsonpath_a]="SELECT count(*) FROM docs WHERE jsonb_path_match(d, '\$.a.b > 3 && (\$.c == \"x\" || \$.c == \"y\")')"
Q[cel_a]="SELECT count(*) FROM docs WHERE lowcode.rule_test('$RULE_A', d)"
Q[native_b]="SELECT count(*) FROM docs WHERE (d->>'origin' = 'MOW' OR d->>'country' = 'RU') AND ((d->>'value')::numeric >= 100 OR (d->>'adults')::numeric = 1)"
Q[jsonpath_b]="SELECT count(*) FROM docs WHERE jsonb_path_match(d, '(\$.origin == \"MOW\" || \$.country == \"RU\") && (\$.value >= 100 || \$.adults == 1)')"
Q[cel_b]="SELECT count(*) FROM docs WHERE lowcode.rule_test('$RULE_B', d)"
Q[compile_same]="SET lowcode.rules_cache_size = 0; SELECT count(*) FROM texts WHERE lowcode.rule_test(same, '$DATA_A')"
Q[compile_varying]="SET lowcode.rules_cache_size = 0; SELECT count(*) FROM texts WHERE lowcode.rule_test(varying, '$DATA_A')"
if [ "$HAVE_JL" = 1 ]; then
  NAMES+=(jsonlogic_a jsonlogic_b)
  Q[jsonlogic_a]="SELECT count(*) FROM docs WHERE lowcode.jsonlogic_apply('$JL_A', d)::boolean"
  Q[jsonlogic_b]="SELECT count(*) FROM docs WHERE lowcode.jsonlogic_apply('$JL_B', d)::boolean"
fi

# every form of a rule must select the same rows before anything is timed
res() { "${PSQL[@]}" -At -c "$1" | tail -1; }
a=(); for n in native_a jsonpath_a cel_a $([ "$HAVE_JL" = 1 ] && echo jsonlogic_a); do a+=("$n=$(res "${Q[$n]}")"); done
b=(); for n in native_b jsonpath_b cel_b $([ "$HAVE_JL" = 1 ] && echo jsonlogic_b); do b+=("$n=$(res "${Q[$n]}")"); done
echo "rule A matches: ${a[*]}"; echo "rule B matches: ${b[*]}"
[ "$(printf '%s\n' "${a[@]}" | cut -d= -f2 | sort -u | wc -l)" = 1 ] &&
[ "$(printf '%s\n' "${b[@]}" | cut -d= -f2 | sort -u | wc -l)" = 1 ] &&
[ "$(res "${Q[compile_varying]}")" = 100000 ] || { echo "results differ" >&2; exit 1; }

# CPU time of the backend running the query (/proc/PID/schedstat: nanoseconds
# on a CPU), in ms: the machine is shared, so wall-clock time would measure
# the neighbours too.
time_query() {
  local out
  out=$("${PSQL[@]}" -At <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
\! cut -d' ' -f1 /proc/\$BPID/schedstat
$1;
\! cut -d' ' -f1 /proc/\$BPID/schedstat
SQL
)
  echo "$out" | awk 'NR == 1 {a = $1} END {printf "%.1f", ($1 - a) / 1e6}'
}
"${PSQL[@]}" -c "${Q[scan]}" >/dev/null
declare -A T M
for ((r = 1; r <= REPEATS; r++)); do
  for n in "${NAMES[@]}"; do T[$n]+="$(time_query "${Q[$n]}") "; done
done
# the minimum: interference from other processes only ever adds time
for n in "${NAMES[@]}"; do M[$n]=$(echo "${T[$n]}" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1); done

per_row() { awk -v t="${M[$1]}" -v s="${M[scan]}" -v n="$ROWS" 'BEGIN {printf "%.3f", (t-s)*1000/n}'; }
echo
echo "rows: $ROWS, repeats: $REPEATS (minimum backend CPU time), PostgreSQL $("${PSQL[@]}" -At -c 'SHOW server_version'), $(nproc) CPUs"
printf "%-16s %10s %20s %16s\n" query "CPU ms" "us/row beyond scan" "vs native SQL"
for n in "${NAMES[@]}"; do
  case "$n" in
    scan) printf "%-16s %10s\n" "$n" "${M[$n]}" ;;
    compile_*) ;;
    *_a|*_b)
      nat=native_${n##*_}
      printf "%-16s %10s %20s %16s\n" "$n" "${M[$n]}" "$(per_row "$n")" \
        "$(awk -v x="$(per_row "$n")" -v y="$(per_row "$nat")" 'BEGIN {printf "%.2fx", x/y}')" ;;
  esac
done
[ "$HAVE_JL" = 1 ] || echo "jsonlogic_a/b: lowcode.jsonlogic_apply not installed in this build (slot left for it)"
awk -v v="${M[compile_varying]}" -v s="${M[compile_same]}" \
  'BEGIN {printf "compile time of rule A (parse, fold, cache miss): %.2f us per call\n", (v-s)*1000/100000}'
