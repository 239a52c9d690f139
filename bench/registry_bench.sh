#!/usr/bin/env bash
# Registry benchmarks on a throwaway instance (results: docs/benchmarks.md, "Registry").
#
#   bench/registry_bench.sh [FORM_ROUNDS=5] [INSERT_ROUNDS=3]
#
# 1. lowcode.validate(subject, doc) beside lowcode.jsonschema_is_valid(schema, doc) with the
#    same schema, on the form workload of bench/jsonschema_bench.sql (100,000 documents).
# 2. 100,000 submission inserts into lowcode.submissions and into a table under
#    attach_validation, beside the same inserts into a table with no validation.
# Parallel query and JIT are off, so figures are per core.
set -euo pipefail
export BENCH_PORT=${BENCH_PORT:-55478}
export BENCH_CONF="max_parallel_workers_per_gather = 0
jit = off"
source "$(dirname "$0")/common.sh"
bench_start
echo "PostgreSQL $(bpsql -d postgres -At -c 'SHOW server_version'), $(nproc) CPUs"
bpsql -d postgres -v reps="${1:-5}" -v ins_reps="${2:-3}" -f "$TOP/bench/registry_bench.sql"
