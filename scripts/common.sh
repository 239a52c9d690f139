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
  make -C "$TOP" -s -j2 PG_CONFIG="$PG_CONFIG"
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
