#!/usr/bin/env bash
# Agreement of pg_lowcode's JSON Schema validator with SchemaStore's expected
# answers (issue 18): every schema of a SchemaStore checkout
# (github.com/SchemaStore/schemastore) is registered in the document store
# under its URIs, and every test file is validated against its schema
# (src/test/NAME/* must be valid, src/negative_test/NAME/* invalid, as
# SchemaStore's own ajv run has it); the figures and every disagreement are
# printed.  SchemaStore's files are read in place, never copied into the project.
#   test/schemastore/run.sh CHECKOUT          env: OPTIONS (jsonschema_validate options,
#                                             default {"output": "flag", "format": "assert"}
#                                             since SchemaStore's ajv asserts formats), BENCH_PORT
set -euo pipefail
ss=${1:-}
if [ -z "$ss" ] || [ ! -f "$ss/src/schema-validation.jsonc" ]; then
  echo "schemastore: skipped: no SchemaStore checkout given (argument 1: a checkout of github.com/SchemaStore/schemastore with src/schema-validation.jsonc)"
  exit 0
fi
source "$(dirname "$0")/../../bench/common.sh"
options=${OPTIONS:-'{"output": "flag", "format": "assert"}'}
node_deps
bench_start
out=$BENCH_DIR/schemastore
as_server_user mkdir -p "$out"; chmod 777 "$out"
node "$TOP/test/schemastore/prepare.js" "$ss" "$out"
echo "schemastore: $(wc -l < "$out/pairs.jsonl") pairs of $(wc -l < "$out/docs.jsonl") schemas ($(git -C "$ss" rev-parse --short HEAD 2>/dev/null || echo "$ss")); $(wc -l < "$out/skipped.tsv") test files left out (see $out/skipped.tsv)"
PGOPTIONS="-c ss.options=$(printf %s "$options" | tr -d ' ')" bpsql -v out="$out" -v options="$options" -f "$TOP/test/schemastore/run.sql"
