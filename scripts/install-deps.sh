#!/usr/bin/env bash
# Installs the Debian 12 packages pg_lowcode needs to build, test and demo.
# Idempotent and quick when everything is already there. Needs root (or sudo).
set -euo pipefail

packages=(
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-contrib
  build-essential libipc-run-perl libdbd-pg-perl libjson-pp-perl python3
)
# Optional tools: clang + its runtime for the fuzzers and sanitizer builds.
if [ "${LOWCODE_WITH_CLANG:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi

# Citus' build dependencies (scripts/build-citus.sh, the scale-out tests)
packages+=(liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev)

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
