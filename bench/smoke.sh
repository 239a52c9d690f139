#!/usr/bin/env bash
# Every benchmark of bench/ at its smallest size (scripts/test.sh --bench): each
# must exit 0 and print the line that carries its result, so that a change that
# breaks a benchmark fails the suite instead of surprising the next person who
# measures (two benchmarks had broken unnoticed before this ran in CI). Not a
# measurement: figures of runs this short mean nothing, and none is checked.
#
#   bench/smoke.sh [NAME..]      all of them, or the named ones (names below)
#   env: SMOKE_PORT (first port, 55700; each benchmark takes the next one)
#
# Logs: tmp_check/bench-smoke/NAME.log. Exit status 0 only when every one passed.
set -uo pipefail
source "$(dirname "$0")/../scripts/common.sh"
out=$TOP/tmp_check/bench-smoke
mkdir -p "$out"
port=${SMOKE_PORT:-55700}

# name | command (run from the top of the checkout) | a line of the output that shows a result (ERE)
benchmarks=(
  "jsonschema_bench|bench/jsonschema_bench.sh PORT|form: is_valid / walking scan +\| +-?[0-9.]+"
  "jsonschema_instructions|env INSN_DOCS=50 BENCH_PORT=PORT bench/jsonschema_instructions.sh|^form_nopattern +50 +[0-9]+ +[0-9]+ +[0-9.]+ 50, 50"
  "jsonschema_vs_ajv|env ROUNDS=1 BENCH_PORT=PORT bench/jsonschema_vs_ajv.sh|^ form_nopattern +\| +100000 \| +[0-9.]+ \| +-?[0-9.]+ \| +[0-9.]+ \|.*\| +100000 \| +100000 \| +100000$"
  "regex_engines|env ROUNDS=1 BENCH_PORT=PORT bench/regex_engines.sh|^ bounded +\| .*\| +[0-9.]+ \| +[0-9.]+ \| +[0-9.]+ \| +[0-9.]+ \|"
  "rules_cel|env BENCH_PORT=PORT bench/rules_cel.sh 1000 1|^cel_a +[0-9.]+ +-?[0-9.]+ +-?[0-9.]+x"
  "jsonlogic_bench|env LOWCODE_BENCH_PORT=PORT bench/jsonlogic_bench.sh 1000 1|^jsonlogic_a +[0-9.]+ +-?[0-9.]+"
  "registry_bench|env BENCH_PORT=PORT bench/registry_bench.sh 1 1|^ attach_validation \(validation only\) +\| +[0-9]+ \| +[0-9]+ \| +[0-9.]+"
  "rls_overhead|env BENCH_PORT=PORT bench/rls_overhead.sh 1 1|ratio jsonb_claims / current_tenant \(claims mode\) = [0-9.]+"
  "session_hook|env BENCH_PORT=PORT bench/session_hook.sh 1 1|^  session +[0-9.]+ us/call"
  "session_sweep|env BENCH_PORT=PORT bench/session_sweep.sh 1000 1|0 of 1000 sessions still to expire"
  "quota_rate|env BENCH_PORT=PORT bench/quota_rate.sh 1 1 2|TPS cost of the quota step \(median vs median\): -?[0-9.]+%"
  "quota_scale|env BENCH_PORT=PORT bench/quota_scale.sh 100 1|^100000 +[0-9.]+ +[0-9.]+"
  "quota_rows|env BENCH_PORT=PORT bench/quota_rows.sh 1000 1|^ insert \| +-?[0-9.]+ \| +-?[0-9.]+"
  "submit_scaling|env BENCH_PORT=PORT bench/submit_scaling.sh 1 1|delay from COMMIT returned to notification: p50 [0-9.]+ ms"
  "workflow_bench|env BENCH_PARTS=1 BENCH_PORT=PORT bench/workflow_bench.sh 1 1|server CPU per transaction: fire [0-9.]+ us, plain [0-9.]+ us"
  "postgrest_http|env BENCH_PORT=PORT bench/postgrest_http.sh --seconds 1 --connections 4 --requests submit --sessions off|^submit +off +4 \| +[0-9]+ "
  "metrics_overhead|env BENCH_PORT=PORT METRICS_DASHBOARD_PNG=tmp_check/bench-smoke/dashboard.png bench/metrics_overhead.sh 1 1 10|^  request +metrics on +[0-9.]+ us \| off +[0-9.]+ us"
  "postgrest_phases|env BENCH_PORT=PORT bench/postgrest_http.sh --seconds 1 --connections 1 --requests submit --sessions off --phases 20|^submit +PostgREST +20 \| +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ \| +[0-9.]+ +[0-9]+ \([0-9]+\)$"
  "vm_idle_cpu|env BENCH_PORT=PORT bench/vm_idle_cpu.sh 1|^beside one nice-19 spinner: +[0-9.]+ tps"
  "citus_scaleout|env BENCH_PORT=PORT bench/citus_scaleout.sh 1 1 1|^submit   median: throughput cluster/single [0-9.]+, CPU per request cluster/single [0-9.]+"
)

want=("$@")
failed=()
passed=0
for entry in "${benchmarks[@]}"; do
  IFS='|' read -r name cmd marker <<<"$entry"
  port=$((port + 1))
  if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx "$name"; then continue; fi
  log=$out/$name.log
  if [ "$name" = citus_scaleout ] && ! "$TOP/scripts/build-citus.sh" >"$log" 2>&1; then
    failed+=("$name (building Citus failed, see $log)"); continue
  fi
  start=$(date +%s)
  # shellcheck disable=SC2086  # the command line is split on purpose
  (cd "$TOP" && ${cmd//PORT/$port}) >>"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ]; then
    failed+=("$name (exit status $rc after ${secs}s, see $log)")
  elif ! grep -Eq -- "$marker" "$log"; then
    failed+=("$name (no result line matching /$marker/, see $log)")
  else
    passed=$((passed + 1))
    echo "bench smoke: $name passed (${secs}s)"
  fi
done
for f in "${failed[@]}"; do echo "bench smoke: FAILED $f"; done
echo "bench smoke: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
