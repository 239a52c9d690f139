#!/usr/bin/env bash
# JSON Schema benchmarks: stages the extension (tmp_install/), starts a
# temporary instance on port ${1:-55419} under bench/out/, runs
# bench/jsonschema_bench.sql, prints the results and stops the instance.
#   bench/jsonschema_bench.sh [PORT]
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
port=${1:-55419}
out=$TOP/bench/out/jsonschema
stage_install
rm -rf "$out"; mkdir -p "$out"
[ "$(id -u)" = 0 ] && chown -R "$RUN_AS" "$TOP/bench/out"
as_server_user "$STAGE_BIN/initdb" -D "$out/data" -A trust >/dev/null
cat >> "$out/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$out'
listen_addresses = ''
shared_preload_libraries = 'pg_lowcode'
shared_buffers = 256MB
CONF
as_server_user "$STAGE_BIN/pg_ctl" -D "$out/data" -l "$out/log" -w start >/dev/null
trap 'as_server_user "$STAGE_BIN/pg_ctl" -D "$out/data" -m fast stop >/dev/null' EXIT
as_server_user "$STAGE_BIN/psql" -X -h "$out" -p "$port" -d postgres -f "$TOP/bench/jsonschema_bench.sql"
