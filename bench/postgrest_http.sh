#!/usr/bin/env bash
# pg_lowcode through a real PostgREST over HTTP, against the same requests replayed by pgbench.
#
# A throwaway cluster (bench/common.sh) with 100 tenants (a tier without rate limits), a tenant
# table api.notes of 100 rows per tenant, a global form "order" (JSON Schema with formats and an
# x-rules rule), 10 sessions per tenant, schema api (scripts/api_schema.sql), and PostgREST
# ($LOWCODE_SHARED/bin/postgrest or LOWCODE_POSTGREST) on 127.0.0.1. For each request kind, with
# and without sessions, at each number of connections, it runs:
#   http     wrk (Debian's, bench/wrk_mix.lua) against PostgREST for SECONDS: requests per second and
#            p50/p99/p99.9 latency; every request picks a caller (JWT) and a row at random
#   pgbench  the transaction PostgREST sends for the same request (BEGIN; set_config x7;
#            lowcode.pre_request(); PostgREST's statement; COMMIT), same callers and rows, same
#            number of connections, prepared, for SECONDS: transactions per second and latency
#            percentiles from pgbench's log
# and prints the ratio http/pgbench (the share of the cost that is PostgREST's and HTTP's).
# Request kinds (--requests):
#   read     GET /notes?id=eq.N             a tenant's row by id
#   submit   POST /rpc/submit               a validated form submission (201 path: valid data, one row written)
# Add a kind in request_def() below (HTTP method, path, body, and the replayed SQL statement).
#
# Usage: bench/postgrest_http.sh [--seconds 10] [--connections "1 16 64"] [--requests "read submit"]
#                                [--sessions "off on"] [--pool 10] [--target URL] [--appserver]
#   --target URL   run the HTTP side against another server (same database, same JWTs in
#                  $BENCH_DIR/scripts/tokens-*.txt, signed with $BENCH_DIR/jwt-secret) instead of PostgREST
#   --appserver    also run every submit (sessions off) against bench/appserver (Node: fastify + ajv + pg,
#                  db pool --pool, npm ci on first use), right after PostgREST's run at the same number of
#                  connections: a row "submit-app" (its own CPU per request in the pgrst column, ratio to
#                  PostgREST's requests per second) (issue 21)
#   --pgrst-variants FILE  run everything once per PostgREST configuration of FILE, one after the other
#                  in one cluster (PostgREST restarted between them); a line: NAME<TAB>ENV<TAB>CONF, ENV
#                  the environment (GHCRTS=-N1 ...; ";"-separated, so GHCRTS=-N1 -A64m is one; "-" for none), CONF configuration lines separated
#                  by ";" ("-" for none; db-pool and log-level replace the defaults) (issue 21)
#   --phases N     after the load runs, send N requests of each kind one after the other (one client, one
#                  keep-alive connection, sessions off) to PostgREST with `server-timing-enabled` and print
#                  the median of each phase of its Server-Timing header (jwt, parse, plan, transaction,
#                  response: milliseconds of wall time), the request's time seen by the client, and
#                  PostgREST's own CPU per request over those N; and, for the submissions, the app server's
#                  time and CPU for the same N (with --appserver): where a request's time goes outside the
#                  database, measured one request at a time (issue 21)
#                  With BENCH_PGRST_CALLGRIND=1, PostgREST runs under valgrind's callgrind and the phases
#                  also print its instructions per request (counters zeroed before the N requests and
#                  dumped after them: exact, unmoved by the machine's load; run it with --seconds 1
#                  --connections 1, the load runs are meaningless under valgrind)
# PostgREST runs with `jwt-cache-max-lifetime = 3600` (docs/postgrest.md), db-pool --pool and
# log-level "error" unless a variant sets them.
# Loopback only; every run is bounded by --seconds. The machine is shared: compare ratios.
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55460}
source "$(dirname "$0")/common.sh"

SECS=10; CONNS="1 16 64"; KINDS="read submit"; SESSIONS="off on"; POOL=10; TARGET=; APPSERVER=; VARIANTS_FILE=; PGRST_PID=; PHASES=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECS=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --requests) KINDS=$2; shift ;;
    --sessions) SESSIONS=$2; shift ;;
    --pool) POOL=$2; shift ;;
    --target) TARGET=$2; shift ;;
    --appserver) APPSERVER=1 ;;
    --pgrst-variants) VARIANTS_FILE=$2; shift ;;
    --phases) PHASES=$2; shift ;;
    -h|--help) sed -n '2,42p' "$0"; exit 0 ;;
    *) echo "postgrest_http.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

command -v wrk >/dev/null || {
  if [ "$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else echo "postgrest_http.sh: needs wrk (apt-get install wrk)" >&2; exit 1; fi
}
PGRST=$(postgrest_binary)
PGRST_REAL=$PGRST
[ -n "$TARGET" ] || [ -n "$PGRST" ] || { echo "postgrest_http.sh: no PostgREST (set LOWCODE_POSTGREST, or see docs/postgrest.md)" >&2; exit 1; }

bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"
if [ -n "${BENCH_PGRST_CALLGRIND:-}" ] && [ -n "$PGRST" ]; then
  # PostgREST under callgrind: a wrapper in its place, and time for its start-up under valgrind
  PGRST=$W/postgrest-callgrind
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=%s/pgrst-cg.%%p %s "$@"\n' \
    "$W" "$PGRST_REAL" | as_server_user tee "$PGRST" >/dev/null
  chmod +x "$PGRST"
  export POSTGREST_START_SECONDS=300
fi
TENANTS=100; ROWS=100; PER_TENANT_SESSIONS=10

echo "loading $TENANTS tenants, $((TENANTS * ROWS)) rows, $((TENANTS * PER_TENANT_SESSIONS)) sessions..."
bpsql -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
GRANT anon, authenticated TO authenticator;
SELECT lowcode.grant_api_role('authenticated');
INSERT INTO lowcode.tiers (name, session_idle_timeout, session_absolute_lifetime, requests_per_second,
                           request_burst, statement_timeout, work_mem_kb)
VALUES ('bench', '2 hours', '24 hours', 2000000000, 2000000000, '60 seconds', 4096);
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'bench'
  FROM generate_series(1, $TENANTS) n;
ALTER TABLE lowcode.sessions DISABLE TRIGGER lowcode_quota_sessions;
-- caller k (1-based) is session k of tenant (k-1) % TENANTS + 1
INSERT INTO lowcode.sessions (tenant_id, id, principal, token_hash, idle_timeout, absolute_expires_at, expires_at)
SELECT ('00000000-0000-0000-0000-' || lpad(((k - 1) % $TENANTS + 1)::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(k::text, 12, '0'))::uuid,
       'user' || k, sha256(k::text::bytea), interval '2 hours', now() + interval '24 hours', now() + interval '2 hours'
  FROM generate_series(1, $((TENANTS * PER_TENANT_SESSIONS))) k;
ALTER TABLE lowcode.sessions ENABLE TRIGGER lowcode_quota_sessions;
SQL
bpsql -d postgres -v api_roles=authenticated -f "$TOP/scripts/api_schema.sql" >/dev/null
bpsql -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE api.notes (id bigint GENERATED ALWAYS AS IDENTITY, title text NOT NULL, body text);
SELECT lowcode.make_tenant_table('api.notes');
ALTER TABLE api.notes ADD PRIMARY KEY (tenant_id, id);
CREATE UNIQUE INDEX ON api.notes (id);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.notes TO authenticated;
-- row id (t-1)*ROWS + n belongs to tenant t
INSERT INTO api.notes (tenant_id, title, body)
SELECT ('00000000-0000-0000-0000-' || lpad(t::text, 12, '0'))::uuid, 'note ' || n, repeat('x', 200)
  FROM generate_series(1, $TENANTS) t, generate_series(1, $ROWS) n ORDER BY t, n;
SET lowcode.registry_scope = global;   -- the form is global, registered by the operator on purpose
SELECT lowcode.register_schema('order', '{
  "type": "object", "additionalProperties": false,
  "required": ["customer", "email", "quantity", "delivery"],
  "properties": {"customer": {"type": "string", "minLength": 1, "maxLength": 100},
                 "email": {"type": "string", "format": "email"},
                 "quantity": {"type": "integer", "minimum": 1},
                 "delivery": {"type": "string", "format": "date"},
                 "notes": {"type": "string", "maxLength": 1000}},
  "x-rules": [{"rule": "quantity <= 100", "message": "at most 100 per order", "path": "/quantity"}]}');
VACUUM ANALYZE;
SQL

# JWTs: tokens-off.txt one caller per tenant (tenant_id only), tokens-on.txt one per session (tenant_id, sid)
new_jwt_secret | as_server_user tee "$BENCH_DIR/jwt-secret" >/dev/null
SECRET=$(cat "$BENCH_DIR/jwt-secret")
# (one perl for the 1,100 tokens: jwt_hs256 of common.sh starts one per token)
JWT_SECRET=$SECRET TENANTS=$TENANTS N=$((TENANTS * PER_TENANT_SESSIONS)) perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '
  sub b { my $s = encode_base64(shift, ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }
  sub jwt { my $h = b(q({"alg":"HS256","typ":"JWT"})) . "." . b(shift); "$h." . b(hmac_sha256($h, $ENV{JWT_SECRET})) }
  sub tid { sprintf("00000000-0000-0000-0000-%012d", shift) }
  open my $off, ">", "$ARGV[0]/tokens-off.txt" or die; open my $on, ">", "$ARGV[0]/tokens-on.txt" or die;
  for my $t (1 .. $ENV{TENANTS}) { printf $off "%d %s\n", $t, jwt(sprintf(q({"role":"authenticated","tenant_id":"%s"}), tid($t))) }
  for my $k (1 .. $ENV{N}) { my $t = ($k - 1) % $ENV{TENANTS} + 1;
    printf $on "%d %s\n", $t, jwt(sprintf(q({"role":"authenticated","tenant_id":"%s","sid":"00000000-0000-4000-8000-%012d"}), tid($t), $k)) }
' "$W"

# pgrst_conf CONF: PostgREST's configuration lines for a variant (";"-separated CONF, "-" for none)
pgrst_conf() {
  local conf=${1:--}
  [ "$conf" = - ] && conf=
  conf=${conf//;/$'\n'}
  echo "$conf" | grep -q '^ *db-pool *=' || conf+=$'\n'"db-pool = $POOL"
  echo "$conf" | grep -q '^ *log-level *=' || conf+=$'\n''log-level = "error"'
  [ "$PHASES" -gt 0 ] && ! echo "$conf" | grep -q '^ *server-timing-enabled *=' && conf+=$'\n''server-timing-enabled = true'
  # PostgREST verifies every request's JWT unless its cache is on: a quarter of its instructions per
  # request (docs/benchmarks.md, "Session 7"); docs/postgrest.md recommends it
  echo "$conf" | grep -q '^ *jwt-cache-max-lifetime *=' || conf+=$'\n''jwt-cache-max-lifetime = 3600'
  echo "$conf"
}
# pgrst_run ENV CONF: (re)starts PostgREST with that environment and configuration
pgrst_run() {
  local envs=${1:--} e
  postgrest_stop "$BENCH_DIR"
  [ "$envs" = - ] && envs=
  local IFS=';'
  for e in $envs; do export "${e?}"; done
  unset IFS
  postgrest_start "$PGRST" "$BENCH_DIR" "postgresql://authenticator@/postgres?host=$BENCH_DIR&port=$BENCH_PORT" "$SECRET" \
    "$(pgrst_conf "${2:--}")"
  IFS=';'
  for e in $envs; do unset "${e%%=*}"; done
  unset IFS
  PGRST_PID=$(cat "$BENCH_DIR/postgrest.pid")
}
if [ -z "$TARGET" ]; then
  pgrst_run - -
  trap 'postgrest_stop "$BENCH_DIR"; bench_stop' EXIT
  TARGET=$POSTGREST_URL
  TARGET_NAME="PostgREST $("$PGRST_REAL" --version | sed 's/^PostgREST //') (db-pool $POOL)"
else
  TARGET_NAME=$TARGET
fi

APP_URL=; APP_PID=
if [ -n "$APPSERVER" ]; then
  # the app server's tables: the same three rows per submission as lowcode.submit writes
  bpsql -d postgres -f "$TOP/bench/appserver/schema.sql" >/dev/null
  [ -d "$TOP/bench/appserver/node_modules" ] || (cd "$TOP/bench/appserver" && npm ci --no-audit --no-fund >/dev/null)
  rm -f "$BENCH_DIR/appserver.port"
  PORT=0 READY_FILE=$BENCH_DIR/appserver.port JWT_SECRET_FILE=$BENCH_DIR/jwt-secret SUBJECT=order POOL=$POOL \
    PGHOST=$BENCH_DIR PGPORT=$BENCH_PORT PGUSER=postgres PGDATABASE=postgres \
    node "$TOP/bench/appserver/server.js" >"$BENCH_DIR/appserver.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 100); do [ -s "$BENCH_DIR/appserver.port" ] && break; sleep 0.1; done
  [ -s "$BENCH_DIR/appserver.port" ] || { echo "the app server did not start:"; cat "$BENCH_DIR/appserver.log"; exit 1; }
  APP_URL=http://127.0.0.1:$(cat "$BENCH_DIR/appserver.port")
  trap 'kill "$APP_PID" 2>/dev/null || true; postgrest_stop "$BENCH_DIR"; bench_stop' EXIT
  echo "app server: Node $(node --version) fastify + ajv + pg (pool $POOL) at $APP_URL"
fi

SEARCH_PATH="'\"api\", \"public\", \"lowcode\"'"
HEADERS="'{\"accept\":\"*/*\",\"host\":\"127.0.0.1\",\"user-agent\":\"pgbench\",\"authorization\":\"Bearer x\"}'"
SUBMIT_BODY='{"subject": "order", "data": {"customer": "c{id}", "email": "buyer@example.com", "quantity": 3, "delivery": "2026-06-01", "notes": "leave at the door"}}'

# request_def KIND: sets METHOD, PATH_T, BODY_T (HTTP side; {id} = a random row of the caller's
# tenant), READ_ONLY and STATEMENT (the statement PostgREST runs for it; pgbench variable :id).
request_def() {
  case "$1" in
    read)
      METHOD=GET; PATH_T='/notes?id=eq.{id}'; BODY_T=; READ_ONLY=1
      STATEMENT="WITH pgrst_source AS ( SELECT \"api\".\"notes\".* FROM \"api\".\"notes\" WHERE \"api\".\"notes\".\"id\" = :id ) SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status FROM ( SELECT * FROM pgrst_source ) _postgrest_t;" ;;
    submit)
      METHOD=POST; PATH_T=/rpc/submit; BODY_T=$SUBMIT_BODY; READ_ONLY=0
      # the body as PostgREST's parameter: the JSON text with the row id spliced in (a pgbench
      # variable cannot stand inside a string literal)
      local q="'" body
      body="$q${SUBMIT_BODY//\{id\}/$q || :id || $q}$q"
      STATEMENT="WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT ($body)::json AS json_data) pgrst_payload, LATERAL (SELECT CASE WHEN json_typeof(pgrst_payload.json_data) = 'array' THEN pgrst_payload.json_data ELSE json_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json, LATERAL (SELECT \"data\", \"subject\" FROM json_to_recordset(pgrst_uniform_json.val) AS _(\"data\" jsonb, \"subject\" text) LIMIT 1) pgrst_body, LATERAL (SELECT \"api\".\"submit\"(\"data\" := pgrst_body.\"data\", \"subject\" := pgrst_body.\"subject\") pgrst_scalar) pgrst_call) SELECT null::bigint AS total_result_set, 1 AS page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status FROM (SELECT * FROM pgrst_source) _postgrest_t;" ;;
    *) echo "postgrest_http.sh: unknown request kind $1" >&2; exit 2 ;;
  esac
}

# The pgbench script replaying KIND with callers of SESSIONS (off/on), as PostgREST sends it.
write_pgbench() {
  local kind=$1 sess=$2 callers claims
  request_def "$kind"
  if [ "$sess" = on ]; then callers=$((TENANTS * PER_TENANT_SESSIONS)); else callers=$TENANTS; fi
  claims="'{\"role\":\"authenticated\",\"tenant_id\":\"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '\"'"
  [ "$sess" = on ] && claims="$claims || ',\"sid\":\"00000000-0000-4000-8000-' || lpad(:k::text, 12, '0') || '\"'"
  claims="$claims || '}'"
  as_server_user tee "$W/$kind-$sess.sql" >/dev/null <<SCRIPT
\set k random(1, $callers)
\set t (:k - 1) % $TENANTS + 1
\set id (:t - 1) * $ROWS + random(1, $ROWS)
BEGIN ISOLATION LEVEL READ COMMITTED $([ "$READ_ONLY" = 1 ] && echo "READ ONLY" || echo "READ WRITE");
select set_config('search_path', $SEARCH_PATH, true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', $claims, true), set_config('request.method', '$METHOD', true), set_config('request.path', '${PATH_T%%\?*}', true), set_config('request.headers', $HEADERS, true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
$STATEMENT
COMMIT;
SCRIPT
}

# percentiles of the numbers (us) on stdin: "p50 p99 p999"
percentiles() { sort -n | awk '{a[NR]=$1} END {i50=int(NR*0.5); i99=int(NR*0.99); i999=int(NR*0.999); if (i50<1) i50=1; if (i99<1) i99=1; if (i999<1) i999=1; print a[i50], a[i99], a[i999]}'; }

threads() { [ "$1" -ge 2 ] && echo 2 || echo 1; }
# CPU time (ms) used so far by PostgREST (utime + stime of /proc/PID/stat), empty with --target
[ "$TARGET_NAME" = "$TARGET" ] && PGRST_PID=
TICK=$(getconf CLK_TCK)
pgrst_cpu_ms() { [ -n "$PGRST_PID" ] && awk -v t="$TICK" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$PGRST_PID/stat" || echo 0; }
app_cpu_ms() { awk -v t="$TICK" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$APP_PID/stat"; }
# the kernel's part of those (stime), for the phases
pgrst_sys_ms() { [ -n "$PGRST_PID" ] && awk -v t="$TICK" '{ print int($15 * 1000 / t) }' "/proc/$PGRST_PID/stat" || echo 0; }
app_sys_ms() { awk -v t="$TICK" '{ print int($15 * 1000 / t) }' "/proc/$APP_PID/stat"; }

echo
echo "HTTP: $TARGET_NAME at $TARGET, wrk $(threads 2) threads at most; pgbench: prepared, -j $(threads 2) at most."
echo "${SECS}s per run; latencies in microseconds. Shared 2-vCPU machine: wrk, PostgREST and PostgreSQL share it"
echo "(load average at start: $(cut -d' ' -f1-3 /proc/loadavg)). pgrst us/req: PostgREST's own CPU time per request."
printf "%-7s %-8s %5s | %9s %8s %8s %8s %8s | %9s %8s %8s %8s | %6s\n" request sessions conns \
  "http rps" p50 p99 p99.9 "pgrst us/req" "pgb tps" p50 p99 p99.9 "ratio"
# --phases: N requests one after the other on one keep-alive connection (curl -K), sessions off
# phase_run URL KIND NAME PID_FN: prints NAME's medians (us) and own CPU (us) per request
phase_run() {
  local url=$1 kind=$2 name=$3 cpufn=$4 cfg=$W/phases-$kind.curl out=$W/phases-$kind.out c0 c1 s0 s1
  request_def "$kind"
  WRK_ROWS=$ROWS N=$PHASES URL=$url METHOD=$METHOD PATH_T=$PATH_T BODY_T=$BODY_T perl -e '
    open my $t, "<", $ARGV[0] or die; my @tok = map { [split] } <$t>;
    srand(42);
    for my $i (1 .. $ENV{N}) {
      print "next\n" if $i > 1;
      my ($tenant, $jwt) = @{$tok[int(rand(@tok))]};
      my $id = ($tenant - 1) * $ENV{WRK_ROWS} + 1 + int(rand($ENV{WRK_ROWS}));
      (my $path = $ENV{PATH_T}) =~ s/\{id\}/$id/g;
      print "url = \"$ENV{URL}$path\"\nrequest = \"$ENV{METHOD}\"\nheader = \"Authorization: Bearer $jwt\"\n";
      if ($ENV{BODY_T} ne "") {
        (my $b = $ENV{BODY_T}) =~ s/\{id\}/$id/g; $b =~ s/\\/\\\\/g; $b =~ s/"/\\"/g;
        print "header = \"Content-Type: application/json\"\ndata = \"$b\"\n";
      }
      print "output = \"/dev/null\"\nwrite-out = \"%{http_code} %{time_total} %header{server-timing}\\n\"\n";
    }' "$W/tokens-off.txt" | as_server_user tee "$cfg" >/dev/null
  local cg=
  if [ -n "${BENCH_PGRST_CALLGRIND:-}" ] && [ "$name" = PostgREST ]; then
    curl -s -K "$cfg" >/dev/null || true   # warm-up: the first use of each plan and caller
    as_server_user rm -f "$W"/pgrst-cg.*.[0-9]*
    as_server_user callgrind_control -z "$PGRST_PID" >/dev/null 2>&1
  fi
  c0=$($cpufn); s0=$(${cpufn/cpu/sys})
  curl -s -K "$cfg" >"$out" || true
  c1=$($cpufn); s1=$(${cpufn/cpu/sys})
  if [ -n "${BENCH_PGRST_CALLGRIND:-}" ] && [ "$name" = PostgREST ]; then
    as_server_user callgrind_control -d "$PGRST_PID" >/dev/null 2>&1
    cg=$(sed -n 's/^summary: *//p' "$(ls -t "$W"/pgrst-cg.*.[0-9]* | head -1)")
    cg=" instructions/request $((cg / PHASES))"
  fi
  awk -v name="$name" -v kind="$kind" -v n="$PHASES" -v cg="$cg" -v sys="$(( (s1 - s0) * 1000 / PHASES ))" -v cpu="$(( (c1 - c0) * 1000 / PHASES ))" '
    function median(arr, k,   i, j, t, m) { m = 0; for (i in arr) m++; if (m == 0) return "-"
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
      return sprintf("%.3f", arr[int((m + 1) / 2)]) }
    { if ($1 !~ /^2/) bad++; total[NR] = $2 * 1000000
      for (f = 3; f <= NF; f++) { split($f, kv, ";dur="); gsub(/,/, "", kv[2]); ph = kv[1]; if (kv[2] != "") { cnt[ph]++; v[ph, cnt[ph]] = kv[2] } } }
    END {
      split("jwt parse plan transaction response", order, " "); line = ""
      for (o = 1; o <= 5; o++) { ph = order[o]; delete a; for (i = 1; i <= cnt[ph]; i++) a[i] = v[ph, i]; line = line sprintf(" %11s", median(a)) }
      printf "%-7s %-22s %5d |%s | %9s %12s%s%s\n", kind, name, NR, line, median(total), cpu " (" sys ")", cg, (bad ? sprintf(" (%d non-2xx)", bad) : "") }' "$out"
}
if [ -n "$VARIANTS_FILE" ]; then VARIANT_LINES=$(grep -v '^#' "$VARIANTS_FILE" | grep .); else VARIANT_LINES=$'default\t-\t-'; fi
while IFS=$'\t' read -r vname venv vconf; do
if [ -n "$VARIANTS_FILE" ] && [ -n "$PGRST_PID" ]; then
  pgrst_run "$venv" "$vconf"
  TARGET=$POSTGREST_URL
  echo "-- PostgREST variant $vname: env ${venv:--}; conf ${vconf:--} (load average $(cut -d' ' -f1-3 /proc/loadavg))"
fi
for kind in $KINDS; do
  for sess in $SESSIONS; do
    write_pgbench "$kind" "$sess"
    request_def "$kind"
    for c in $CONNS; do
      # HTTP side
      unset h_requests h_errors h_non2xx h_rps h_p50_us h_p99_us h_p999_us
      cpu0=$(pgrst_cpu_ms)
      out=$(WRK_METHOD=$METHOD WRK_PATH=$PATH_T WRK_BODY=$BODY_T WRK_TOKENS=$W/tokens-$sess.txt WRK_ROWS=$ROWS \
            wrk -t "$(threads "$c")" -c "$c" -d "${SECS}s" --timeout 5s -s "$TOP/bench/wrk_mix.lua" "$TARGET" 2>&1 | grep '^RESULT' || true)
      eval "$(echo "$out" | sed 's/^RESULT //; s/\([a-z0-9_]*\)=/h_\1=/g')"
      cpu1=$(pgrst_cpu_ms)
      pgrst_us=$(awk -v a="$cpu0" -v b="$cpu1" -v n="${h_requests:-0}" 'BEGIN { print (n > 0 ? (b - a) * 1000 / n : 0) }')
      # pgbench side
      (cd "$W" && as_server_user rm -f pgbench_log.*)
      ptps=$(cd "$W" && as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U authenticator -M prepared \
               -c "$c" -j "$(threads "$c")" -T "$SECS" -l -f "$W/$kind-$sess.sql" postgres 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
      read -r p50 p99 p999 < <(cd "$W" && cat pgbench_log.* | awk '{print $3}' | percentiles)
      bad=""; [ "${h_errors:-1}" != 0 ] || [ "${h_non2xx:-1}" != 0 ] && bad=" (http errors ${h_errors:-?}, non-2xx ${h_non2xx:-?})"
      awk -v k="$kind" -v s="$sess" -v c="$c" -v hr="${h_rps:-0}" -v h50="${h_p50_us:-0}" -v h99="${h_p99_us:-0}" -v h999="${h_p999_us:-0}" \
          -v pu="$pgrst_us" -v pt="${ptps:-0}" -v p50="$p50" -v p99="$p99" -v p999="$p999" -v bad="$bad" 'BEGIN {
        printf "%-7s %-8s %5d | %9.0f %8d %8d %8d %12.0f | %9.0f %8d %8d %8d | %6.2f%s\n", k, s, c, hr, h50, h99, h999, pu, pt, p50, p99, p999, (pt > 0 ? hr / pt : 0), bad }'
      if [ -n "$APP_URL" ] && [ "$kind" = submit ] && [ "$sess" = off ]; then
        # the app server, right after PostgREST, same connections, callers and bodies
        prest_rps=${h_rps:-0}
        unset h_requests h_errors h_non2xx h_rps h_p50_us h_p99_us h_p999_us
        cpu0=$(app_cpu_ms)
        out=$(WRK_METHOD=$METHOD WRK_PATH=$PATH_T WRK_BODY=$BODY_T WRK_TOKENS=$W/tokens-$sess.txt WRK_ROWS=$ROWS \
              wrk -t "$(threads "$c")" -c "$c" -d "${SECS}s" --timeout 5s -s "$TOP/bench/wrk_mix.lua" "$APP_URL" 2>&1 | grep '^RESULT' || true)
        eval "$(echo "$out" | sed 's/^RESULT //; s/\([a-z0-9_]*\)=/h_\1=/g')"
        cpu1=$(app_cpu_ms)
        app_us=$(awk -v a="$cpu0" -v b="$cpu1" -v n="${h_requests:-0}" 'BEGIN { print (n > 0 ? (b - a) * 1000 / n : 0) }')
        bad=""; [ "${h_errors:-1}" != 0 ] || [ "${h_non2xx:-1}" != 0 ] && bad=" (http errors ${h_errors:-?}, non-2xx ${h_non2xx:-?})"
        awk -v c="$c" -v hr="${h_rps:-0}" -v h50="${h_p50_us:-0}" -v h99="${h_p99_us:-0}" -v h999="${h_p999_us:-0}" \
            -v pu="$app_us" -v pr="$prest_rps" -v bad="$bad" 'BEGIN {
          printf "%-16s %5d | %9.0f %8d %8d %8d %12.0f | %9s %8s %8s %8s | %6.2f%s\n", "submit-app off", c, hr, h50, h99, h999, pu, "-", "-", "-", "-", (hr > 0 ? pr / hr : 0), bad }'
      fi
    done
  done
done
if [ "$PHASES" -gt 0 ] && [ -n "$PGRST_PID" ]; then
  echo
  echo "phases: $PHASES requests each, one after the other on one connection, sessions off; medians in us"
  echo "(PostgREST 12.0's Server-Timing durations, which add up to microseconds, not the header's nominal ms;"
  echo "'client' is curl's time_total), own CPU in us per request, of which in the kernel (sys)"
  printf "%-7s %-22s %5s | %11s %11s %11s %11s %11s | %9s %12s\n" request server n jwt parse plan transaction response client "own cpu (sys) us"
  for kind in $KINDS; do
    phase_run "$POSTGREST_URL" "$kind" PostgREST pgrst_cpu_ms
    [ -n "$APP_URL" ] && [ "$kind" = submit ] && phase_run "$APP_URL" "$kind" "app server" app_cpu_ms
  done
fi
done <<<"$VARIANT_LINES"
echo "ratio = HTTP requests per second / pgbench transactions per second for the same request;"
echo "for submit-app: PostgREST's requests per second / the app server's (both over HTTP, one after the other)."
