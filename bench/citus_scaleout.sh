#!/usr/bin/env bash
# Scale-out benchmark (issue 17): PostgREST-shaped requests on a 3-node Citus
# cluster on loopback (a coordinator and two workers) against a single node,
# interleaved in one run, with 1,000 tenants spread over the shards.
#
#   bench/citus_scaleout.sh [SECONDS [ROUNDS [CLIENTS]]]    (defaults 10, 3, 4)
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

# CPU time (clock ticks) that the servers of nodes "$@" used so far: each
# postmaster's own and its reaped children's (cutime, cstime: the backends
# that exited), plus its live children's.
cpu_ticks() {
  local total=0 i pm t
  for i in "$@"; do
    pm=$(head -1 "$dir/n$i/postmaster.pid")
    # /proc/PID/stat: pid (comm) state ppid ... utime stime cutime cstime are
    # fields 14-17; comm may hold spaces, so count from the closing paren
    t=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '
      { pid = $1; sub(/^.*\) /, ""); }            # now $2 is ppid, $12..$15 utime..cstime
      pid == pm { s += $12 + $13 + $14 + $15; next }
      $2 == pm { s += $12 + $13 }
      END { print s + 0 }')
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

# run NODE SCRIPT: "requests/s CPU-µs-per-request" (CPU of every node that serves it)
run() {
  local node=$1 script=$2 nodes c0 c1 out n tps
  if [ "$node" = 0 ]; then nodes=(0); else nodes=(1 2 3); fi
  c0=$(cpu_ticks "${nodes[@]}")
  out=$(as_server_user "$STAGE_BIN/pgbench" -n -h "$dir" -p $((base + node)) -U authenticator -M prepared \
    -c "$clients" -j 2 -T "$secs" -f "$dir/$script.sql" postgres 2>/dev/null)
  c1=$(cpu_ticks "${nodes[@]}")
  n=$(echo "$out" | awk '/number of transactions actually processed/ { print $NF }')
  tps=$(echo "$out" | awk '/^tps = / { printf "%.0f", $3 }')
  awk -v t="$tps" -v n="$n" -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%s %.0f", t, (n > 0 ? c * 1e6 / hz / n : 0) }'
}

echo "citus_scaleout: $rounds rounds of $secs s, $clients clients, 1000 tenants; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests/s (higher is better) and server CPU per request in µs, all nodes that serve it (lower is better)"
printf '%-8s %5s %9s %9s %7s %9s %9s %7s\n' statement round 'single/s' 'cluster/s' ratio 'single µs' 'cluster µs' 'cpu x'
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for s in point list submit insert; do
  ratios=(); cpus=()
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then a=$(run 0 $s); b=$(run 1 $s); else b=$(run 1 $s); a=$(run 0 $s); fi
    read -r at ac <<<"$a"; read -r bt bc <<<"$b"
    ratio=$(awk -v a="$at" -v b="$bt" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    cpu=$(awk -v a="$ac" -v b="$bc" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
    ratios+=("$ratio"); cpus+=("$cpu")
    printf '%-8s %5s %9s %9s %7s %9s %9s %7s\n' "$s" "$r" "$at" "$bt" "$ratio" "$ac" "$bc" "$cpu"
  done
  printf '%-8s median: throughput cluster/single %s, CPU per request cluster/single %s\n' "$s" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
done
# The same point read without the router (lowcode.citus_router = off): Citus alone fans it out.
psql_n 1 -c 'ALTER ROLE authenticator SET lowcode.citus_router = off' >/dev/null
read -r ft fc <<<"$(run 1 point)"
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
