#!/usr/bin/env bash
# pre_request() cost against the number of tenants: 100, 10,000, 100,000.
#
# For each size N, the tenants 1..N exist and every one of them has an entry
# in the quota shared memory table (lowcode.quota_max_tenants = 120000).
# One backend runs PostgREST's per-request work for a random tenant among the
# N (set_config of the claims, pre_request(), COMMIT) ITER times, with the
# quota step on and off (lowcode.quotas_enabled), alternating ROUNDS times.
# Reported: microseconds per request, medians, and their difference (the
# quota step's cost), which must not grow with N.  (pgbench latencies on the
# shared 2-core machine varied by +-50% between runs: too noisy for a
# microsecond difference.)
# Usage: bench/quota_scale.sh [ITER=20000] [ROUNDS=3]
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55462}
source "$(dirname "$0")/common.sh"
ITER=${1:-20000}
ROUNDS=${2:-3}
BENCH_CONF="lowcode.quota_max_tenants = 120000" bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

bpsql -d postgres <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
SQL
bench_functions_install

bpsql -d postgres <<'SQL'
CREATE TABLE scale_runs (tenants int, mode text, us_per_request float8);
CREATE PROCEDURE bench_loop(iter int, ntenants int, mode text) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; t1 timestamptz;
BEGIN
  PERFORM set_config('lowcode.quotas_enabled', mode, false);
  COMMIT;
  t0 := clock_timestamp();
  FOR i IN 1 .. iter LOOP
    PERFORM set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-'
                       || lpad((1 + floor(random() * ntenants))::int::text, 12, '0') || '"}', true);
    PERFORM lowcode.pre_request();
    COMMIT;
  END LOOP;
  t1 := clock_timestamp();
  INSERT INTO scale_runs VALUES (ntenants, mode, extract(epoch FROM t1 - t0) * 1e6 / iter);
  COMMIT;
END $$;
SQL

have=0
printf '%-9s %-10s %-24s %-24s %s\n' tenants entries "us/request, step on" "us/request, step off" "quota step (us, median diff)"
for n in 100 10000 100000; do
  bpsql -d postgres -c "INSERT INTO lowcode.tenants (id, slug, name, tier)
    SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 't' || i, 'Tenant ' || i, 'enterprise'
      FROM generate_series($((have + 1)), $n) i" >/dev/null
  # an entry (with its limits loaded) for every tenant, as after a day of traffic
  bpsql -d postgres -c "SELECT count(lowcode.quota_cached_limits(('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid))
      FROM generate_series($((have + 1)), $n) i" >/dev/null
  bpsql -d postgres -c "VACUUM ANALYZE lowcode.tenants" >/dev/null
  have=$n
  entries=$(bpsql -At -d postgres -c "SELECT entries FROM lowcode.quota_memory()")
  for r in $(seq 1 "$ROUNDS"); do
    bpsql -d postgres -c "CALL bench_loop($ITER, $n, 'on')" -c "CALL bench_loop($ITER, $n, 'off')"
  done
  bpsql -At -F ' ' -d postgres -c "SELECT
      string_agg(round(us_per_request::numeric, 2)::text, ' ' ORDER BY mode DESC, us_per_request) FILTER (WHERE mode = 'on'),
      string_agg(round(us_per_request::numeric, 2)::text, ' ' ORDER BY us_per_request) FILTER (WHERE mode = 'off'),
      round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_request) FILTER (WHERE mode = 'on')
           - percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_request) FILTER (WHERE mode = 'off'))::numeric, 2)
    FROM scale_runs WHERE tenants = $n" | {
    read -r a1 a2 a3 b1 b2 b3 d
    printf '%-9s %-10s %-24s %-24s %s\n' "$n" "$entries" "$a1 $a2 $a3" "$b1 $b2 $b3" "$d"
  }
done

# The rate check alone, in C, spread over all N tenants' entries (pseudo-random
# order: cache misses as with real traffic), against an empty loop.
echo
printf '%-9s %-12s %s\n' tenants "check (ns)" "empty loop (ns)"
for n in 100 10000 100000; do
  bpsql -At -F ' ' -d postgres -c "SELECT round(check_ns::numeric, 1), round(empty_ns::numeric, 2)
      FROM lowcode_bench.quota_check_cost(ARRAY(SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid
                                          FROM generate_series(1, $n) i), 1000000)" | {
    read -r c e; printf '%-9s %-12s %s\n' "$n" "$c" "$e"; }
done
