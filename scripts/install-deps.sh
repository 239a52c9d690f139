#!/usr/bin/env bash
# Installs the Debian 12 packages pg_lowcode needs to build, test and demo.
# Idempotent and quick when everything is already there. Needs root (or sudo).
set -euo pipefail

packages=(
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-contrib
  build-essential libipc-run-perl libdbd-pg-perl libjson-pp-perl python3
  # PCRE2: the JIT matcher of JSON Schema patterns (src/lc/lc_regex_pcre2.c)
  libpcre2-dev
  # PostgREST's run-time libraries (../shared/bin/postgrest, the HTTP tests and the demo), curl for the demo
  libpq5 libgmp10 libffi8 zlib1g curl
  prometheus-postgres-exporter   # test/t/600_metrics_exporter.pl scrapes the metrics through it
)
# node and npm run ajv for test/t/321_ajv_agreement.pl (Debian's, unless a node is on the PATH already)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
# Optional tools: clang + its runtime for the fuzzers and sanitizer builds.
if [ "${LOWCODE_WITH_CLANG:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi
# Optional: the benchmarks against ajv (node, npm) and of the regex engines (RE2, pkg-config).
if [ "${LOWCODE_WITH_BENCH:-0}" = 1 ]; then
  packages+=(libre2-dev pkg-config)
  # a node already on the PATH (with its own npm) conflicts with Debian's npm package
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

# ajv 8, pinned by test/ajv/package-lock.json, into test/ajv/node_modules (npm ci: exactly the lockfile)
ajv_deps() {
  local dir; dir="$(cd "$(dirname "$0")/.." && pwd)/test/ajv"
  if command -v npm >/dev/null && [ ! -d "$dir/node_modules/ajv" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || echo "install-deps: npm ci in test/ajv failed (test 321 will try again)" >&2
  fi
  return 0
}

# node and npm: the front-end kit (clients/js) and its tests. Debian's packages
# unless a node is already on the PATH (the machine image may ship a newer one).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
# chromium: the example app's browser tests (test/t/340), driven by playwright-core
packages+=(chromium)
command -v npm >/dev/null 2>&1 || packages+=(npm)

# Citus' build dependencies (scripts/build-citus.sh, the scale-out tests)
packages+=(liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { ajv_deps; exit 0; }

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
# The exporter's package starts a service on :9187 (every address); the tests start their own on 127.0.0.1.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q prometheus-postgres-exporter 2>/dev/null; then
  $sudo systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi
ajv_deps
