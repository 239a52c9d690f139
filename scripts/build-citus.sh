#!/usr/bin/env bash
# Builds Citus (distributed PostgreSQL) from ../shared/citus/ into the private
# PostgreSQL copy tmp_install/ for the scale-out tests (test/t/5NN_citus_*.pl).
# Citus is not packaged for Debian 12; its source and the one patch it needs on
# Debian's PostgreSQL 15 are in ../shared/citus (see its SOURCE.md).  Cached:
# when tmp_install/ already holds this version, nothing is rebuilt.  The build
# tree is tmp_citus/ (ignored by git); Citus' code is never part of the project.
#
#   scripts/build-citus.sh          build and install into tmp_install/ if needed
set -euo pipefail
source "$(dirname "$0")/common.sh"

version=13.2.2
src=$LOWCODE_SHARED/citus
marker=$STAGE$PG_LIBDIR/citus.so
stamp=$STAGE/.citus-$version
if [ -f "$marker" ] && [ -f "$stamp" ]; then exit 0; fi
[ -f "$src/citus-$version.tar.gz" ] || { echo "build-citus: $src/citus-$version.tar.gz not found" >&2; exit 1; }
[ -x "$STAGE_BIN/postgres" ] || { echo "build-citus: stage the extension first (scripts/test.sh does)" >&2; exit 1; }

build=$TOP/tmp_citus
rm -rf "$build" && mkdir -p "$build"
echo "build-citus: building Citus $version in $build (a few minutes, once)"
tar -xzf "$src/citus-$version.tar.gz" -C "$build"
cd "$build/citus-$version"
patch -p1 -s < "$src/pg15-compat.patch"
./configure -q PG_CONFIG="$PG_CONFIG" --without-libcurl >"$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log"; exit 1; }
nice make -s -j2 >"$build/make.log" 2>&1 || { tail -40 "$build/make.log"; exit 1; }
make -s install DESTDIR="$STAGE" >"$build/install.log" 2>&1 || { tail -20 "$build/install.log"; exit 1; }
chmod -R a+rX "$STAGE"
touch "$stamp"
echo "build-citus: Citus $version installed into $STAGE"
