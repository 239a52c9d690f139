# Sourced by the project's scripts: locations, the private PostgreSQL copy, running as the server user.
# shellcheck shell=bash
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGXS_DIR=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
PG_BINDIR=$("$PG_CONFIG" --bindir)
PG_LIBDIR=$("$PG_CONFIG" --pkglibdir)
PG_SHAREDIR=$("$PG_CONFIG" --sharedir)
STAGE=$TOP/tmp_install
STAGE_BIN=$STAGE$PG_BINDIR
LOWCODE_SHARED=${LOWCODE_SHARED:-$(cd "$TOP/.." && pwd)/shared}
export LOWCODE_SHARED

# PostgreSQL refuses to run as root: servers run as this user.
if [ "$(id -u)" = 0 ]; then
  RUN_AS=${LOWCODE_RUN_AS:-postgres}
else
  RUN_AS=$(id -un)
fi

as_server_user() {
  if [ "$(id -un)" = "$RUN_AS" ]; then "$@"; else runuser -u "$RUN_AS" -- "$@"; fi
}

# Build the extension and stage a private, relocatable copy of PostgreSQL with
# the extension installed into it (tmp_install/), as PostgreSQL's own
# "make check" does: tests never touch the system installation.
stage_install() {
  make -C "$TOP" -s -j2 PG_CONFIG="$PG_CONFIG" || return 1
  if [ ! -x "$STAGE_BIN/postgres" ] || [ "$PG_BINDIR/postgres" -nt "$STAGE_BIN/postgres" ]; then
    rm -rf "$STAGE"
    mkdir -p "$STAGE$PG_BINDIR" "$STAGE$PG_LIBDIR" "$STAGE$PG_SHAREDIR"
    # Binaries are copied (PostgreSQL finds its share and lib directories
    # relative to the real path of its executable); the rest is symlinked.
    cp -p "$PG_BINDIR"/* "$STAGE$PG_BINDIR/"
    cp -rs "$PG_LIBDIR/." "$STAGE$PG_LIBDIR/"
    cp -rs "$PG_SHAREDIR/." "$STAGE$PG_SHAREDIR/"
    rm -f "$STAGE$PG_LIBDIR"/pg_lowcode* "$STAGE$PG_SHAREDIR"/extension/pg_lowcode*
  fi
  make -C "$TOP" -s install DESTDIR="$STAGE" PG_CONFIG="$PG_CONFIG" >/dev/null
  chmod -R a+rX "$STAGE"
}

# ---- PostgREST beside a cluster (scripts/demo.sh, bench/postgrest_http.sh)

# The PostgREST binary: $LOWCODE_POSTGREST, $LOWCODE_SHARED/bin/postgrest, or
# postgrest on the PATH; empty when none of them runs.
postgrest_binary() {
  local b=${LOWCODE_POSTGREST:-}
  [ -z "$b" ] && [ -x "$LOWCODE_SHARED/bin/postgrest" ] && b=$LOWCODE_SHARED/bin/postgrest
  [ -z "$b" ] && b=$(command -v postgrest || true)
  if [ -n "$b" ] && "$b" --version >/dev/null 2>&1; then echo "$b"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_http_port() {
  perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'
}

# postgrest_start BINARY DIR DB_URI JWT_SECRET [EXTRA_CONF_LINES]: writes
# DIR/postgrest.conf (schema api, pg_lowcode's hook, 127.0.0.1 on a free port
# and a free admin port), starts PostgREST as the server user (log
# DIR/postgrest.log, pid DIR/postgrest.pid) and waits until its admin /ready
# answers 200. Sets POSTGREST_URL.
postgrest_start() {
  local bin=$1 dir=$2 uri=$3 secret=$4 extra=${5:-} http_port admin_port
  http_port=$(free_http_port); admin_port=$(free_http_port)
  as_server_user tee "$dir/postgrest.conf" >/dev/null <<CONF
db-uri = "$uri"
db-schemas = "api"
db-extra-search-path = "public, lowcode"
db-anon-role = "anon"
db-pre-request = "lowcode.pre_request"
jwt-secret = "$secret"
server-host = "127.0.0.1"
server-port = $http_port
admin-server-port = $admin_port
$extra
CONF
  # One capability for PostgREST's runtime unless GHCRTS says otherwise (GHCRTS= for the binary's
  # built-in -N): beside PostgreSQL on a few cores, -N spent twice the CPU per request (issue 21,
  # docs/postgrest.md "Performance")
  GHCRTS=${GHCRTS--N1} as_server_user sh -c "nohup '$bin' '$dir/postgrest.conf' >>'$dir/postgrest.log' 2>&1 & echo \$! > '$dir/postgrest.pid'"
  POSTGREST_URL=http://127.0.0.1:$http_port
  local _
  # POSTGREST_START_SECONDS: how long to wait for /ready (15 s; more under valgrind)
  for _ in $(seq $(( ${POSTGREST_START_SECONDS:-15} * 10 ))); do
    [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/ready")" = 200 ] && return 0
    sleep 0.1
  done
  echo "postgrest_start: PostgREST is not ready; see $dir/postgrest.log" >&2
  return 1
}

# postgrest_stop DIR: stops the PostgREST started by postgrest_start.
postgrest_stop() {
  local pid
  pid=$(cat "$1/postgrest.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then kill "$pid"; sleep 0.5; fi
  rm -f "$1/postgrest.pid"
}

# A JWT secret (PostgREST needs at least 32 characters).
new_jwt_secret() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }

# jwt_hs256 SECRET CLAIMS_JSON: an HS256 JWT.
jwt_hs256() {
  JWT_SECRET=$1 perl -MDigest::SHA=hmac_sha256 -MMIME::Base64 -e '
    sub b { my $s = encode_base64(shift, ""); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }
    my $h = b(q({"alg":"HS256","typ":"JWT"})) . "." . b($ARGV[0]);
    print "$h." . b(hmac_sha256($h, $ENV{JWT_SECRET}))' "$2"
}
