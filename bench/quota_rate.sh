#!/usr/bin/env bash
# Rate limiting: accuracy under contention, cost of the check, TPS cost.
#
# 1. Accuracy: 64 pgbench clients hammer ONE tenant for about SECONDS through
#    pre_request() (wrapped in a PL/pgSQL block that catches the 429, since
#    pgbench 15 stops a client at its first error).  Admitted requests are
#    read from lowcode.tenant_stats and compared with rate * T + burst, T
#    being the time from the first hammering request to the last one, from
#    pgbench's transaction log (goal: within 1%, never above).
# 2. Cost of the check: lowcode_bench.quota_check_cost() runs the rate check of
#    pre_request() a million times in C, then an empty loop (goal: < 2 us).
# 3. TPS cost for a tenant under its limit: PostgREST's replayed transaction
#    (BEGIN READ ONLY; set_config x7; pre_request(); SELECT 1; COMMIT) with
#    the quota step on and off (lowcode.quotas_enabled), alternating rounds,
#    median TPS (goal: <= 2% slower).
# Usage: bench/quota_rate.sh [SECONDS=10] [ROUNDS=3] [CLIENTS_TPS=8]
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55461}
source "$(dirname "$0")/common.sh"
SECS=${1:-10}
ROUNDS=${2:-3}
CLIENTS=${3:-8}
RATE=${RATE:-500}
BURST=${BURST:-500}
BENCH_CONF="max_connections = 120" bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

bpsql -d postgres <<SQL
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
INSERT INTO lowcode.tenants (id, slug, name, tier) VALUES
  ('00000000-0000-0000-0000-000000000001', 'hammered', 'Hammered', 'free'),
  ('00000000-0000-0000-0000-000000000002', 'unlimited', 'Unlimited', 'enterprise'),
  ('00000000-0000-0000-0000-000000000003', 'starved', 'Starved', 'free');
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000001', 'requests_per_second', $RATE);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000001', 'request_burst', $BURST);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000002', 'requests_per_second', 1000000000);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000002', 'request_burst', 1000000000);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000003', 'requests_per_second', 1);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000003', 'request_burst', 1);
CREATE FUNCTION bench_try() RETURNS int LANGUAGE plpgsql AS \$\$
BEGIN
  PERFORM lowcode.pre_request();
  RETURN 1;
EXCEPTION WHEN sqlstate 'PGRST' THEN
  RETURN 0;
END
\$\$;
SQL
bench_functions_install

# --- 1. accuracy
# Each client first warms its backend up on another tenant (caches, plans)
# and waits 2 s, so that the hammered bucket meets full demand from its first
# request: a bucket that starts full loses whatever refill it gets while
# demand is below the rate (64 cold backends on 2 cores take a while).
as_server_user tee "$W/hammer.sql" >/dev/null <<'SCRIPT'
\if :warm
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-000000000001"}', true);
select bench_try();
COMMIT;
\else
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-000000000002"}', true);
select bench_try();
COMMIT;
\sleep 2 s
\set warm 1
\endif
SCRIPT
# -l: every transaction's start and end, so that T is the time from the
# first hammering request to the last one (warm-up transactions, which last
# over 2 s because of their sleep, are left out)
as_server_user rm -f "$BENCH_DIR"/hlog*
t0=$(date +%s.%N)
as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared \
  -c "${HAMMER_CLIENTS:-64}" -j 2 -T "$((SECS + 3))" -D warm=0 -l --log-prefix="$BENCH_DIR/hlog" -f "$W/hammer.sql" postgres > "$BENCH_DIR/hammer.out" 2>&1
t1=$(date +%s.%N)
read -r admitted rejected < <(bpsql -At -F ' ' -d postgres -c \
  "SELECT requests, rejected_rate FROM lowcode.tenant_stats WHERE slug = 'hammered'")
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$BENCH_DIR/hammer.out")
# log line: client tx latency_us script epoch_s epoch_us
window=$(cat "$BENCH_DIR"/hlog* | awk 'NR == 1 { lo = 1e300; hi = 0 }
  $3 < 1500000 { end = $5 * 1e6 + $6; start = end - $3; if (start < lo) lo = start; if (end > hi) hi = end }
  END { printf "%.6f", (hi - lo) / 1e6 }')
# longest time without any request finishing: a pause longer than burst/rate
# (the CPUs busy elsewhere) lets the bucket overflow, and those tokens are lost
maxgap=$(cat "$BENCH_DIR"/hlog* | awk '$3 < 1500000 { printf "%.0f\n", $5 * 1e6 + $6 }' | sort -n | awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.3f", g / 1e6 }')
echo "accuracy: longest pause between two finished requests: $maxgap s (the bucket overflows after $(echo "scale=3; $BURST / $RATE" | bc) s)"
awk -v a="$admitted" -v r="$rejected" -v rate="$RATE" -v burst="$BURST" -v secs="$SECS" -v win="$window" \
    -v wall="$(echo "$t1 - $t0" | bc)" -v tps="$tps" -v clients="${HAMMER_CLIENTS:-64}" 'BEGIN {
  target = rate * win + burst;
  printf "accuracy: %d clients, %d s, rate %d/s, burst %d: %d attempts (%.0f tps), admitted %d, rejected %d\n", clients, secs, rate, burst, a + r, tps, a, r;
  printf "accuracy: hammering from the first request to the last: T = %.3f s; rate*T+burst = %.0f\n", win, target;
  printf "accuracy: admitted/(rate*T+burst) = %.4f (%+.2f%%), %s\n", a / target, (a / target - 1) * 100,
         (a <= target ? "not above" : "ABOVE");
}'

# --- 2. cost of the check
bpsql -d postgres -c "SELECT 'admitted path' AS path, round(check_ns::numeric, 1) AS check_ns, round(empty_ns::numeric, 2) AS empty_ns, admitted FROM lowcode_bench.quota_check_cost('00000000-0000-0000-0000-000000000002'::uuid, 1000000)
UNION ALL SELECT 'rejected path', round(check_ns::numeric, 1), round(empty_ns::numeric, 2), admitted FROM lowcode_bench.quota_check_cost('00000000-0000-0000-0000-000000000003'::uuid, 1000000)"

# --- 3. TPS cost under the limit
# (a) in one backend: PostgREST's per-request work (set_config of the claims,
#     pre_request(), commit) in a loop, with the quota step on and off
bpsql -d postgres <<SQL
CREATE TEMP TABLE quota_step (mode text, us_per_request float8);
CREATE PROCEDURE bench_loop(n int, mode text) LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; t1 timestamptz;
BEGIN
  PERFORM set_config('lowcode.quotas_enabled', CASE WHEN mode = 'on' THEN 'on' ELSE 'off' END, false);
  COMMIT;
  t0 := clock_timestamp();
  FOR i IN 1 .. n LOOP
    PERFORM set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-000000000002"}', true);
    PERFORM lowcode.pre_request();
    COMMIT;
  END LOOP;
  t1 := clock_timestamp();
  INSERT INTO quota_step VALUES (mode, extract(epoch FROM t1 - t0) * 1e6 / n);
  COMMIT;
END \$\$;
$(for r in $(seq 1 $((ROUNDS * 2 + 1))); do echo "CALL bench_loop(20000, 'on'); CALL bench_loop(20000, 'off');"; done)
SELECT mode, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_request)::numeric, 2) AS median_us_per_request,
       string_agg(round(us_per_request::numeric, 2)::text, ' ') AS runs
  FROM quota_step GROUP BY mode ORDER BY mode DESC;
SELECT round(((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_request) FROM quota_step WHERE mode = 'on')
            - (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_request) FROM quota_step WHERE mode = 'off'))::numeric, 2)
       AS quota_step_us_per_request;
SQL
# (b) pgbench, PostgREST's replayed transaction, alternating rounds
as_server_user tee "$W/postgrest.sql" >/dev/null <<'SCRIPT'
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-000000000002"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/items', true), set_config('request.headers', '{"accept":"application/json"}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
select 1;
COMMIT;
SCRIPT
on=(); off=()
for r in $(seq 1 "$ROUNDS"); do
  on+=("$(bench_tps "$W/postgrest.sql" "$SECS" -c "$CLIENTS" -j 2)")
  off+=("$(PGOPTIONS='-c lowcode.quotas_enabled=off' bench_tps "$W/postgrest.sql" "$SECS" -c "$CLIENTS" -j 2)")
done
m_on=$(printf '%s\n' "${on[@]}" | median); m_off=$(printf '%s\n' "${off[@]}" | median)
echo "pgbench tps with the quota step: ${on[*]} (median $m_on)"
echo "pgbench tps without it:          ${off[*]} (median $m_off)"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "pgbench TPS cost of the quota step (median vs median): %.2f%%\n", (1 - a / b) * 100 }'
