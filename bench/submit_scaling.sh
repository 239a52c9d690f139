#!/usr/bin/env bash
# Validated submissions under concurrency (issue 21), through PostgREST's replayed transaction,
# with fsync and synchronous_commit ON (as a real deployment).
#
# 16 tenants of a tier whose rate limit never triggers, 1,600 active sessions. pgbench
# (prepared) replays what PostgREST sends for a POST: BEGIN; set_config of role, search_path,
# claims, method, path, headers, cookies; lowcode.pre_request(); the statement; COMMIT.
#   P0   plain insert into a make_tenant_table table (claims mode: tenant_id in the JWT)
#   P1a  the same insert into a table whose jsonb column has attach_validation (the CHECK trigger)
#   P1s  lowcode.submit() (pinned version, an x-rule, audit row, event)
#   P2   lowcode.submit() with a session (sid in the JWT: session step) and rate limiting
#   A    what bench/appserver (Node: fastify + ajv + pg) sends for the same submission: one
#        prepared statement, outside a transaction block, writing the same three rows (submission,
#        audit row, event) into plain tables, as the table owner, no row security, no NOTIFY (its
#        validation ran in Node); not in the default VARIANTS: for BENCH_CALLGRIND, to set the
#        database's share of an app server's request beside PostgREST's (issue 21)
# Each configuration runs at 1, 8, 32 and 64 clients, ROUNDS times, interleaved (round r runs
# every variant at every client count before round r+1), SECONDS per run.  Printed: median
# requests/s and p99 latency over the rounds, the ratio to P0 at the same client count, and the
# server CPU per request: user+system time of every server process (the live ones and, through
# the postmaster's cutime/cstime, the backends that exited) during the run, divided by the
# transactions.  That includes the WAL writer and the database worker (which delivers events).
#
# Usage: bench/submit_scaling.sh [SECONDS_PER_RUN=10] [ROUNDS=3] [CLIENTS="1 8 32 64"] [VARIANTS="P0 P1a P1s P2"]
# Then, the event delivery delay: 2,000 submissions at about 200/s from one client while
# pgbench runs P1s at 32 clients; a listener on the tenant's channel records when each event
# arrives; delay = arrival - the moment the submitting COMMIT returned.  Printed: p50, p99, max.
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55444}
source "$(dirname "$0")/common.sh"
SECS=${1:-10}
ROUNDS=${2:-3}
CLIENTS=${3:-"1 8 32 64"}
VARIANTS=${4:-"P0 P1a P1s P2"}
BENCH_CONF="fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 150
lowcode.max_tracked_sessions = 8192
# P2's JWTs name their session by sid alone (no sid_proof claim: pgbench cannot compute one per
# caller); the session step's cost is the same lookup, by id instead of by the proof's hash
lowcode.session_proof = optional"
bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

echo "setup: 16 tenants, 1,600 sessions, tables p0 / p1a, subject 'leave' per tenant..."
bpsql -d postgres <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
INSERT INTO lowcode.tiers (name, session_idle_timeout, session_absolute_lifetime, requests_per_second,
                           request_burst, statement_timeout, work_mem_kb)
VALUES ('bench', '2 hours', '24 hours', 2000000000, 2000000000, '60 seconds', 4096);
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'bench'
  FROM generate_series(1, 17) n;
ALTER TABLE lowcode.sessions DISABLE TRIGGER lowcode_quota_sessions;
-- session n belongs to tenant n % 16 + 1
INSERT INTO lowcode.sessions (tenant_id, id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad((n % 16 + 1)::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'user' || n, sha256(n::text::bytea), interval '2 hours', now() + interval '24 hours', now() + interval '2 hours'
  FROM generate_series(1, 1600) n;
ALTER TABLE lowcode.sessions ENABLE TRIGGER lowcode_quota_sessions;
CREATE TABLE public.p0 (id bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL);
SELECT lowcode.make_tenant_table('public.p0');
CREATE TABLE public.p1a (id bigint GENERATED ALWAYS AS IDENTITY, data jsonb NOT NULL);
SELECT lowcode.make_tenant_table('public.p1a');
GRANT SELECT, INSERT ON public.p0, public.p1a TO authenticated;
SQL
bpsql -d postgres -f "$TOP/bench/appserver/schema.sql" >/dev/null   # variant A's tables
SCHEMA='{"type": "object", "required": ["start_date", "end_date", "reason"],
  "properties": {"start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
                 "reason": {"type": "string", "maxLength": 200}, "days": {"type": "integer", "minimum": 1}},
  "x-rules": [{"rule": "end_date >= start_date", "message": "the end date must not be before the start date", "path": "/end_date"}]}'
for t in $(seq 1 17); do
  tid="00000000-0000-0000-0000-$(printf %012d "$t")"
  bpsql -d postgres -v schema="$SCHEMA" -v tid="$tid" <<'SQL' >/dev/null
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', json_build_object('tenant_id', :'tid')::text, true);
SELECT lowcode.pre_request();
RESET ROLE;
SELECT lowcode.register_schema('leave', :'schema'::jsonb);
COMMIT;
SQL
done
bpsql -d postgres -c "SELECT lowcode.attach_validation('public.p1a', 'data', 'leave')" >/dev/null
bpsql -d postgres -c "VACUUM ANALYZE" >/dev/null

BODY="'{\"start_date\": \"2026-05-02\", \"end_date\": \"2026-05-04\", \"reason\": \"holiday\", \"days\": 3}'"
write_script() {  # name, claims expression, statement
  as_server_user tee "$W/$1.sql" >/dev/null <<SCRIPT
\set n random(1, 1600)
\set t :n % 16 + 1
BEGIN ISOLATION LEVEL READ COMMITTED;
select set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', $2, true), set_config('request.method', 'POST', true), set_config('request.path', '/$1', true), set_config('request.headers', '{"accept":"application/json","content-type":"application/json"}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
$3
COMMIT;
SCRIPT
}
TENANT="'\"tenant_id\":\"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '\"'"
SID="'\"sid\":\"00000000-0000-4000-8000-' || lpad(:n::text, 12, '0') || '\"'"
WITH_SID="'{\"role\":\"authenticated\",' || $TENANT || ',' || $SID || '}'"
NO_SID="'{\"role\":\"authenticated\",' || $TENANT || '}'"
write_script P0  "$NO_SID"   "WITH s AS (INSERT INTO \"public\".\"p0\" (data) VALUES ($BODY::jsonb) RETURNING id) SELECT id FROM s;"
write_script P1a "$NO_SID"   "WITH s AS (INSERT INTO \"public\".\"p1a\" (data) VALUES ($BODY::jsonb) RETURNING id) SELECT id FROM s;"
write_script P1s "$NO_SID"   "select \"lowcode\".\"submit\"('leave', $BODY::jsonb);"
write_script P2  "$WITH_SID" "select \"lowcode\".\"submit\"('leave', $BODY::jsonb);"
# A: bench/appserver/server.js's SUBMIT statement, with its parameters as pgbench gives them
as_server_user tee "$W/A.sql" >/dev/null <<SCRIPT
\set n random(1, 1600)
\set t :n % 16 + 1
WITH s AS (INSERT INTO app.submissions (tenant_id, subject, version, data, created_by)
                 VALUES (('00000000-0000-0000-0000-' || lpad(:t::text, 12, '0'))::uuid, 'leave', 1, $BODY::jsonb, 'authenticated') RETURNING id, subject, version, status, created_at), a AS (INSERT INTO app.audit (tenant_id, actor, action, subject, version, details) SELECT ('00000000-0000-0000-0000-' || lpad(:t::text, 12, '0'))::uuid, 'authenticated', 'submission_created', s.subject, s.version, jsonb_build_object('id', s.id, 'status', s.status) FROM s), e AS (INSERT INTO app.events (tenant_id, type, payload) SELECT ('00000000-0000-0000-0000-' || lpad(:t::text, 12, '0'))::uuid, 'registry.submission_created', jsonb_build_object('id', s.id, 'status', s.status, 'subject', s.subject, 'version', s.version) FROM s) SELECT id, subject, version, status, created_at FROM s;
SCRIPT

# the transaction in parts, for BENCH_CALLGRIND's per-statement attribution: E0 BEGIN and COMMIT,
# E1 with the set_config statement, E2 with pre_request() too (P0 and P1s add their statement)
sed '/set_config\|pre_request\|^WITH\|submit/d' "$W/P0.sql" | as_server_user tee "$W/E0.sql" >/dev/null
sed '/pre_request\|^WITH/d' "$W/P0.sql" | as_server_user tee "$W/E1.sql" >/dev/null
sed '/^WITH/d' "$W/P0.sql" | as_server_user tee "$W/E2.sql" >/dev/null

# BENCH_PROFILE=FILE: after the setup, run FILE with psql instead of the benchmark (profiling aid)
if [ -n "${BENCH_PROFILE:-}" ]; then bpsql -d postgres -f "$BENCH_PROFILE"; exit 0; fi

# BENCH_CALLGRIND=N: instead of the benchmark, count the instructions of one PostgREST-shaped
# transaction of each variant (valgrind's callgrind: exact, unmoved by the machine's load).  The
# server restarts under callgrind (every process: backends, WAL writer, the database worker);
# each variant runs on one pgbench connection twice, for 200 and for 200 + N transactions, and
# the difference of the two backends' counts divided by N is what one transaction costs once warm
# (first-use costs cancel out: a first run warms what lives in shared memory, and 200 transactions
# reach each of the 16 tenants, whose compiled form each backend caches, with odds of 1 in 10^5).  The database worker is restarted before each run and ended
# after it, so that its delivery transactions are counted the same way.  Printed per variant: instructions
# per transaction by function (inclusive), in $BENCH_DIR/callgrind/; bench/callgrind_tx.py
# groups them into the table of docs/benchmarks.md.
if [ -n "${BENCH_CALLGRIND:-}" ]; then
  CG=$BENCH_DIR/callgrind; as_server_user rm -rf "$CG"; as_server_user mkdir -p "$CG"; : >"$CG/workers"
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -m fast -w stop >/dev/null
  (cd "$CG" && as_server_user valgrind --tool=callgrind --trace-children=yes --dump-instr=no \
     --callgrind-out-file="$CG/cg.%p" "$STAGE_BIN/postgres" -D "$BENCH_DIR/data" -c autovacuum=off \
     >"$CG/valgrind.log" 2>&1 &)
  for _ in $(seq 300); do as_server_user "$STAGE_BIN/pg_isready" -q -h "$BENCH_DIR" -p "$BENCH_PORT" && break; sleep 1; done
  sleep 5
  # the database worker, restarted (by the launcher) so that its callgrind file covers one run
  new_worker() {
    local old w
    old=$(bpsql -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'")
    [ -n "$old" ] && { echo "$old" >>"$CG/workers"; bpsql -d postgres -Atc "SELECT pg_terminate_backend($old)" >/dev/null; }
    for _ in $(seq 120); do
      sleep 1
      w=$(bpsql -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'")
      [ -n "$w" ] && [ "$w" != "$old" ] && { sleep 3; echo "$w"; return; }
    done
    echo "no database worker" >&2; exit 1
  }
  pgb1() { as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared -c 1 "$@" postgres >/dev/null; }
  # the pgbench connection's backend: of the new files that are not a worker's, the one that
  # counted most (the others are the short psql connections of this script)
  newfile() {
    local f
    for f in $(comm -13 <(echo "$1") <(ls "$CG") | grep '^cg\.[0-9]*$' | grep -vxF -f <(sed 's/^/cg./' "$CG/workers"; echo "cg.$2")); do
      echo "$(sed -n 's/^summary: *//p' "$CG/$f" | head -1) $f"
    done | sort -n | tail -1 | cut -d' ' -f2
  }
  for v in $VARIANTS; do
    pgb1 -t 50 -f "$W/$v.sql"   # warm-up: what the first transactions make in shared memory
    for t in 200 $((200 + BENCH_CALLGRIND)); do
      w=$(new_worker)
      before=$(ls "$CG")
      pgb1 -t "$t" -f "$W/$v.sql"
      sleep 3
      b=$(newfile "$before" "$w")
      new_worker >/dev/null   # ends worker $w: its file is written
      as_server_user callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$CG/$b" >"$CG/$v-$t.backend.txt"
      as_server_user callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$CG/cg.$w" >"$CG/$v-$t.worker.txt"
    done
    python3 "$(dirname "$0")/callgrind_tx.py" "$BENCH_CALLGRIND" "$CG/$v-200.backend.txt" "$CG/$v-$t.backend.txt" \
      "$CG/$v-200.worker.txt" "$CG/$v-$t.worker.txt" | as_server_user tee "$CG/$v.tx" >/dev/null
    echo "$v: $(head -1 "$CG/$v.tx")"
  done
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -m fast -w stop >/dev/null || true
  echo "per-transaction instructions by function: $CG/<variant>.tx"
  exit 0
fi

pgb() { as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared "$@" postgres; }
for v in $VARIANTS; do
  out=$(pgb -t 100 -f "$W/$v.sql" 2>&1)
  echo "$out" | grep -q 'number of failed transactions: 0' || echo "$out" | grep -q 'actually processed: 100/100' \
    || { echo "variant $v fails:"; echo "$out"; exit 1; }
done

PMPID=$(head -1 "$BENCH_DIR/data/postmaster.pid")
# BENCH_SPLIT=1: instead of the benchmark, the server's user and system CPU per transaction of P0
# and P1s at 8 and 32 clients (8 s each, two rounds): what the instruction counts of
# BENCH_CALLGRIND leave out (the kernel's share, cache misses, spinning)
if [ -n "${BENCH_SPLIT:-}" ]; then
  split_ticks() {
    local u s cu cs c
    read -r u s < <(awk '{print $16, $17}' "/proc/$PMPID/stat")
    for c in $(pgrep -P "$PMPID"); do
      read -r cu cs < <(awk '{print $14, $15}' "/proc/$c/stat" 2>/dev/null || echo "0 0")
      u=$((u + cu)); s=$((s + cs))
    done
    echo "$u $s"
  }
  HZ=$(getconf CLK_TCK)
  for r in 1 2; do for c in 8 32; do for v in P0 P1s; do
    read -r u0 s0 < <(split_ticks)
    out=$(pgb -c "$c" -j 4 -T 8 -f "$W/$v.sql" 2>&1)
    sleep 0.3
    read -r u1 s1 < <(split_ticks)
    tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    awk -v v="$v" -v c="$c" -v tx="$tx" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$HZ" -v r="$r" 'BEGIN {
      printf "round %d  %-4s %2d clients %6d tx  user %5.0f us/tx  system %5.0f us/tx\n", r, v, c, tx, u / hz * 1e6 / tx, s / hz * 1e6 / tx }'
  done; done; done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
# CPU ticks of the server: the postmaster's reaped children plus every live child.
server_ticks() {
  local total c
  total=$(awk '{print $16 + $17}' "/proc/$PMPID/stat")
  for c in $(pgrep -P "$PMPID"); do
    [ -r "/proc/$c/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
RES=$W/results; as_server_user rm -f "$RES"; as_server_user touch "$RES"
echo "fsync = on, synchronous_commit = on; ${SECS}s per run, $ROUNDS interleaved rounds; the machine is shared"
echo "with other jobs: read the ratios (measured in the same rounds), not the absolute figures."
for r in $(seq "$ROUNDS"); do
  for c in $CLIENTS; do
    for v in $VARIANTS; do
      (cd "$W" && as_server_user rm -f pgbench_log.*)
      t0=$(server_ticks)
      out=$(cd "$W" && pgb -c "$c" -j "$(( c < 4 ? c : 4 ))" -T "$SECS" -l -f "$W/$v.sql" 2>&1)
      sleep 0.3
      t1=$(server_ticks)
      tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
      tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
      p99=$(cd "$W" && cat pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.99)]/1000}')
      cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v n="$tx" 'BEGIN {printf "%.0f", (b - a) / hz * 1e6 / (n ? n : 1)}')
      echo "$r $c $v $tps $p99 $cpu" | as_server_user tee -a "$RES" >/dev/null
      printf "  round %d  %2d clients  %-3s %8.0f req/s  p99 %7.1f ms  server CPU %5d us/req\n" "$r" "$c" "$v" "$tps" "$p99" "$cpu"
    done
  done
done
(cd "$W" && as_server_user rm -f pgbench_log.*)

echo
echo "medians over $ROUNDS rounds: requests/s (p99 ms) [server CPU us/request]; ratio to P0 at the same client count"
echo "(x: of the medians; r: median of the ratios of each round)"
for v in $VARIANTS; do
  line=$(printf "%-4s" "$v")
  for c in $CLIENTS; do
    tps=$(awk -v c="$c" -v v="$v" '$2 == c && $3 == v {print $4}' "$RES" | median)
    p99=$(awk -v c="$c" -v v="$v" '$2 == c && $3 == v {print $5}' "$RES" | median)
    cpu=$(awk -v c="$c" -v v="$v" '$2 == c && $3 == v {print $6}' "$RES" | median)
    base=$(awk -v c="$c" '$2 == c && $3 == "P0" {print $4}' "$RES" | median)
    basecpu=$(awk -v c="$c" '$2 == c && $3 == "P0" {print $6}' "$RES" | median)
    # the median of the ratios measured in the same round (the machine's load moves between rounds)
    rr=$(awk -v c="$c" -v v="$v" '$2 == c && $3 == "P0" {b[$1] = $4} $2 == c && $3 == v {t[$1] = $4}
           END {for (r in t) if (b[r]) print t[r] / b[r]}' "$RES" | median)
    line+=$(awk -v t="$tps" -v p="$p99" -v u="$cpu" -v b="$base" -v bu="$basecpu" -v c="$c" -v rr="$rr" \
      'BEGIN {printf " | %2dc %6.0f (%5.1f) [%4d] x%.2f r%.2f cpu x%.2f", c, t, p, u, (b ? t / b : 0), rr, (bu ? u / bu : 0)}')
  done
  echo "$line"
done

if [ -n "${NO_DELAY:-}" ]; then exit 0; fi
echo
echo "event delivery delay: 2,000 submissions at ~200/s by one client, beside P1s at 32 clients"
pgb -c 32 -j 4 -T 14 -f "$W/P1s.sql" >/dev/null 2>&1 &
LOAD=$!
sleep 1
as_server_user perl "$(dirname "$0")/event_delay.pl" "$BENCH_DIR" "$BENCH_PORT" 2000 200
wait "$LOAD" || true
