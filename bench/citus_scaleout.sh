#!/usr/bin/env bash
# Scale-out benchmark (issue 17): PostgREST-shaped requests on a 3-node Citus
# cluster on loopback (a coordinator and two workers) against a single node,
# interleaved in one run, with 1,000 tenants spread over the shards.
#
#   bench/citus_scaleout.sh [SECONDS [ROUNDS [CLIENTS]]]    (defaults 10, 3, 4)
#   BENCH_CALLGRIND=N bench/citus_scaleout.sh                instructions of one point read, by process
#
# Each pgbench transaction is one PostgREST request as PostgREST 12 sends it:
# BEGIN; set_config of role and claims; lowcode.pre_request(); the statement;
# COMMIT, as the NOLOGIN role "authenticated", for a tenant drawn at random
# from 1,000.  The statements:
#   point   GET /notes?id=eq.N        (PostgREST's read shape, one row)
#   list    GET /notes?limit=20       (the tenant's 20 rows)
#   submit  POST /rpc/submit          (lowcode.submit: validated against the
#                                      tenant's schema, stored in lowcode.submissions,
#                                      which stays on the coordinator)
#   insert  POST /orders              (PostgREST's insert shape into a tenant table
#                                      whose jsonb column has attach_validation: on the
#                                      cluster distributed, validated on the worker
#                                      against the registry's reference tables)
# and, once, the point read on the cluster with lowcode.citus_router = off
# (what Citus does alone: a fan-out to every shard).
# The same schema and data on both sides: notes made a tenant table on the
# single node, and distributed by lowcode.distribute on the cluster
# (32 shards).  Rounds alternate single / cluster for each statement; the
# report gives each round's requests per second and the median ratio
# cluster / single, and the servers' CPU time per request (every node that
# serves it: on a shared machine CPU per request is steadier than
# throughput).  Figures go to docs/benchmarks.md.
# The four servers listen on ports BENCH_PORT to BENCH_PORT+3 (Unix sockets
# only); without BENCH_PORT, on a random base in 50000-59999.
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"

secs=${1:-10}
rounds=${2:-3}
clients=${3:-4}

stage_install
"$TOP/scripts/build-citus.sh"
dir=$TOP/tmp_check/bench-citus
mkdir -p "$TOP/tmp_check"; [ "$(id -u)" = 0 ] && chown "$RUN_AS" "$TOP/tmp_check"
as_server_user rm -rf "$dir"
as_server_user mkdir -p "$dir"
base=${BENCH_PORT:-$((50000 + RANDOM % 10000))}
# node 0: the single node; 1: the coordinator; 2, 3: the workers
for i in 0 1 2 3; do
  libs='citus,pg_lowcode'; [ $i = 0 ] && libs='pg_lowcode'
  as_server_user "$STAGE_BIN/initdb" -D "$dir/n$i" -A trust -U postgres --no-instructions >/dev/null
  as_server_user tee -a "$dir/n$i/postgresql.conf" >/dev/null <<CONF
port = $((base + i))
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = '$libs'
shared_buffers = '256MB'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
lowcode.context_secret = 'bench-secret'
citus.max_cached_conns_per_worker = 4
CONF
  as_server_user "$STAGE_BIN/pg_ctl" -D "$dir/n$i" -l "$dir/n$i.log" -w start >/dev/null
done
stop_all() { for i in 0 1 2 3; do as_server_user "$STAGE_BIN/pg_ctl" -D "$dir/n$i" -m fast stop >/dev/null 2>&1 || true; done; }
trap stop_all EXIT
psql_n() { local i=$1; shift; as_server_user "$STAGE_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p $((base + i)) -d postgres "$@"; }

for i in 1 2 3; do psql_n $i -c 'CREATE EXTENSION citus' >/dev/null; done
psql_n 1 -c "SELECT citus_set_coordinator_host('$dir', $((base + 1)))" \
  -c "SELECT citus_add_node('$dir', $((base + 2)))" -c "SELECT citus_add_node('$dir', $((base + 3)))" >/dev/null

# The same schema and data on the single node (0) and the coordinator (1).
setup() {
  local i=$1 distribute=$2
  psql_n $i >/dev/null <<SQL
CREATE EXTENSION pg_lowcode;
$( [ "$distribute" = 1 ] && echo "SELECT count(*) FROM lowcode.distribute_registry();" )
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN;
GRANT authenticated TO authenticator;
SELECT lowcode.grant_api_role('authenticated');
CREATE TABLE public.bench_tenants (n int PRIMARY KEY, id uuid NOT NULL, first_id bigint);
GRANT SELECT ON public.bench_tenants TO authenticator, authenticated;
INSERT INTO public.bench_tenants (n, id, first_id) SELECT g, lowcode.create_tenant('t' || g, 'tenant ' || g, 'enterprise'), (g - 1) * 20 + 1 FROM generate_series(1, 1000) g;
CREATE TABLE public.notes (id bigserial, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
SELECT lowcode.make_tenant_table('public.notes');
ALTER TABLE public.notes ADD PRIMARY KEY (tenant_id, id);
$( [ "$distribute" = 1 ] && echo "SELECT lowcode.distribute('public.notes');" )
INSERT INTO public.notes (id, tenant_id, body) SELECT (t.n - 1) * 20 + k, t.id, 'note ' || k FROM public.bench_tenants t, generate_series(1, 20) k;
SELECT setval('public.notes_id_seq', 20000);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes TO authenticated;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated;
DO \$\$
DECLARE t record;
BEGIN
  FOR t IN SELECT id FROM public.bench_tenants LOOP
    PERFORM set_config('request.jwt.claims', json_build_object('tenant_id', t.id)::text, true);
    PERFORM lowcode.register_schema('order', '{"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1, "maximum": 10}, "note": {"type": "string", "maxLength": 200}}, "required": ["qty"], "additionalProperties": false}');
  END LOOP;
END
\$\$;
CREATE TABLE public.orders (id bigserial, doc jsonb NOT NULL);
SELECT lowcode.make_tenant_table('public.orders');
ALTER TABLE public.orders ADD PRIMARY KEY (tenant_id, id);
SELECT lowcode.attach_validation('public.orders', 'doc', 'order');
$( [ "$distribute" = 1 ] && echo "SELECT lowcode.distribute('public.orders');" )
GRANT SELECT, INSERT ON public.orders TO authenticated;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated;
ANALYZE;
SQL
}
setup 0 0
setup 1 1
# Citus opens the shard connections as the request's role: it logs in on the workers only
for i in 2 3; do psql_n $i -c 'SET citus.enable_ddl_propagation = off' -c 'ALTER ROLE authenticated LOGIN' >/dev/null; done

prelude=$(cat <<'EOF'
\set t random(1, 1000)
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
SELECT set_config('search_path', '"public"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', id)::text, true), set_config('request.method', 'GET', true), set_config('request.path', '/notes', true), first_id FROM public.bench_tenants WHERE n = :t \gset
SELECT lowcode.pre_request();
EOF
)
echo "$prelude
WITH pgrst_source AS ( SELECT \"public\".\"notes\".* FROM \"public\".\"notes\" WHERE \"public\".\"notes\".\"id\" = :first_id ) SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM ( SELECT * FROM pgrst_source ) _postgrest_t;
COMMIT;" | as_server_user tee "$dir/point.sql" >/dev/null
echo "$prelude
WITH pgrst_source AS ( SELECT \"public\".\"notes\".* FROM \"public\".\"notes\" ORDER BY \"public\".\"notes\".\"id\" LIMIT 20 OFFSET 0 ) SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM ( SELECT * FROM pgrst_source ) _postgrest_t;
COMMIT;" | as_server_user tee "$dir/list.sql" >/dev/null
echo "$prelude
SELECT lowcode.submit('order', '{\"qty\": 3, \"note\": \"bench\"}');
COMMIT;" | as_server_user tee "$dir/submit.sql" >/dev/null
echo "${prelude//\'GET\'/\'POST\'}
WITH pgrst_source AS (INSERT INTO \"public\".\"orders\"(\"doc\") SELECT pgrst_body.\"doc\" FROM (SELECT '[{\"doc\": {\"qty\": 3, \"note\": \"bench\"}}]'::json AS json_data) pgrst_payload, LATERAL (SELECT \"doc\" FROM json_populate_recordset(null::\"public\".\"orders\", pgrst_payload.json_data)) pgrst_body RETURNING \"public\".\"orders\".*) SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;
COMMIT;" | as_server_user tee "$dir/insert.sql" >/dev/null

# Sanity: a tenant's point read and validated insert run on both (routed to one shard on the cluster).
for i in 0 1; do
  for f in point insert; do
    out=$(as_server_user "$STAGE_BIN/pgbench" -n -h "$dir" -p $((base + i)) -U authenticator -t 5 -c 1 -f "$dir/$f.sql" postgres 2>&1) ||
      { echo "$out"; exit 1; }
  done
done
for i in 0 1; do
  [ "$(psql_n $i -At -c 'SELECT count(*) FROM public.orders')" = 5 ] || { echo "citus_scaleout: the inserts did not store 5 rows on node $i" >&2; exit 1; }
done

# BENCH_CALLGRIND=N: instead of the benchmark, the instructions of one routed point read (point.sql,
# for 10 of the tenants) on each side (valgrind's callgrind: exact, unmoved by the machine's load).  Every node restarts
# under callgrind; the point read runs on one pgbench connection twice, for 200 and for 200 + N
# requests, on the single node and on the coordinator; the difference of the two runs' counts
# divided by N is what one warm request costs: the single node's backend, the coordinator's backend,
# and the worker backends its connection opened (the busiest new process of each worker).
# Printed: those totals and the most expensive functions of each (inclusive), from the files in
# $dir/callgrind.
if [ -n "${BENCH_CALLGRIND:-}" ]; then
  CG=$dir/callgrind; as_server_user rm -rf "$CG"; as_server_user mkdir -p "$CG"
  for i in 0 1 2 3; do as_server_user "$STAGE_BIN/pg_ctl" -D "$dir/n$i" -m fast -w stop >/dev/null; done
  for i in 0 1 2 3; do
    (cd "$CG" && as_server_user valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$CG/n$i.%p" \
       "$STAGE_BIN/postgres" -D "$dir/n$i" -c autovacuum=off >"$CG/valgrind.n$i.log" 2>&1 &)
  done
  for i in 0 1 2 3; do
    for _ in $(seq 300); do as_server_user "$STAGE_BIN/pg_isready" -q -h "$dir" -p $((base + i)) && break; sleep 1; done
  done
  sleep 5
  # ten tenants, not 1,000: a request of a tenant that the quota cache has not seen yet loads its
  # limits (a query), and over a few hundred requests most of 1,000 would be such first requests
  sed 's/random(1, 1000)/random(1, 10)/' "$dir/point.sql" | as_server_user tee "$dir/point10.sql" >/dev/null
  pgb1() { as_server_user "$STAGE_BIN/pgbench" -n -h "$dir" -p $((base + $1)) -U authenticator -M prepared -c 1 -t "$2" -f "$dir/point10.sql" postgres >/dev/null; }
  # the busiest new callgrind file of node $2 since listing $1 (the files are written when a process exits)
  busiest() {
    local f
    for f in $(comm -13 <(echo "$1") <(ls "$CG") | grep "^n$2\.[0-9]*$"); do
      echo "$(sed -n 's/^summary: *//p' "$CG/$f" | head -1) $f"
    done | sort -n | tail -1 | cut -d' ' -f2
  }
  annotate() { as_server_user callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$CG/$1" >"$CG/$2.txt"; }
  for side in single cluster; do
    node=0; [ $side = cluster ] && node=1
    pgb1 $node 50   # warm-up: what the first requests make in shared memory
    for t in 200 $((200 + BENCH_CALLGRIND)); do
      before=$(ls "$CG")
      pgb1 $node "$t"
      sleep 10  # the worker connections end with the coordinator's backend: their files are written
      annotate "$(busiest "$before" $node)" "$side-$t"
      if [ $side = cluster ]; then
        for w in 2 3; do f=$(busiest "$before" $w); [ -n "$f" ] && annotate "$f" "worker$w-$t"; done
      fi
    done
  done
  python3 - "$CG" "$BENCH_CALLGRIND" <<'PY'
import os, re, sys
cg, n = sys.argv[1], int(sys.argv[2])
LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(\S.*?)(?:\s+\[[^\]]*\])?\s*$")
def load(name):
    fns = {}
    path = os.path.join(cg, name + ".txt")
    if not os.path.exists(path):
        return fns
    for line in open(path):
        m = LINE.match(line)
        if m and "PROGRAM TOTALS" not in line:
            k = m.group(2)
            k = k.split(":", 1)[1] if ":" in k and not k.startswith("???") else k.split(":")[-1]
            k = re.sub(r"'\d+$", "", k)
            fns[k] = max(fns.get(k, 0), int(m.group(1).replace(",", "")))
    return fns
def per(side):
    a, b = load("%s-200" % side), load("%s-%d" % (side, 200 + n))
    return {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}
sides = [("single", "single node backend"), ("cluster", "coordinator backend"),
         ("worker2", "worker 1 backend"), ("worker3", "worker 2 backend")]
res = {s: per(s) for s, _ in sides}
tot = {s: res[s].get("PostgresMain", 0) for s, _ in sides}
cluster = tot["cluster"] + tot["worker2"] + tot["worker3"]
for s, label in sides:
    print("%-22s %12.0f instructions per request" % (label, tot[s]))
print("%-22s %12.0f instructions per request, %.2fx the single node" % ("cluster (all three)", cluster, cluster / tot["single"] if tot["single"] else 0))
for s, label in sides:
    if not tot[s]:
        continue
    print("\n%s, per request (inclusive), top 45:" % label)
    for v, k in sorted(((v, k) for k, v in res[s].items()), reverse=True)[:45]:
        print("%12.0f %5.1f%%  %s" % (v, 100 * v / tot[s], k))
PY
  for i in 0 1 2 3; do as_server_user "$STAGE_BIN/pg_ctl" -D "$dir/n$i" -m fast -w stop >/dev/null || true; done
  exit 0
fi

# CPU time (clock ticks) that the servers of nodes "$@" used so far: each
# postmaster's own and its reaped children's (cutime, cstime: the backends
# that exited), plus its live children's.
# Prints "total system": all CPU, and the kernel's share of it (stime).
cpu_ticks() {
  local total=0 sys=0 i pm t u k
  for i in "$@"; do
    pm=$(head -1 "$dir/n$i/postmaster.pid")
    # /proc/PID/stat: pid (comm) state ppid ... utime stime cutime cstime are
    # fields 14-17; comm may hold spaces, so count from the closing paren
    t=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '
      { pid = $1; sub(/^.*\) /, ""); }            # now $2 is ppid, $12..$15 utime..cstime
      pid == pm { s += $12 + $13 + $14 + $15; k += $13 + $15; next }
      $2 == pm { s += $12 + $13; k += $13 }
      END { print s + 0, k + 0 }')
    read -r u k <<<"$t"
    total=$((total + ${u:-0})); sys=$((sys + ${k:-0}))
  done
  echo "$total $sys"
}
hz=$(getconf CLK_TCK)

# run NODE SCRIPT: "requests/s CPU-µs-per-request system-CPU-µs-per-request" (CPU of every node
# that serves it; system: the kernel's share)
run() {
  local node=$1 script=$2 nodes c0 c1 k0 k1 out n tps
  if [ "$node" = 0 ]; then nodes=(0); else nodes=(1 2 3); fi
  read -r c0 k0 <<<"$(cpu_ticks "${nodes[@]}")"
  out=$(as_server_user "$STAGE_BIN/pgbench" -n -h "$dir" -p $((base + node)) -U authenticator -M prepared \
    -c "$clients" -j 2 -T "$secs" -f "$dir/$script.sql" postgres 2>/dev/null)
  read -r c1 k1 <<<"$(cpu_ticks "${nodes[@]}")"
  n=$(echo "$out" | awk '/number of transactions actually processed/ { print $NF }')
  tps=$(echo "$out" | awk '/^tps = / { printf "%.0f", $3 }')
  awk -v t="$tps" -v n="$n" -v c=$((c1 - c0)) -v k=$((k1 - k0)) -v hz="$hz" \
    'BEGIN { printf "%s %.0f %.0f", t, (n > 0 ? c * 1e6 / hz / n : 0), (n > 0 ? k * 1e6 / hz / n : 0) }'
}

echo "citus_scaleout: $rounds rounds of $secs s, $clients clients, 1000 tenants; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests/s (higher is better) and server CPU per request in µs, all nodes that serve it (lower is better)"
printf '%-8s %5s %9s %9s %7s %9s %9s %7s %8s %8s\n' statement round 'single/s' 'cluster/s' ratio 'single µs' 'cluster µs' 'cpu x' 'sys µs 1' 'sys µs c'
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for s in point list submit insert; do
  ratios=(); cpus=()
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then a=$(run 0 $s); b=$(run 1 $s); else b=$(run 1 $s); a=$(run 0 $s); fi
    read -r at ac ak <<<"$a"; read -r bt bc bk <<<"$b"
    ratio=$(awk -v a="$at" -v b="$bt" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    cpu=$(awk -v a="$ac" -v b="$bc" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    ratios+=("$ratio"); cpus+=("$cpu")
    printf '%-8s %5s %9s %9s %7s %9s %9s %7s %8s %8s\n' "$s" "$r" "$at" "$bt" "$ratio" "$ac" "$bc" "$cpu" "$ak" "$bk"
  done
  printf '%-8s median: throughput cluster/single %s, CPU per request cluster/single %s\n' "$s" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
done
# The same point read without the router (lowcode.citus_router = off): Citus alone fans it out.
psql_n 1 -c 'ALTER ROLE authenticator SET lowcode.citus_router = off' >/dev/null
read -r ft fc fk <<<"$(run 1 point)"
psql_n 1 -c 'ALTER ROLE authenticator RESET lowcode.citus_router' >/dev/null
echo "point read on the cluster without the router (fan-out to 32 shards): $ft requests/s, $fc µs CPU per request"
echo "shards a tenant's point read reaches on the cluster:"
psql_n 1 -At -c "SELECT id FROM public.bench_tenants WHERE n = 1" >/dev/null
tid=$(psql_n 1 -At -c "SELECT id FROM public.bench_tenants WHERE n = 1")
as_server_user "$STAGE_BIN/psql" -X -h "$dir" -p $((base + 1)) -U authenticator -d postgres -At <<SQL | grep -E 'Task Count'
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', json_build_object('tenant_id', '$tid')::text, true) \g /dev/null
SELECT lowcode.pre_request() \g /dev/null
EXPLAIN (COSTS OFF) SELECT * FROM public.notes WHERE id = 1;
COMMIT;
SQL
