#!/usr/bin/env bash
# The database worker under load: expiry delay, expirations per second, and the TPS
# of a concurrent workload while it sweeps.
#
# 1. Expiry delay: 10,000 sessions expiring at random times over 20 s, the
#    worker sweeping every second (lowcode.sweep_interval = 1s): p50/p99/max of
#    ended_at - expires_at.  Goal: p99 <= 2 s.
# 2. Mass expiry: N sessions (default 1,000,000) all past their expiry at once, loaded
#    while the worker is idle (interval 1h), then the interval is set to 1s and the
#    configuration reloaded (SIGHUP wakes the worker): expirations/s =
#    N / (last ended_at - reload time), with nothing else running.  Goal: >= 50,000/s.
# 3. TPS drop: pgbench (1 client) replaying PostgREST's GET with a session through
#    lowcode.pre_request(), SECONDS long, with the worker idle, then while it expires
#    another N sessions (loaded the same way), then idle again; one CPU is kept busy by a
#    nice-19 spinner in all three runs (see bench_spinners_start in common.sh).  The
#    expirations/s of that concurrent sweep are printed too.  Goal: drop <= 5%.
# Usage: bench/session_sweep.sh [N=1000000] [SECONDS=10] [BATCH_DELAY_MS=0] [NICE=10] [BATCH=5000]
#   BATCH_DELAY_MS sets lowcode.sweep_batch_delay (pause between two batches),
#   NICE sets lowcode.worker_nice (the workers' CPU priority; 0 = same as clients).
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55456}
source "$(dirname "$0")/common.sh"
N=${1:-1000000}
SECS=${2:-10}
DELAY=${3:-0}
NICE=${4:-10}
BATCH=${5:-5000}
BENCH_CONF="lowcode.sweep_interval = '1s'
lowcode.sweep_batch_size = $BATCH
lowcode.sweep_batch_delay = '${DELAY}ms'
lowcode.worker_nice = $NICE
lowcode.max_tracked_sessions = 200000"
bench_start
# The sessions below are named by id alone (synthetic token hashes), as in 0.2.0:
# the migration setting accepts that (docs/sessions.md); a proof adds one SHA-256.
bpsql -d postgres -q -c "ALTER SYSTEM SET lowcode.session_proof = optional" -c "SELECT pg_reload_conf()" >/dev/null
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

bpsql -d postgres <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
-- Bulk loads below bypass the quota component's per-row max_sessions trigger
-- (the tenants' tier has no session limit anyway).
ALTER TABLE lowcode.sessions DISABLE TRIGGER lowcode_quota_sessions;
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'enterprise'
  FROM generate_series(1, 100) n;
-- 10,000 long-lived sessions for the concurrent workload.
INSERT INTO lowcode.sessions (tenant_id, id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad((n % 100 + 1)::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'user' || n, sha256(n::text::bytea), interval '2 hours', now() + interval '24 hours', now() + interval '2 hours'
  FROM generate_series(1, 10000) n;
SQL

echo "1. expiry delay: 10,000 sessions expiring at random times over 20 s, sweep interval 1 s"
# They expire from 20 s after the INSERT starts, so that it has committed by then
# even on a busy machine (a row cannot be expired before it is visible).
bpsql -d postgres <<'SQL'
INSERT INTO lowcode.sessions (tenant_id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad((n % 100 + 1)::text, 12, '0'))::uuid, 'spread' || n,
       sha256(('s' || n)::bytea), interval '2 hours', e, e
  FROM (SELECT n, now() + interval '20 seconds' + random() * interval '20 seconds' AS e
          FROM generate_series(1, 10000) n) x;
SELECT CASE WHEN min(expires_at) <= clock_timestamp() THEN 'WARNING: the insert took longer than 20 s' ELSE '' END
  FROM lowcode.sessions WHERE principal LIKE 'spread%';
SELECT pg_sleep_until(max(expires_at) + interval '3 seconds') FROM lowcode.sessions WHERE principal LIKE 'spread%';
SQL
bpsql -d postgres -tA <<'SQL'
SELECT format('   expired %s of 10000; delay p50 %s ms, p99 %s ms, max %s ms',
              count(*),
              round(1000 * percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - expires_at))::numeric),
              round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - expires_at))::numeric),
              round(1000 * max(extract(epoch FROM ended_at - expires_at))::numeric))
  FROM lowcode.sessions WHERE principal LIKE 'spread%' AND state = 'expired';
SQL

# load_mass TAG: N sessions of TAG already past their expiry, the worker idle.
load_mass() {
  bpsql -d postgres <<SQL
ALTER SYSTEM SET lowcode.sweep_interval = '1h';
SELECT pg_reload_conf();
SELECT pg_sleep(1.5);
INSERT INTO lowcode.sessions (tenant_id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad((n % 100 + 1)::text, 12, '0'))::uuid, '$1' || n,
       sha256(('$1' || n)::bytea), interval '2 hours', now() - interval '1 second', now() - interval '1 second'
  FROM generate_series(1, $N) n;
VACUUM ANALYZE lowcode.sessions;
VACUUM ANALYZE lowcode.session_timers;
VACUUM ANALYZE lowcode.events;
CHECKPOINT;
SQL
}
# start_sweep: wake the worker; prints the time of the reload.
start_sweep() {
  bpsql -d postgres -tA -c "SELECT clock_timestamp()"
  bpsql -d postgres -q -c "ALTER SYSTEM SET lowcode.sweep_interval = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
}
# report TAG T0: wait until every session of TAG is expired, print the rate.
report() {
  until [ "$(bpsql -d postgres -tA -c "SELECT count(*) FROM lowcode.sessions WHERE principal LIKE '$1%' AND state = 'active'")" = 0 ]; do sleep 1; done
  bpsql -d postgres -tA <<SQL
SELECT format('   %s sessions expired in %s s after the reload: %s expirations/s; %s session.expired events',
              count(*), round(extract(epoch FROM max(ended_at) - '$2'::timestamptz)::numeric, 2),
              round(count(*) / extract(epoch FROM max(ended_at) - '$2'::timestamptz)::numeric),
              (SELECT count(*) FROM lowcode.events e WHERE e.type = 'session.expired' AND e.payload ->> 'principal' LIKE '$1%'))
  FROM lowcode.sessions WHERE principal LIKE '$1%';
SQL
}

echo "2. mass expiry: $N sessions past their expiry, nothing else running (lowcode.sweep_batch_size = $BATCH, lowcode.sweep_batch_delay = ${DELAY}ms, lowcode.worker_nice = $NICE)"
load_mass mass
t0=$(start_sweep)
report mass "$t0"

as_server_user tee "$W/get.sql" >/dev/null <<'SCRIPT'
\set n random(1, 10000)
\set t :n % 100 + 1
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '","sid":"00000000-0000-4000-8000-' || lpad(:n::text, 12, '0') || '"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/rpc/ping', true), set_config('request.headers', '{}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
select 1;
COMMIT;
SCRIPT

echo "3. TPS of a concurrent GET workload (1 client, ${SECS}s) with the worker idle, then while it expires $N more sessions"
load_mass conc
# One CPU kept busy by a nice-19 spinner in all three runs (see bench_spinners_start in
# common.sh): without it the idle runs pay this virtual machine's cost of waking an idle vCPU on
# every round trip and come out slower than the run beside the sweeping worker.
bench_spinners_start
trap 'bench_spinners_stop; bench_stop' EXIT
idle_tps=$(bench_tps "$W/get.sql" "$SECS")
t0=$(start_sweep)
sweep_tps=$(bench_tps "$W/get.sql" "$SECS")
left=$(bpsql -d postgres -tA -c "SELECT count(*) FROM lowcode.sessions WHERE principal LIKE 'conc%' AND state = 'active'")
report conc "$t0"
# The baseline again, once the sweep is over and its rows vacuumed, to show how much the
# machine itself moved between the runs.
bpsql -d postgres -q -c "VACUUM ANALYZE lowcode.sessions" -c "VACUUM ANALYZE lowcode.session_timers" -c "VACUUM ANALYZE lowcode.events" -c "CHECKPOINT"
idle2_tps=$(bench_tps "$W/get.sql" "$SECS")
bench_spinners_stop
awk -v a="$idle_tps" -v b="$sweep_tps" -v c="$idle2_tps" -v s="$SECS" -v left="$left" -v n="$N" 'BEGIN {
  printf "   %.0f tps with the worker idle, %.0f tps while it sweeps, %.0f tps idle again: drop %.1f%% (against the mean of the idle runs: %.1f%%); %d of %d sessions still to expire when the sweeping run ended\n", a, b, c, 100 * (a - b) / a, 100 * ((a + c) / 2 - b) / ((a + c) / 2), left, n }'
