#!/usr/bin/env bash
# pg_lowcode's JSON Schema validator side by side with ajv 8 (Node.js, in
# memory) in one run: the form workload (nested object, array of objects, 3
# patterns), the same schema without its patterns, the pg_jsonschema README
# workload and, given a SchemaStore checkout, SchemaStore's github-workflow
# schema with its test workflows, and the empty schema on the form documents
# (the floor of a call).  Each round runs every pg_lowcode measure
# (scan, validation, validation with the fast path off; backend CPU time)
# then every ajv measure (process CPU
# time, after warm-up passes), interleaved; the best of ROUNDS rounds counts.
# pg_lowcode's figure is its CPU time per document beyond the scan of the
# same rows; ajv's is validate() on documents already parsed in memory.
#   bench/jsonschema_vs_ajv.sh [SCHEMASTORE_CHECKOUT]
#   env: ROUNDS (7), BENCH_PORT (55490), AJV_WARMUP (3 passes)
# ajv is pinned in bench/ajv/package-lock.json and installed with npm ci.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ss=${1:-}
rounds=${ROUNDS:-7}
node_deps
ajvdir=$TOP/bench/ajv
bench_start
out=$BENCH_DIR/vsajv
as_server_user mkdir -p "$out"
gw=0
if [ -n "$ss" ] && [ -f "$ss/src/schemas/json/github-workflow.json" ]; then
  gw=1
  node "$ajvdir/yaml_to_jsonl.js" "$ss"/src/test/github-workflow/* "$ss"/src/negative_test/github-workflow/* |
    as_server_user tee "$out/gw_src.jsonl" >/dev/null
  as_server_user cp "$ss/src/schemas/json/github-workflow.json" "$out/gw_schema.json"
  echo "github-workflow: $(wc -l < "$out/gw_src.jsonl") test documents of $ss (SchemaStore $(git -C "$ss" rev-parse --short HEAD 2>/dev/null || echo 'checkout'))"
else
  echo "github-workflow workload skipped: no SchemaStore checkout given (argument 1: a checkout of github.com/SchemaStore/schemastore)"
fi
bpsql -v out="$out" -v gw=$gw -v gw_docs="$out/gw_src.jsonl" -v gw_schema="$out/gw_schema.json" \
  -f "$TOP/bench/jsonschema_vs_ajv.sql"
workloads=$(bpsql -At -c "SELECT string_agg(name, ' ' ORDER BY ord) FROM vsajv.workloads")
ajv_runs=$(mktemp); trap 'rm -f "$ajv_runs"; bench_stop' EXIT
for r in $(seq "$rounds"); do
  bpsql -c "SELECT vsajv.round()" >/dev/null
  # shellcheck disable=SC2086
  node "$ajvdir/validate.js" "$out" $workloads >> "$ajv_runs"
done
echo "best of $rounds interleaved rounds, CPU time (us per document); ajv $(node -p "require('$ajvdir/node_modules/ajv/package.json').version"), node $(node --version)"
bpsql -f "$TOP/bench/jsonschema_vs_ajv_report.sql" < "$ajv_runs"
