#!/usr/bin/env bash
# Installs the Debian 12 packages pg_lowcode needs to build, test and demo.
# Idempotent and quick when everything is already there. Needs root (or sudo).
set -euo pipefail

packages=(
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-contrib
  build-essential libipc-run-perl libdbd-pg-perl libjson-pp-perl python3
  # PostgREST's run-time libraries (../shared/bin/postgrest, the HTTP tests and the demo), curl for the demo
  libpq5 libgmp10 libffi8 zlib1g curl
)
# Optional tools: clang + its runtime for the fuzzers and sanitizer builds.
if [ "${LOWCODE_WITH_CLANG:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package creates and starts a system cluster on port 5432; the project never uses it.
