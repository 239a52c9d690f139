#!/usr/bin/env bash
# README command 2: runs the whole test suite of pg_lowcode.
#
#   scripts/test.sh                      everything: pg_regress suites, TAP tests, then both
#                                        pg_regress suites again against an AddressSanitizer +
#                                        UndefinedBehaviorSanitizer build (scripts/asan.sh)
#   scripts/test.sh --regress [NAME..]   only pg_regress: both suites, or the named tests
#                                        (test/sql/NAME.sql, else test/bad_input/sql/NAME.sql;
#                                        bad_input/NAME for the latter when both exist)
#   scripts/test.sh --tap [FILE..]       only TAP (all, or the named test/t/FILE.pl)
#   scripts/test.sh --asan               only the sanitizer run
#   scripts/test.sh --clients            only the front-end kit's unit tests (clients/js)
#   scripts/test.sh --fuzz               only a short run of the three fuzz harnesses (test/fuzz)
#   scripts/test.sh --bench [NAME..]     only the benchmarks' smoke run (bench/smoke.sh: each one at
#                                        its smallest size must run and print its result)
#   scripts/test.sh --port N             port of the pg_regress temporary instance (default 55400);
#                                        the TAP tests' nodes take ports N+1 to N+39
#
# Builds the extension, stages it into a private copy of PostgreSQL
# (tmp_install/) and runs every test against temporary instances; the system
# installation and its clusters are never touched.  Exit status 0 only when
# every test passed.
set -uo pipefail
source "$(dirname "$0")/common.sh"

mode=all
port=${LOWCODE_TEST_PORT:-55400}
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --regress) mode=regress ;;
    --tap) mode=tap ;;
    --asan) mode=asan ;;
    --clients) mode=clients ;;
    --fuzz) mode=fuzz ;;
    --bench) mode=bench ;;
    --port) port=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) names+=("$1") ;;
  esac
  shift
done

# clang and its sanitizer runtimes are needed by the sanitizer run only.
with_clang=0; [ "$mode" = all ] || [ "$mode" = asan ] || [ "$mode" = fuzz ] && with_clang=1
# RE2 (bench/regex_engines.sh) and ajv's node modules are needed by the benchmarks' smoke run only.
with_bench=0; [ "$mode" = all ] || [ "$mode" = bench ] && with_bench=1
if [ "$(id -u)" = 0 ]; then
  LOWCODE_WITH_CLANG=$with_clang LOWCODE_WITH_BENCH=$with_bench "$TOP/scripts/install-deps.sh" || exit 1
fi

# The servers run as $RUN_AS: when it cannot read the checkout or the shared
# data (a clone under root's home, say), run from a copy it can read.
if [ "$(id -u)" = 0 ] && [ -z "${LOWCODE_RELOCATED:-}" ] &&
   ! runuser -u "$RUN_AS" -- test -r "$TOP/test/regress.conf" -a -x "$TOP/test" -a -r "$LOWCODE_SHARED/README.md" 2>/dev/null; then
  copy=$(mktemp -d /tmp/pg_lowcode-test.XXXXXX)
  chmod 755 "$copy"
  echo "test.sh: $RUN_AS cannot read $TOP or $LOWCODE_SHARED; running from a copy in $copy"
  cp -a "$TOP" "$copy/main" && cp -a "$LOWCODE_SHARED" "$copy/shared" || exit 1
  chmod -R a+rX "$copy"
  LOWCODE_RELOCATED=1 LOWCODE_SHARED="$copy/shared" exec "$copy/main/scripts/test.sh" "$@"
fi
if [ ! -d "$LOWCODE_SHARED/testdata" ]; then
  echo "test.sh: shared test data not found at $LOWCODE_SHARED (set LOWCODE_SHARED)" >&2
  exit 1
fi
stage_install || { echo "test.sh: build failed" >&2; exit 1; }

CHECK=$TOP/tmp_check
mkdir -p "$CHECK"
[ "$(id -u)" = 0 ] && chown "$RUN_AS" "$CHECK"
failed=0
summary=()

# One pg_regress suite: run_regress_suite LABEL INPUTDIR TEST...  (tests are
# the names of INPUTDIR/sql/*.sql; none given: all of them).
run_regress_suite() {
  local label=$1 dir=$2; shift 2
  local tests=("$@") out=$CHECK/$label
  if [ ${#tests[@]} -eq 0 ]; then
    for f in "$dir"/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
  fi
  rm -rf "$out"; as_server_user mkdir -p "$out"
  echo "== pg_regress ($label): ${#tests[@]} tests"
  as_server_user "$PGXS_DIR/src/test/regress/pg_regress" \
    --temp-instance="$out/instance" --temp-config="$TOP/test/regress.conf" \
    --bindir="$STAGE_BIN" --inputdir="$dir" --outputdir="$out" \
    --port="$port" --dbname=contrib_regression --load-extension=pg_lowcode "${tests[@]}"
  local rc=$?
  local nfail=0
  [ -f "$out/regression.diffs" ] && nfail=$(grep -c '^diff ' "$out/regression.diffs")
  [ $rc -ne 0 ] && [ "$nfail" -eq 0 ] && nfail=1
  if [ $rc -ne 0 ]; then
    failed=1
    echo "pg_regress ($label) failed; differences in $out/regression.diffs"
    [ -f "$out/regression.diffs" ] && head -c 20000 "$out/regression.diffs"
  fi
  summary+=("$label: $(( ${#tests[@]} - nfail )) passed, $nfail failed")
}

# Both pg_regress suites: test/sql (the component tests) and test/bad_input
# (the bad-input catalogue, one file per public function).  Named tests go to
# the suite that has them.
run_regress() {
  local main=() bad=() n
  for n in "$@"; do
    if [ "${n#bad_input/}" != "$n" ] && [ -f "$TOP/test/$n.sql" -o -f "$TOP/test/bad_input/sql/${n#bad_input/}.sql" ]; then bad+=("${n#bad_input/}")
    elif [ -f "$TOP/test/sql/$n.sql" ]; then main+=("$n")
    elif [ -f "$TOP/test/bad_input/sql/$n.sql" ]; then bad+=("$n")
    else echo "test.sh: no pg_regress test named $n" >&2; failed=1
    fi
  done
  if [ $# -eq 0 ] || [ ${#main[@]} -gt 0 ]; then run_regress_suite regress "$TOP/test" "${main[@]}"; fi
  if [ $# -eq 0 ] || [ ${#bad[@]} -gt 0 ]; then run_regress_suite bad_input "$TOP/test/bad_input" "${bad[@]}"; fi
}

run_tap() {
  local files=() out=$CHECK/tap
  if [ $# -eq 0 ]; then files=("$TOP"/test/t/*.pl); else
    for n in "$@"; do case "$n" in /*) files+=("$n") ;; */*) files+=("$TOP/$n") ;; *) files+=("$TOP/test/t/$n") ;; esac; done
  fi
  [ -e "${files[0]}" ] || { echo "== TAP: no tests"; return; }
  # The scale-out tests (5NN_citus_*) need Citus in the private PostgreSQL
  # copy: built once from ../shared/citus, cached (scripts/build-citus.sh).
  if printf '%s\n' "${files[@]}" | grep -q '/5[0-9][0-9]_citus_[^/]*\.pl$'; then
    if ! "$TOP/scripts/build-citus.sh"; then
      echo "test.sh: building Citus failed" >&2
      failed=1; summary+=("TAP: Citus build FAILED"); return
    fi
  fi
  rm -rf "$out"; as_server_user mkdir -p "$out"
  echo "== TAP: ${#files[@]} files"
  (cd "$out" && as_server_user env \
    PATH="$STAGE_BIN:$PATH" \
    PERL5LIB="$TOP/test/lib:$PGXS_DIR/src/test/perl" \
    PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    TESTDIR="$out" LOWCODE_TOP="$TOP" LOWCODE_SHARED="$LOWCODE_SHARED" LOWCODE_TAP_PORT="$port" \
    prove --timer -I "$TOP/test/lib" "${files[@]}")
  local rc=$?
  if [ $rc -ne 0 ]; then
    failed=1
    echo "TAP failed; server logs in $out/tmp_check/log"
  fi
}

# The front-end kit (clients/js): install its locked npm dependencies, build it
# and run its unit tests (node's test runner).  TAP tests that use it
# (330_client_rules_agreement) need the build.
run_clients() {
  local dir=$TOP/clients/js log=$CHECK/clients.log
  echo "== clients/js: npm ci, build, unit tests"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "test.sh: node and npm are needed for clients/js (scripts/install-deps.sh installs them)" >&2
    failed=1; summary+=("clients/js: FAILED (no node/npm)"); return
  fi
  if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && npm test) >"$log" 2>&1; then
    summary+=("clients/js: $(grep -E '^# pass' "$log" | awk '{print $3}') passed, $(grep -E '^# fail' "$log" | awk '{print $3}') failed")
  else
    failed=1; cat "$log"; summary+=("clients/js: FAILED (see $log)")
  fi
  # the example app (its browser tests run in TAP 340)
  echo "== examples/forms-app: npm ci, build"
  if ! (cd "$TOP/examples/forms-app" && npm ci --no-audit --no-fund --loglevel=error && npm run build) >>"$log" 2>&1; then
    failed=1; tail -30 "$log"; summary+=("examples/forms-app: build FAILED (see $log)")
  fi
  chmod -R a+rX "$dir" "$TOP/examples/forms-app"
}

# Both pg_regress suites against the sanitizer build (scripts/asan.sh).
run_asan() {
  echo "== sanitizers: pg_regress suites against an AddressSanitizer + UBSan build"
  if "$TOP/scripts/asan.sh" --port $((port + 2)); then summary+=("asan: no sanitizer report, every test passed")
  else failed=1; summary+=("asan: FAILED (reports and diffs in $CHECK/asan)"); fi
}

# The three libFuzzer harnesses (test/fuzz), built and run briefly over their
# seeds and regressions: the pure engines still build alone against the fuzz
# shim (no SQL glue), and no input of the seeds crashes.  Long runs: see
# docs/hardening.md, "Fuzzing".
run_fuzz() {
  echo "== fuzz harnesses: build, replay seeds, a short run each"
  local log=$CHECK/fuzz.log ok=1
  mkdir -p "$CHECK"; : >"$log"
  nice "$TOP/test/fuzz/run.sh" 20000 -max_total_time=20 >>"$log" 2>&1 || ok=0
  nice "$TOP/test/fuzz/run_jsonlogic.sh" 20000 -max_total_time=20 >>"$log" 2>&1 || ok=0
  nice "$TOP/test/fuzz/run_jsonschema.sh" 20 >>"$log" 2>&1 || ok=0
  if [ $ok = 1 ]; then summary+=("fuzz: the three harnesses built and ran clean")
  else failed=1; tail -40 "$log"; summary+=("fuzz: FAILED (see $log)"); fi
}

# Every benchmark at its smallest size (bench/smoke.sh): it still runs and
# prints its result.  Last: the benchmarks stage the extension with its
# benchmark-only functions (make LOWCODE_BENCH=1).
run_bench() {
  echo "== benchmarks: smoke run (bench/smoke.sh)"
  local log=$CHECK/bench-smoke.log
  if "$TOP/bench/smoke.sh" "$@" >"$log" 2>&1; then summary+=("bench: $(tail -1 "$log" | sed 's/^bench smoke: //')")
  else failed=1; grep -E '^bench smoke: ' "$log"; summary+=("bench: FAILED ($(tail -1 "$log" | sed 's/^bench smoke: //'); logs in $CHECK/bench-smoke)"); fi
}

case "$mode" in
  all) run_regress; run_clients; run_tap; run_asan; run_fuzz; run_bench ;;
  bench) run_bench "${names[@]}" ;;
  fuzz) run_fuzz ;;
  clients) run_clients ;;
  asan) run_asan ;;
  regress) run_regress "${names[@]}" ;;
  tap) [ -f "$TOP/clients/js/dist/tools/rules-agreement.js" ] && [ -f "$TOP/examples/forms-app/dist/app.js" ] || run_clients
       run_tap "${names[@]}" ;;
esac

for s in "${summary[@]}"; do echo "$s"; done
if [ $failed -ne 0 ]; then echo "test.sh: FAILED"; exit 1; fi
echo "test.sh: all tests passed"
