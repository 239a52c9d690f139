-- Setup of bench/jsonschema_vs_ajv.sh (see docs/benchmarks.md): the
-- workloads as tables vsajv.docs_<name> and their schemas in vsajv.workloads,
-- each exported to :out/<name>.jsonl and :out/<name>.schema.json for ajv.
-- vsajv.round() then runs one interleaved round of pg_lowcode's measures.
\set ON_ERROR_STOP 1
\pset pager off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_lowcode;
DROP SCHEMA IF EXISTS vsajv CASCADE;
RESET client_min_messages;
CREATE SCHEMA vsajv;
SET search_path = vsajv, public;
SET max_parallel_workers_per_gather = 0;
SELECT set_config('vsajv.out', :'out', false) \gset

CREATE TABLE workloads (name text PRIMARY KEY, ord int, schema jsonb, docs text, nrows bigint);
-- best CPU time (ns) per workload and measure ('scan', 'validate', 'validate_full': the
-- fast path off) over the rounds
CREATE TABLE pg_best (name text, measure text, cpu_ns bigint, valid bigint, PRIMARY KEY (name, measure));
CREATE TABLE ajv_runs (name text, us_per_doc float8, valid bigint, docs bigint);

-- CPU time of this backend in ns: the first field of /proc/self/schedstat is
-- the time spent on a CPU (the 10 ms ticks of /proc/self/stat are too coarse)
CREATE FUNCTION cpu_ns() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint;
$$;

\ir form_workload.sql
ALTER TABLE form_docs RENAME TO docs_form;
INSERT INTO workloads VALUES
    ('form', 1, :'form_schema', 'docs_form'),
    ('form_nopattern', 2, :'form_schema'::jsonb #- '{properties,email,pattern}' #- '{properties,phone,pattern}'
                                                #- '{properties,address,properties,zip,pattern}', 'docs_form');

-- the floor: the empty schema on the same documents (the call, the cache hit,
-- the document's header; no value read), to tell per-row cost from per-value cost
INSERT INTO workloads VALUES ('form_empty_schema', 5, '{}', 'docs_form');

-- the benchmark of pg_jsonschema's README: {"a": number, "b": string}
CREATE TABLE docs_readme AS SELECT jsonb_build_object('a', g, 'b', g::text) AS doc FROM generate_series(1, 100000) g;
INSERT INTO workloads VALUES ('readme', 3, '{"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "string"}}, "required": ["a", "b"]}', 'docs_readme');

-- SchemaStore's github-workflow schema and its test workflows (valid and
-- invalid ones), each repeated to 20,000 rows or more; only with a checkout
\if :gw
CREATE TEMP TABLE gw_src (doc jsonb);
COPY gw_src FROM :'gw_docs' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
CREATE TABLE docs_github_workflow AS
SELECT doc FROM gw_src, generate_series(1, (20000 + (SELECT count(*) FROM gw_src) - 1) / (SELECT count(*) FROM gw_src));
INSERT INTO workloads VALUES ('github_workflow', 4, pg_read_file(:'gw_schema')::jsonb, 'docs_github_workflow');
\endif

VACUUM ANALYZE;
DO $$
DECLARE w record;
BEGIN
    FOR w IN SELECT * FROM vsajv.workloads LOOP
        EXECUTE format('SELECT count(*) FROM vsajv.%I', w.docs) INTO w.nrows;
        UPDATE vsajv.workloads SET nrows = w.nrows WHERE name = w.name;
    END LOOP;
END $$;
SELECT name, nrows, (SELECT lowcode.jsonschema_check(schema)->'valid') AS schema_valid FROM workloads ORDER BY ord;

-- the documents and schemas for ajv, the exact text pg_lowcode validates
DO $$
DECLARE w record;
BEGIN
    FOR w IN SELECT * FROM vsajv.workloads LOOP
        EXECUTE format($q$COPY (SELECT doc::text FROM vsajv.%I) TO %L WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')$q$,
                       w.docs, current_setting('vsajv.out') || '/' || w.name || '.jsonl');
        EXECUTE format($q$COPY (SELECT %L::text) TO %L WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')$q$,
                       w.schema, current_setting('vsajv.out') || '/' || w.name || '.schema.json');
    END LOOP;
END $$;

-- one round: each workload's scan, then its validation, CPU time of this
-- backend; the schema is compiled (cached) before the clock starts
CREATE FUNCTION round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w record; c0 bigint; c bigint; n bigint; m text; q text;
BEGIN
    SET LOCAL max_parallel_workers_per_gather = 0;
    FOR w IN SELECT * FROM vsajv.workloads ORDER BY ord LOOP
        PERFORM lowcode.jsonschema_is_valid(w.schema, '{}');
        FOREACH m IN ARRAY ARRAY['scan', 'validate', 'validate_full'] LOOP
            q := CASE m WHEN 'scan' THEN format('SELECT count(doc) FROM vsajv.%I', w.docs)
                 ELSE format('SELECT count(*) FROM vsajv.%I WHERE lowcode.jsonschema_is_valid(%L::jsonb, doc)', w.docs, w.schema) END;
            -- validate_full: the same with the fast path off (the full validator alone)
            PERFORM set_config('lowcode.jsonschema_fast_path', CASE m WHEN 'validate_full' THEN 'off' ELSE 'on' END, true);
            c0 := vsajv.cpu_ns();
            EXECUTE q INTO n;
            c := vsajv.cpu_ns() - c0;
            INSERT INTO vsajv.pg_best VALUES (w.name, m, c, n)
            ON CONFLICT (name, measure) DO UPDATE SET cpu_ns = least(vsajv.pg_best.cpu_ns, excluded.cpu_ns), valid = excluded.valid;
        END LOOP;
    END LOOP;
END $$;
