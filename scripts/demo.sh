#!/usr/bin/env bash
# README command 1: installs what is needed, builds and installs pg_lowcode,
# starts a throwaway PostgreSQL 15 cluster (data in ./demo, a free local
# port, pg_lowcode and pg_cron preloaded), creates the extension and a demo
# tenant, runs a short demo and prints how to connect.  When a PostgREST
# binary is there ($LOWCODE_SHARED/bin/postgrest, i.e. ../shared/bin, or
# postgrest on the PATH; LOWCODE_POSTGREST to choose one) it starts PostgREST
# on 127.0.0.1 beside the cluster, serving schema api (scripts/api_schema.sql),
# and shows the tour over HTTP with curl.  Running it again reuses the
# cluster.  Stop both with: scripts/demo.sh --stop
set -euo pipefail
source "$(dirname "$0")/common.sh"

DEMO=$TOP/demo
DATA=$DEMO/data
DB=lowcode_demo

pgctl() { as_server_user "$PG_BINDIR/pg_ctl" -D "$DATA" "$@"; }


# The example app (examples/forms-app): its server signs demo users in (a
# pg_lowcode session and a JWT), serves the React + RJSF app and proxies /api
# to PostgREST.  Needs node and npm; built from the lockfiles.
demo_app_stop() {
  local pid
  pid=$(cat "$DEMO/forms-app.pid" 2>/dev/null) || return 0
  kill -0 "$pid" 2>/dev/null && kill "$pid"
  rm -f "$DEMO/forms-app.pid"
}
demo_app_start() {
  demo_app_stop
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "demo.sh: node and npm not found: the example app is not started (scripts/install-deps.sh installs them)"
    return 0
  fi
  echo "== The example app (examples/forms-app): building"
  (cd "$TOP/clients/js" && npm ci --no-audit --no-fund --loglevel=error && npm run build) >"$DEMO/forms-app-build.log" 2>&1 &&
  (cd "$TOP/examples/forms-app" && npm ci --no-audit --no-fund --loglevel=error && npm run build) >>"$DEMO/forms-app-build.log" 2>&1 ||
    { echo "demo.sh: the example app did not build; see $DEMO/forms-app-build.log"; return 0; }
  chmod -R a+rX "$TOP/clients/js" "$TOP/examples/forms-app"
  "${PSQL[@]}" -d "$DB" -q -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_idp') THEN CREATE ROLE demo_idp LOGIN IN ROLE lowcode_operator; END IF;
    END \$\$; GRANT SELECT ON lowcode.tenants TO demo_idp;" >/dev/null
  local app_port
  app_port=$(free_http_port)
  as_server_user env APP_PORT="$app_port" PGRST_URL="$URL" PGRST_JWT_SECRET="$secret" API_SCHEMA=api \
    DATABASE_URL="postgresql://demo_idp@/$DB?host=$DEMO&port=$port" \
    sh -c "nohup node '$TOP/examples/forms-app/server.mjs' >>'$DEMO/forms-app.log' 2>&1 & echo \$! > '$DEMO/forms-app.pid'"
  cat <<MSG

The example app is running.
  URL:      http://127.0.0.1:$app_port/   (sign in as tenant "demo", user ann@example.com)
  log:      $DEMO/forms-app.log
MSG
}

if [ "${1:-}" = "--stop" ]; then
  demo_app_stop
  postgrest_stop "$DEMO"
  [ -f "$DATA/postmaster.pid" ] && pgctl stop -m fast
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  "$TOP/scripts/install-deps.sh"
  make -C "$TOP" -s -j2 PG_CONFIG="$PG_CONFIG"
  make -C "$TOP" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
else
  make -C "$TOP" -s -j2 PG_CONFIG="$PG_CONFIG"
  sudo make -C "$TOP" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
fi

free_port() {
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "demo.sh: no free port in 55432-55532" >&2; exit 1
}

mkdir -p "$DEMO"
[ "$(id -u)" = 0 ] && chown "$RUN_AS" "$DEMO"
if [ ! -f "$DATA/PG_VERSION" ]; then
  as_server_user "$PG_BINDIR/initdb" -D "$DATA" -A trust -U postgres --no-instructions >/dev/null
  port=$(free_port)
  as_server_user tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
# pg_lowcode demo cluster
port = $port
listen_addresses = 'localhost'
unix_socket_directories = '$DEMO'
shared_preload_libraries = 'pg_lowcode,pg_cron'
cron.database_name = '$DB'
max_worker_processes = 16
CONF
fi
port=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA/postgresql.conf" | tail -1)

# A new build (library or install script) needs a restart and a fresh demo
# database: the version number does not change between development builds.
build_id=$(cat "$TOP/pg_lowcode.so" "$TOP/pg_lowcode--"*.sql | md5sum | cut -d' ' -f1)
rebuild=0
[ "$(cat "$DEMO/build-id" 2>/dev/null)" != "$build_id" ] && rebuild=1
if pgctl status >/dev/null 2>&1; then
  [ $rebuild = 1 ] && pgctl -l "$DEMO/server.log" -w restart -m fast >/dev/null
else
  pgctl -l "$DEMO/server.log" -w start >/dev/null
fi

PSQL=("$PG_BINDIR/psql" -X -q -h "$DEMO" -p "$port" -U postgres)
if [ $rebuild = 1 ]; then
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
fi
if ! "${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
fi
"${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_lowcode" -c "ALTER EXTENSION pg_lowcode UPDATE" \
  -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null
as_server_user tee "$DEMO/build-id" >/dev/null <<< "$build_id"
# PostgREST's roles and the API schema it serves (docs/postgrest.md); the
# test of the docs' SQL examples (test/t/350_doc_examples.pl) repeats these
# steps (CREATE EXTENSION, demo_roles.sql, api_schema.sql, demo.sql)
"${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -f "$TOP/scripts/demo_roles.sql" >/dev/null
"${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -v api_roles=authenticated -f "$TOP/scripts/api_schema.sql" >/dev/null
"${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -f "$TOP/scripts/demo.sql"

# ---------------------------------------------------------------- PostgREST
postgrest_bin=$(postgrest_binary)
postgrest_stop "$DEMO"    # a PostgREST of an earlier run
if [ -z "$postgrest_bin" ]; then
  cat <<MSG

No PostgREST binary found (looked at \$LOWCODE_POSTGREST, $LOWCODE_SHARED/bin/postgrest and the PATH), so the
tour above ran in SQL only. To see it over HTTP, get PostgREST 12 or newer
(https://github.com/PostgREST/postgrest/releases, or build it from source; its run-time libraries are
libpq5, libgmp10, libffi8 and zlib1g), put it on the PATH or set LOWCODE_POSTGREST=/path/to/postgrest,
and run scripts/demo.sh again.
MSG
else
  # A JWT secret of the demo, made once.
  [ -s "$DEMO/jwt-secret" ] || new_jwt_secret | as_server_user tee "$DEMO/jwt-secret" >/dev/null
  secret=$(cat "$DEMO/jwt-secret")
  postgrest_start "$postgrest_bin" "$DEMO" "postgresql://authenticator@/$DB?host=$DEMO&port=$port" "$secret"
  URL=$POSTGREST_URL
  jwt() { jwt_hs256 "$secret" "$1"; }
  # show METHOD PATH [JWT] [BODY]: the request with curl, then status, the interesting headers and the body
  show() {
    local args=(-s -i -X "$1" "$URL$2")
    [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
    [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' -d "$4")
    echo "\$ curl -X $1 '$URL$2'${3:+ -H 'Authorization: Bearer \$JWT'}${4:+ -d '$4'}"
    curl "${args[@]}" | tr -d '\r' | awk 'NR == 1 || tolower($0) ~ /^(www-authenticate|retry-after|content-range):/ { print "  " $0; next }
                                          /^$/ { body = 1; next } body { print "  " $0 }'
  }
  tenant=$("${PSQL[@]}" -d "$DB" -tAc "SELECT id FROM lowcode.tenants WHERE slug = 'demo'")
  limited=$("${PSQL[@]}" -d "$DB" -tAc "SELECT coalesce((SELECT id FROM lowcode.tenants WHERE slug = 'demo-limited'),
    lowcode.create_tenant('demo-limited', 'A tenant limited to 1 request per second', 'free'))")
  "${PSQL[@]}" -d "$DB" -tAc "SELECT lowcode.set_tenant_limit('$limited', 'requests_per_second', 1),
    lowcode.set_tenant_limit('$limited', 'request_burst', 2)" >/dev/null
  JWT=$(jwt "{\"role\":\"authenticated\",\"tenant_id\":\"$tenant\",\"sub\":\"ann@example.com\"}")
  echo
  echo "== Over HTTP: PostgREST $("$postgrest_bin" --version | sed 's/^PostgREST //') at $URL (schema api)"
  show GET '/contacts?select=name,email' "$JWT"
  echo '...without a JWT, pre_request() refuses:'
  show GET '/contacts'
  echo '...a validated form submission refused with 422 and every error:'
  show POST /rpc/submit "$JWT" '{"subject": "leave-request", "data": {"name": "Ann", "start_date": "2026-05-02", "end_date": "2026-05-01"}}'
  echo '...and accepted:'
  show POST /rpc/submit "$JWT" '{"subject": "leave-request", "data": {"name": "Ann", "start_date": "2026-05-02", "end_date": "2026-05-04"}}'
  echo '...a tenant over its rate (1 request per second, burst 2) gets 429 with Retry-After:'
  JWT_LIMITED=$(jwt "{\"role\":\"authenticated\",\"tenant_id\":\"$limited\"}")
  for _ in 1 2; do curl -s -o /dev/null -H "Authorization: Bearer $JWT_LIMITED" "$URL/contacts"; done
  show GET /contacts "$JWT_LIMITED"
  IFS='|' read -r sid proof < <("${PSQL[@]}" -d "$DB" -tAc "SELECT session_id, lowcode.session_proof(token) FROM lowcode.create_session('$tenant', 'ann@example.com')")
  JWT_SESSION=$(jwt "{\"role\":\"authenticated\",\"tenant_id\":\"$tenant\",\"sid\":\"$sid\",\"sid_proof\":\"$proof\"}")
  echo "...a session ($sid), then revoked: its next request gets 401"
  show GET /rpc/session_info "$JWT_SESSION"
  "${PSQL[@]}" -d "$DB" -tAc "SELECT lowcode.revoke_session('$sid')" >/dev/null
  show GET /contacts "$JWT_SESSION"
  cat <<MSG

PostgREST is running.
  URL:      $URL   (OpenAPI description: curl $URL/ -H "Authorization: Bearer \$JWT")
  JWT:      $JWT
            (role authenticated, tenant demo; signed with the secret in $DEMO/jwt-secret)
  try:      curl "$URL/contacts" -H "Authorization: Bearer $JWT"
  log:      $DEMO/postgrest.log
MSG
  demo_app_start
fi

cat <<MSG

pg_lowcode is running.
  connect:  psql -h $DEMO -p $port -U postgres $DB
  or:       psql "postgresql://postgres@localhost:$port/$DB"
  log:      $DEMO/server.log
  stop:     scripts/demo.sh --stop   (PostgreSQL, PostgREST and the example app)
MSG
