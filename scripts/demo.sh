#!/usr/bin/env bash
# README command 1: installs what is needed, builds and installs pg_lowcode,
# starts a throwaway PostgreSQL 15 cluster (data in ./demo, a free local
# port, pg_lowcode and pg_cron preloaded), creates the extension and a demo
# tenant, runs a short demo and prints how to connect.  Running it again
# reuses the cluster.  Stop it with: scripts/demo.sh --stop
set -euo pipefail
source "$(dirname "$0")/common.sh"

DEMO=$TOP/demo
DATA=$DEMO/data
DB=lowcode_demo

pgctl() { as_server_user "$PG_BINDIR/pg_ctl" -D "$DATA" "$@"; }

if [ "${1:-}" = "--stop" ]; then
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
"${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -f "$TOP/scripts/demo.sql"

cat <<MSG

pg_lowcode is running.
  connect:  psql -h $DEMO -p $port -U postgres $DB
  or:       psql "postgresql://postgres@localhost:$port/$DB"
  log:      $DEMO/server.log
  stop:     scripts/demo.sh --stop
MSG
