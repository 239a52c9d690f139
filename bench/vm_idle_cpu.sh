#!/usr/bin/env bash
# How much an idle vCPU costs a round trip on this machine: the same GET workload
# (PostgREST's replayed transaction through lowcode.pre_request() with a session, 1
# client) alone, beside SCHED_IDLE spinners on every CPU, and beside one nice-19 spinner.
# Explains why bench/session_hook.sh and bench/session_sweep.sh compare their runs with
# one nice-19 spinner (see bench_spinners_start in common.sh).
# Usage: bench/vm_idle_cpu.sh [SECONDS=5]
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55457}
source "$(dirname "$0")/common.sh"
SECS=${1:-5}
bench_start
# The sessions below are named by id alone (synthetic token hashes), as in 0.2.0:
# the migration setting accepts that (docs/sessions.md); a proof adds one SHA-256.
bpsql -d postgres -q -c "ALTER SYSTEM SET lowcode.session_proof = optional" -c "SELECT pg_reload_conf()" >/dev/null
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"
bpsql -d postgres -q <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
ALTER TABLE lowcode.sessions DISABLE TRIGGER lowcode_quota_sessions;
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'enterprise'
  FROM generate_series(1, 100) n;
INSERT INTO lowcode.sessions (tenant_id, id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad((n % 100 + 1)::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'user' || n, sha256(n::text::bytea), interval '2 hours', now() + interval '24 hours', now() + interval '2 hours'
  FROM generate_series(1, 10000) n;
SQL
as_server_user tee "$W/get.sql" >/dev/null <<'SCRIPT'
\set n random(1, 10000)
\set t :n % 100 + 1
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '","sid":"00000000-0000-4000-8000-' || lpad(:n::text, 12, '0') || '"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/rpc/ping', true), set_config('request.headers', '{}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
select 1;
COMMIT;
SCRIPT
bench_tps "$W/get.sql" 2 >/dev/null   # warm-up
echo "alone:                          $(bench_tps "$W/get.sql" "$SECS") tps"
pids=()
for i in $(seq "$(nproc)"); do chrt --idle 0 sh -c 'while :; do :; done' & pids+=($!); done
echo "beside SCHED_IDLE spinners:     $(bench_tps "$W/get.sql" "$SECS") tps"
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
bench_spinners_start
trap 'bench_spinners_stop; bench_stop' EXIT
echo "beside one nice-19 spinner:     $(bench_tps "$W/get.sql" "$SECS") tps"
