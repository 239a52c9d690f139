# Sourced by benchmarks: a throwaway cluster with the extension, from the staged install.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
BENCH_PORT=${BENCH_PORT:-55490}
BENCH_DIR=$TOP/tmp_check/bench-$BENCH_PORT

bench_start() {
  # the benchmark-only functions (src/quota/quota_bench.c) are compiled in
  LOWCODE_BENCH=1 stage_install
  mkdir -p "$TOP/tmp_check"; [ "$(id -u)" = 0 ] && chown "$RUN_AS" "$TOP/tmp_check"
  as_server_user rm -rf "$BENCH_DIR"
  as_server_user mkdir -p "$BENCH_DIR"
  as_server_user "$STAGE_BIN/initdb" -D "$BENCH_DIR/data" -A trust -U postgres --no-instructions >/dev/null
  as_server_user tee -a "$BENCH_DIR/data/postgresql.conf" >/dev/null <<CONF
port = $BENCH_PORT
listen_addresses = ''
unix_socket_directories = '$BENCH_DIR'
shared_preload_libraries = 'pg_lowcode'
shared_buffers = '1GB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
fsync = off
synchronous_commit = off
full_page_writes = off
${BENCH_CONF:-}
CONF
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/server.log" -w start >/dev/null
  trap bench_stop EXIT
}

bench_stop() {
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -m fast stop >/dev/null 2>&1 || true
}

# The benchmark-only functions (schema lowcode_bench, sql/bench/pg_lowcode_bench.sql)
# in database DB, after CREATE EXTENSION, with a self-check of what they report.
bench_functions_install() {
  local db=${1:-postgres}
  bpsql -d "$db" -f "$("$STAGE_BIN/pg_config" --sharedir)/extension/pg_lowcode_bench.sql"
  bpsql -d "$db" <<'SQL'
DO $$
DECLARE t uuid; r record; st text;
BEGIN
  t := lowcode.create_tenant('bench-selfcheck', 'benchmark self-check');
  PERFORM lowcode.set_tenant_limit(t, 'requests_per_second', 1);
  PERFORM lowcode.set_tenant_limit(t, 'request_burst', 1);
  SELECT * INTO r FROM lowcode_bench.quota_check_cost(t, 1000);
  IF r.admitted > 2 OR r.check_ns <= 0 OR r.empty_ns < 0 THEN
    RAISE 'quota_check_cost self-check: % admitted at 1 request/s, check % ns, empty loop % ns',
      r.admitted, r.check_ns, r.empty_ns;
  END IF;
  SELECT * INTO r FROM lowcode_bench.quota_check_cost(ARRAY[t, t], 4);
  IF r.admitted > 1 THEN RAISE 'quota_check_cost self-check: spread admitted % over an empty bucket', r.admitted; END IF;
  BEGIN PERFORM lowcode_bench.quota_check_cost(t, 0); RAISE 'no error for 0 iterations';
  EXCEPTION WHEN invalid_parameter_value THEN NULL; END;
  BEGIN PERFORM lowcode_bench.quota_check_cost('{}'::uuid[], 4); RAISE 'no error for an empty array';
  EXCEPTION WHEN invalid_parameter_value THEN NULL; END;
  BEGIN PERFORM lowcode_bench.quota_check_cost(ARRAY[NULL::uuid], 4); RAISE 'no error for a NULL tenant';
  EXCEPTION WHEN null_value_not_allowed THEN NULL; END;
  DELETE FROM lowcode.tenants WHERE id = t;
END $$;
SQL
}

bpsql() { as_server_user "$STAGE_BIN/psql" -X -q -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }

# pgbench TPS of one script for N seconds: bench_tps SCRIPT SECONDS [extra pgbench args]
bench_tps() {
  local script=$1 secs=$2; shift 2
  as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared \
    -T "$secs" -f "$script" "$@" postgres 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# Median of numbers on stdin.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# On a virtual machine a round trip between pgbench and its backend costs
# more when the other vCPU is idle (the host deschedules it; the two
# processes wake each other across CPUs) than when some process keeps a CPU
# busy and they share the other one: measured here, the same GET workload ran
# 3,000 tps alone, 4,200-5,200 beside SCHED_IDLE spinners (a CPU running only
# those still counts as idle for wake-up placement) and 10,500 beside one
# nice-19 spinner (bench/vm_idle_cpu.sh), as fast as beside the sweeping worker.  A run
# alone and a run beside a background worker are therefore compared with one
# nice-19 spinner in both (BENCH_SPINNER_COUNT of them); it takes about 1.5%
# of a CPU from a nice-0 process that wants the same CPU.
BENCH_SPINNERS=()
bench_spinners_start() {
  BENCH_SPINNERS=()
  local i
  for i in $(seq "${BENCH_SPINNER_COUNT:-1}"); do
    nice -n 19 sh -c 'while :; do :; done' &
    BENCH_SPINNERS+=($!)
  done
}
bench_spinners_stop() {
  [ ${#BENCH_SPINNERS[@]} -gt 0 ] && kill "${BENCH_SPINNERS[@]}" 2>/dev/null || true
  wait "${BENCH_SPINNERS[@]}" 2>/dev/null || true
  BENCH_SPINNERS=()
  return 0
}

# The Node.js packages of bench/ajv (ajv, SchemaStore's parsers), pinned in its
# package-lock.json: installed with npm ci when node_modules does not match.
node_deps() {
  command -v node >/dev/null && command -v npm >/dev/null ||
    { echo "node and npm are needed (LOWCODE_WITH_BENCH=1 scripts/install-deps.sh installs them)" >&2; exit 1; }
  local d=$TOP/bench/ajv
  if ! cmp -s <(sed 1,3d "$d/package-lock.json") <(sed 1,3d "$d/node_modules/.package-lock.json" 2>/dev/null); then
    (cd "$d" && npm ci --no-audit --no-fund --silent)
  fi
}
