#!/usr/bin/env bash
# Workflow benchmarks on a throwaway instance (results: docs/benchmarks.md, "Workflows").
#
#   bench/workflow_bench.sh [SECONDS=15] [CLIENTS=4]     (BENCH_PARTS=23: only parts 2 and 3;
#                                                          BENCH_PARTS=4: only part 4;
#                                                          WORKFLOW_BENCH_CONF: extra server settings)
#
# 1. Transitions per second through PostgREST's transaction shape (BEGIN, the
#    set_config of role, claims and headers, pre_request(), the RPC statement,
#    COMMIT: what PostgrestReplay replays), POST /rpc/fire of a guarded
#    transition with a set action on one of 100,000 records (history row,
#    outbox event, NOTIFY), beside a plain guarded UPDATE of the same table
#    (PATCH /items?id=eq.N&state=eq.idle) whose AFTER trigger writes the same
#    audit row.  Runs alternate (fire, plain, fire, plain); the ratio is the
#    median of each.
# 2. Timer lag with 1,000,000 pending timers: 2,000 timers due over 20 s among
#    a million pending ones; lag = when the worker's transition ran
#    (clock_timestamp() in a trigger) minus the due time; p50 / p99 / max.
# 3. TPS while a mass of timers fires: the fire workload of 1. for SECONDS,
#    alone, then while the worker fires 50,000 timers due at once on the same
#    records, then alone again.
# 4. (not in the default) Instructions per transaction of 1.'s two shapes,
#    counted by callgrind (exact and repeatable, unlike CPU time on a shared
#    machine) in one single-user backend that runs them with PREPARE/EXECUTE
#    (what pgbench -M prepared does); the difference between 230 and 30
#    transactions, so that start-up and first-use caches cancel out.  Without
#    a worker the transition's notification is sent by the transaction itself.
set -euo pipefail
export BENCH_PORT=${BENCH_PORT:-55482}
export BENCH_CONF="max_parallel_workers_per_gather = 0
jit = off
lowcode.sweep_interval = '1s'
${WORKFLOW_BENCH_CONF:-}"
source "$(dirname "$0")/common.sh"
SECS=${1:-15}
CLIENTS=${2:-4}
bench_start
echo "PostgreSQL $(bpsql -d postgres -At -c 'SHOW server_version'), $(nproc) CPUs, $CLIENTS clients, ${SECS}s per run"
W=$BENCH_DIR/work
as_server_user mkdir -p "$W"

bpsql -d postgres -c "CREATE EXTENSION pg_lowcode" >/dev/null
T=$(bpsql -d postgres -At -c "SELECT lowcode.create_tenant('bench', NULL, 'enterprise')")
bpsql -d postgres <<SQL >/dev/null
SELECT lowcode.set_tenant_limit('$T', 'requests_per_second', 1000000000);
SELECT lowcode.set_tenant_limit('$T', 'request_burst', 1000000000);
CREATE ROLE authenticated NOLOGIN;
SELECT lowcode.grant_api_role('authenticated');
CREATE TABLE items (id int NOT NULL, state text, n int NOT NULL DEFAULT 0, fired_at timestamptz);
SELECT lowcode.make_tenant_table('items');
ALTER TABLE items ADD PRIMARY KEY (tenant_id, id);
CREATE TABLE plain_items (id int NOT NULL, state text NOT NULL DEFAULT 'idle', n int NOT NULL DEFAULT 0);
SELECT lowcode.make_tenant_table('plain_items');
ALTER TABLE plain_items ADD PRIMARY KEY (tenant_id, id);
-- the audit row a developer would write for a plain guarded update: what workflow_history holds
CREATE TABLE plain_audit (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, item_id int NOT NULL,
  from_state text, to_state text, payload jsonb NOT NULL DEFAULT '{}', actor_role text, actor_principal text,
  trace_id text, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
ALTER TABLE plain_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY plain_audit_insert ON plain_audit FOR INSERT WITH CHECK (tenant_id = lowcode.current_tenant());
CREATE FUNCTION plain_audit() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  INSERT INTO plain_audit (tenant_id, item_id, from_state, to_state, actor_role, actor_principal, trace_id)
  VALUES (NEW.tenant_id, NEW.id, OLD.state, NEW.state, current_setting('role'),
          current_setting('request.jwt.claims', true)::jsonb ->> 'sub', lowcode.current_trace_id());
  RETURN NULL;
END
\$\$;
CREATE TRIGGER plain_audit AFTER UPDATE ON plain_items FOR EACH ROW EXECUTE FUNCTION plain_audit();
GRANT SELECT, INSERT, UPDATE ON items, plain_items TO authenticated;
GRANT INSERT ON plain_audit TO authenticated;
SELECT lowcode.attach_workflow('items', 'item');
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NEW.state = 'woken' THEN NEW.fired_at := clock_timestamp(); END IF;
  RETURN NEW;
END
\$\$;
CREATE TRIGGER stamp BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION stamp();
SELECT set_config('request.jwt.claims', '{"tenant_id": "$T", "sub": "bench"}', false);
SELECT lowcode.register_workflow('item', '{"initial": "idle", "states": {
  "idle": {"on": {
    "ping": {"guard": {"rule": "self.n >= 0 && payload.by != \"\"", "message": "refused"},
             "actions": [{"type": "set", "fields": {"n": "self.n + 1"}}]},
    "bump": {"actions": [{"type": "set", "fields": {"n": "self.n + 1"}}]},
    "arm": {"target": "waiting"}}},
  "waiting": {"timers": [{"id": "t", "at": "timestamp(payload.at)", "event": "wake"}], "on": {"wake": "woken"}},
  "woken": {"type": "final"}}}');
-- 102,000 records: inserted in bulk, with their instances made in one statement (what the insert
-- trigger would do row by row: same rows, minus the created history rows and events)
ALTER TABLE items DISABLE TRIGGER lowcode_workflow_insert;
INSERT INTO items (id, state) SELECT g, 'idle' FROM generate_series(1, 102000) g;
ALTER TABLE items ENABLE TRIGGER lowcode_workflow_insert;
INSERT INTO lowcode.workflow_instances (tenant_id, rel, record_key, workflow, wf_tenant, version, state, snapshot)
SELECT i.tenant_id, 'items', i.id::text, 'item', i.tenant_id, 1, 'idle', to_jsonb(i) FROM items i;
INSERT INTO lowcode.workflow_counters (tenant_id, shard, instances) VALUES ('$T', 0, 102000);
INSERT INTO plain_items (id) SELECT generate_series(1, 100000);
VACUUM ANALYZE;
SQL

# PostgREST's transaction for POST /rpc/fire and PATCH /plain_items (see test/lib/PostgrestReplay.pm)
prologue="BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
SELECT set_config('search_path', '\"lowcode\", \"public\"', true), set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', '{\"role\": \"authenticated\", \"tenant_id\": \"$T\", \"sub\": \"bench\"}', true),
       set_config('request.method', 'POST', true), set_config('request.path', '/rpc/fire', true),
       set_config('request.headers', '{\"traceparent\": \"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}', true),
       set_config('request.cookies', '{}', true);
SELECT lowcode.pre_request();"
as_server_user tee "$W/fire.sql" >/dev/null <<EOF
\set id random(1, 100000)
$prologue
WITH pgrst_source AS (SELECT "lowcode"."fire"("record" := jsonb_build_object('table', 'items', 'id', :id::int), "event" := 'ping', "payload" := '{"by": "bench"}'::jsonb) AS pgrst_scalar) SELECT null::bigint AS total_result_set, 1 AS page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;
COMMIT;
EOF
as_server_user tee "$W/plain.sql" >/dev/null <<EOF
\set id random(1, 100000)
$prologue
WITH pgrst_source AS (UPDATE "public"."plain_items" SET "n" = "public"."plain_items"."n" + 1 WHERE "public"."plain_items"."id" = :id AND "public"."plain_items"."state" = 'idle' RETURNING "public"."plain_items".*) SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;
COMMIT;
EOF

if [[ "${BENCH_PARTS:-123}" == *4* ]]; then
  command -v valgrind >/dev/null || { echo "valgrind is needed for part 4" >&2; exit 1; }
  echo "== 4. instructions per transaction (callgrind, one single-user backend)"
  # single-user mode (-j): a statement ends with a semicolon and an empty line
  insn_sql() {
    printf '%s\n\n' "PREPARE s AS SELECT set_config('search_path', '\"lowcode\", \"public\"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{\"role\": \"authenticated\", \"tenant_id\": \"$T\", \"sub\": \"bench\"}', true), set_config('request.method', 'POST', true), set_config('request.path', '/rpc/fire', true), set_config('request.headers', '{\"traceparent\": \"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}', true), set_config('request.cookies', '{}', true);" \
      "PREPARE p AS SELECT lowcode.pre_request();" \
      "PREPARE fire(int) AS WITH pgrst_source AS (SELECT \"lowcode\".\"fire\"(\"record\" := jsonb_build_object('table', 'items', 'id', \$1::int), \"event\" := 'ping', \"payload\" := '{\"by\": \"bench\"}'::jsonb) AS pgrst_scalar) SELECT null::bigint AS total_result_set, 1 AS page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;" \
      "PREPARE plain(int) AS WITH pgrst_source AS (UPDATE \"public\".\"plain_items\" SET \"n\" = \"public\".\"plain_items\".\"n\" + 1 WHERE \"public\".\"plain_items\".\"id\" = \$1 AND \"public\".\"plain_items\".\"state\" = 'idle' RETURNING \"public\".\"plain_items\".*) SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;"
    for i in $(seq "$2"); do
      printf '%s\n\n' "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;" "EXECUTE s;" "EXECUTE p;" \
        "EXECUTE $1($(( (i * 7919) % 100000 + 1 )));" "COMMIT;"
    done
  }
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -m fast stop >/dev/null
  declare -A insn
  for s in fire plain; do
    for n in 30 230; do
      insn_sql $s $n | as_server_user tee "$W/insn_${s}_${n}.sql" >/dev/null
      as_server_user valgrind --tool=callgrind --callgrind-out-file="$W/callgrind.$s.$n" \
        "$STAGE_BIN/postgres" --single -j -D "$BENCH_DIR/data" -c jit=off postgres \
        <"$W/insn_${s}_${n}.sql" >"$W/insn_${s}_${n}.log" 2>&1
      if grep -q ERROR "$W/insn_${s}_${n}.log"; then echo "part 4: $s failed, see $W/insn_${s}_${n}.log" >&2; exit 1; fi
      insn[$s.$n]=$(sed -n 's/^totals: *//p' "$W/callgrind.$s.$n")
    done
  done
  as_server_user "$STAGE_BIN/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/server.log" -w start >/dev/null
  fi_=$(( (${insn[fire.230]} - ${insn[fire.30]}) / 200 )); pl_=$(( (${insn[plain.230]} - ${insn[plain.30]}) / 200 ))
  echo "instructions per transaction: fire $fi_, plain $pl_: fire/plain $(echo "$fi_ / $pl_" | bc -l | cut -c1-4)"
  [[ "${BENCH_PARTS:-123}" == *[123]* ]] || exit 0
fi

# CPU time of the server's processes (ms): the postmaster's reaped children (cutime + cstime)
# plus the live ones (utime + stime).  Client (pgbench) CPU is not in it.
server_cpu_ms() {
  local pm; pm=$(head -1 "$BENCH_DIR/data/postmaster.pid")
  { awk '{print $16 + $17}' "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null; done; } |
    awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%d", s * 1000 / hz}'
}
# TPS and server CPU per transaction: run SCRIPT -> "tps cpu_us"
run() {
  local c0 c1 out tps n
  c0=$(server_cpu_ms)
  out=$(as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared \
        -T "$SECS" -c "$CLIENTS" -j 2 -f "$W/$1.sql" postgres 2>/dev/null)
  sleep 1
  c1=$(server_cpu_ms)
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  echo "${tps:-0} $(( (c1 - c0) * 1000 / (n > 0 ? n : 1) ))"
}
if [[ "${BENCH_PARTS:-123}" == *1* ]]; then
echo "== 1. transitions per second (PostgREST transaction shape)"
read -r f1 fc1 <<<"$(run fire)"; read -r p1 pc1 <<<"$(run plain)"; read -r f2 fc2 <<<"$(run fire)"; read -r p2 pc2 <<<"$(run plain)"
echo "fire:  $f1 $f2 tps, server CPU $fc1 $fc2 us per transaction"
echo "plain: $p1 $p2 tps, server CPU $pc1 $pc2 us per transaction"
fm=$(printf '%s\n' "$f1" "$f2" | median); pm=$(printf '%s\n' "$p1" "$p2" | median)
fcm=$(printf '%s\n' "$fc1" "$fc2" | median); pcm=$(printf '%s\n' "$pc1" "$pc2" | median)
echo "median fire $fm tps, plain $pm tps: plain/fire $(echo "$pm / $fm" | bc -l | cut -c1-4)"
echo "server CPU per transaction: fire $fcm us, plain $pcm us: fire/plain $(echo "$fcm / $pcm" | bc -l | cut -c1-4);" \
     "2 cores of server CPU would carry $(echo "2000000 / $fcm" | bc) transitions/s"
bpsql -d postgres -At -c "SELECT 'history rows ' || count(*) FROM lowcode.workflow_history WHERE event = 'ping'"

fi
[[ "${BENCH_PARTS:-123}" == *2* ]] || exit 0
echo "== 2. timer lag with 1,000,000 pending timers"
bpsql -d postgres <<SQL >/dev/null
SELECT set_config('request.jwt.claims', '{"tenant_id": "$T", "sub": "bench"}', false);
-- a million pending timers, due tomorrow and later (instances that do not exist: never fired here)
INSERT INTO lowcode.workflow_timers (tenant_id, instance_id, timer, state, event, due_at)
SELECT '$T', -g, 't', NULL, 'wake', now() + interval '1 day' + g * interval '1 second' FROM generate_series(1, 1000000) g;
ANALYZE lowcode.workflow_timers;
-- 2,000 timers (armed by 'arm' events), then due over 20 s starting 10 s from now: the due times are
-- set after the arming committed, so that the figure is the worker's lag, not the arming's duration
SELECT count(lowcode.fire(jsonb_build_object('table', 'items', 'id', 100000 + g), 'arm',
                          jsonb_build_object('at', now() + interval '1 day')))
  FROM generate_series(1, 2000) g;
SQL
bpsql -d postgres <<SQL >/dev/null
CREATE TABLE due (key int, due_at timestamptz);
WITH u AS (
  UPDATE lowcode.workflow_timers w SET due_at = clock_timestamp() + interval '10 seconds' + (i.record_key::int - 100000) * interval '10 milliseconds'
    FROM lowcode.workflow_instances i WHERE i.tenant_id = w.tenant_id AND i.id = w.instance_id AND w.timer = 't'
  RETURNING i.record_key::int AS key, w.due_at)
INSERT INTO due SELECT * FROM u;
SQL
bpsql -d postgres -At -c "SELECT 'pending timers ' || count(*) FROM lowcode.workflow_timers"
sleep 40
bpsql -d postgres -At <<SQL
SELECT format('fired %s of 2000; lag p50 %s ms, p99 %s ms, max %s ms',
              count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 1),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::numeric, 1), round(max(lag)::numeric, 1))
  FROM (SELECT extract(epoch FROM i.fired_at - h.due_at) * 1000 AS lag
          FROM items i JOIN due h ON h.key = i.id
         WHERE i.id > 100000 AND i.fired_at IS NOT NULL) x;
DELETE FROM lowcode.workflow_timers WHERE instance_id < 0;
SQL

echo "== 3. TPS while 50,000 timers fire"
read -r a1 ac1 <<<"$(run fire)"
bpsql -d postgres -At <<SQL >/dev/null
INSERT INTO lowcode.workflow_timers (tenant_id, instance_id, timer, state, event, due_at)
SELECT i.tenant_id, i.id, 'mass', NULL, 'bump', now() FROM lowcode.workflow_instances i
 WHERE i.rel = 'items'::regclass AND i.record_key::int BETWEEN 1 AND 50000;
SQL
read -r during dc <<<"$(run fire)"
left=$(bpsql -d postgres -At -c "SELECT count(*) FROM lowcode.workflow_timers WHERE timer = 'mass'")
fired=$(bpsql -d postgres -At -c "SELECT count(*) FROM lowcode.workflow_history WHERE event = 'bump'")
bpsql -d postgres -At -c "DELETE FROM lowcode.workflow_timers WHERE timer = 'mass'" >/dev/null
read -r a2 ac2 <<<"$(run fire)"
echo "fire alone: $a1 and $a2 tps; while timers fire: $during tps ($fired timers fired during the run, $left left)"
echo "server CPU per client transaction: alone $ac1 and $ac2 us, while timers fire $dc us (the worker's timers included)"
echo "drop vs the mean of the runs alone: $(echo "100 * (1 - $during / (($a1 + $a2) / 2))" | bc -l | cut -c1-5) %"
