#!/usr/bin/env bash
# Instructions executed by the JSON Schema validator per document, counted by
# valgrind's callgrind (exact and repeatable, unlike CPU time on a shared
# machine), with the fast path (src/jsonschema/js_fast.c) on and off, side by
# side: the form workload of bench/form_workload.sql (with and without its
# three patterns), the pg_jsonschema README workload and, given a SchemaStore
# checkout, the github-workflow schema on SchemaStore's test workflows.
#   bench/jsonschema_instructions.sh [SCHEMASTORE_CHECKOUT]
#   env: INSN_DOCS (documents per workload, 2000), BENCH_PORT (55491)
# The documents are made by a throwaway server; then, for each workload and
# setting, one single-user backend runs under callgrind, counting only inside
# js_validate() (--toggle-collect): the schema's compilation, the scan and the
# function call are outside.  Valid documents per run are printed too, to
# show that both settings agree.
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55491}
source "$(dirname "$0")/common.sh"
ss=${1:-}
ndocs=${INSN_DOCS:-2000}
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
bench_start
out=$BENCH_DIR/instructions
as_server_user mkdir -p "$out"
gw=0
if [ -n "$ss" ] && [ -f "$ss/src/schemas/json/github-workflow.json" ]; then
  node_deps
  gw=1
  node "$TOP/bench/ajv/yaml_to_jsonl.js" "$ss"/src/test/github-workflow/* "$ss"/src/negative_test/github-workflow/* |
    as_server_user tee "$out/gw_src.jsonl" >/dev/null
  as_server_user cp "$ss/src/schemas/json/github-workflow.json" "$out/gw_schema.json"
fi
bpsql -v form_sql="$TOP/bench/form_workload.sql" -v gw=$gw -v gw_docs="$out/gw_src.jsonl" -v gw_schema="$out/gw_schema.json" -v ndocs="$ndocs" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_lowcode;
DROP SCHEMA IF EXISTS vsinsn CASCADE;
RESET client_min_messages;
CREATE SCHEMA vsinsn;
SET search_path = vsinsn, public;
\i :form_sql
DELETE FROM form_docs WHERE ctid NOT IN (SELECT ctid FROM form_docs LIMIT :ndocs);
CREATE TABLE workloads (name text PRIMARY KEY, ord int, schema jsonb, docs text);
INSERT INTO workloads VALUES
    ('form', 1, :'form_schema', 'form_docs'),
    ('form_nopattern', 2, :'form_schema'::jsonb #- '{properties,email,pattern}' #- '{properties,phone,pattern}'
                                                #- '{properties,address,properties,zip,pattern}', 'form_docs');
CREATE TABLE docs_readme AS SELECT jsonb_build_object('a', g, 'b', g::text) AS doc FROM generate_series(1, :ndocs) g;
INSERT INTO workloads VALUES ('readme', 3, '{"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "string"}}, "required": ["a", "b"]}', 'docs_readme');
\if :gw
CREATE TEMP TABLE gw_src (doc jsonb);
COPY gw_src FROM :'gw_docs' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
CREATE TABLE docs_github_workflow AS
SELECT doc FROM gw_src, generate_series(1, (:ndocs + (SELECT count(*) FROM gw_src) - 1) / (SELECT count(*) FROM gw_src));
INSERT INTO workloads VALUES ('github_workflow', 4, pg_read_file(:'gw_schema')::jsonb, 'docs_github_workflow');
\endif
SQL
workloads=$(bpsql -At -c "SELECT string_agg(name || ':' || docs, ' ' ORDER BY ord) FROM vsinsn.workloads")
bench_stop
trap - EXIT

printf '%-18s %6s %16s %16s %8s %s\n' workload docs "insn/doc on" "insn/doc off" "off/on" "valid (on, off)"
for w in $workloads; do
  name=${w%%:*}; table=${w#*:}
  declare -A ir=() valid=()
  for mode in on off; do
    cg=$out/callgrind.$name.$mode
    # one statement per line (single-user mode); the first call compiles the schema, outside the count
    as_server_user tee "$out/$name.$mode.sql" >/dev/null <<SQL
SET lowcode.jsonschema_fast_path = $mode;
SELECT lowcode.jsonschema_is_valid(schema, '{}') FROM vsinsn.workloads WHERE name = '$name';
SELECT count(*) AS n, count(*) FILTER (WHERE lowcode.jsonschema_is_valid(w.schema, d.doc)) AS valid FROM vsinsn.$table d, vsinsn.workloads w WHERE w.name = '$name';
SQL
    as_server_user rm -f "$cg"
    as_server_user valgrind --tool=callgrind --toggle-collect=js_validate --callgrind-out-file="$cg" \
      "$STAGE_BIN/postgres" --single -D "$BENCH_DIR/data" -c shared_preload_libraries=pg_lowcode postgres \
      < "$out/$name.$mode.sql" > "$out/$name.$mode.out" 2> "$out/$name.$mode.vg"
    n=$(sed -n 's/^[[:space:]]*1: n = "\([0-9]*\)".*/\1/p' "$out/$name.$mode.out" | tail -1)
    valid[$mode]=$(sed -n 's/^[[:space:]]*2: valid = "\([0-9]*\)".*/\1/p' "$out/$name.$mode.out" | tail -1)
    total=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$cg")
    # the compiling call validates one document ({}) too: negligible beside $ndocs
    ir[$mode]=$(( total / n ))
  done
  printf '%-18s %6s %16s %16s %8s %s\n' "$name" "$n" "${ir[on]}" "${ir[off]}" \
    "$(awk -v a="${ir[off]}" -v b="${ir[on]}" 'BEGIN { printf "%.2f", a / b }')" "${valid[on]}, ${valid[off]}"
  unset ir valid
done
