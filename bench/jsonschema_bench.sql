-- JSON Schema benchmarks (see docs/benchmarks.md): three workloads, each
-- measured side by side with its baseline in the same run: every query runs
-- once per round, interleaved, five rounds; the best round counts.  Run with bench/jsonschema_bench.sh.
\set ON_ERROR_STOP 1
\pset pager off
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_lowcode;
DROP TABLE IF EXISTS bench_results, form_docs, ins_plain, ins_trivial, ins_checked, big_docs;
RESET client_min_messages;

DROP TABLE IF EXISTS bench_queries;
CREATE TABLE bench_results (workload text, measure text, us_per_row float8, ms_total float8, wall_ms float8);

CREATE TABLE bench_queries (id serial, workload text, measure text, q text, nrows int,
                            best_ms float8 DEFAULT 'Infinity', best_cpu_ms float8 DEFAULT 'Infinity');

-- CPU time of this backend (user + system, ms; Linux /proc, 10 ms ticks): the
-- machine is shared, so CPU time is steadier than elapsed time
CREATE FUNCTION pg_temp.cpu_ms() RETURNS float8 LANGUAGE sql AS $$
    SELECT (split_part(f, ' ', 12)::float8 + split_part(f, ' ', 13)::float8) * 10
    FROM (SELECT substring(s FROM position(') ' IN s) + 2) AS f
          FROM pg_read_file('/proc/self/stat') AS s) x;
$$;

-- register a measure; pg_temp.run_all() runs every registered query once per
-- round, interleaved, so that all see the same machine load; best round counts
CREATE FUNCTION pg_temp.bench(workload text, measure text, q text, nrows int)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO bench_queries (workload, measure, q, nrows) VALUES (workload, measure, q, nrows);
$$;

CREATE FUNCTION pg_temp.run_all(rounds int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b record; t0 timestamptz; c0 float8; ms float8; cpu float8; dummy bigint;
BEGIN
    FOR r IN 1 .. rounds LOOP
        FOR b IN SELECT * FROM bench_queries ORDER BY id LOOP
            c0 := pg_temp.cpu_ms();
            t0 := clock_timestamp();
            EXECUTE b.q INTO dummy;
            ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
            cpu := pg_temp.cpu_ms() - c0;
            UPDATE bench_queries SET best_ms = least(best_ms, ms), best_cpu_ms = least(best_cpu_ms, cpu)
            WHERE id = b.id;
        END LOOP;
    END LOOP;
    INSERT INTO bench_results
    SELECT workload, measure, best_cpu_ms * 1000 / nrows, best_cpu_ms, best_ms FROM bench_queries;
END $$;

-- ---------------------------------------------------------------------
-- 1. Form workload: 100,000 documents of ~400 bytes against a form schema
-- ---------------------------------------------------------------------
\ir form_workload.sql

SELECT lowcode.jsonschema_check(:'form_schema')->'valid' AS form_schema_is_valid;
SELECT count(*) FILTER (WHERE lowcode.jsonschema_is_valid(:'form_schema', doc)) AS valid_docs FROM form_docs;

SELECT pg_temp.bench('form', 'scan (count of documents)',
    'SELECT count(doc) FROM form_docs', 100000);
SELECT pg_temp.bench('form', 'scan walking every value (jsonb_path_exists $.**)',
    'SELECT count(*) FROM form_docs WHERE jsonb_path_exists(doc, ''strict $.** ? (@ == "never")'')', 100000);
SELECT pg_temp.bench('form', 'jsonschema_is_valid',
    format('SELECT count(*) FROM form_docs WHERE lowcode.jsonschema_is_valid(%L::jsonb, doc)', :'form_schema'), 100000);
SELECT pg_temp.bench('form', 'jsonschema_is_valid, same schema without its 3 patterns',
    format('SELECT count(*) FROM form_docs WHERE lowcode.jsonschema_is_valid(%L::jsonb, doc)',
           :'form_schema'::jsonb #- '{properties,email,pattern}' #- '{properties,phone,pattern}' #- '{properties,address,properties,zip,pattern}'), 100000);
SELECT pg_temp.bench('form', 'jsonschema_validate (basic output)',
    format('SELECT count(*) FROM form_docs WHERE (lowcode.jsonschema_validate(%L::jsonb, doc)->>''valid'')::boolean', :'form_schema'), 100000);
SELECT pg_temp.bench('form', 'jsonschema_validate (flag output)',
    format('SELECT count(*) FROM form_docs WHERE (lowcode.jsonschema_validate(%L::jsonb, doc, ''{"output": "flag"}'')->>''valid'')::boolean', :'form_schema'), 100000);

-- ---------------------------------------------------------------------
-- 2. Insert workload: 20,000 single-row inserts, with and without CHECK
-- ---------------------------------------------------------------------
CREATE TABLE ins_plain (id bigserial PRIMARY KEY, doc jsonb NOT NULL);
-- the cost of any CHECK with a jsonb constant, to tell PostgreSQL's share from ours
CREATE TABLE ins_trivial (id bigserial PRIMARY KEY, doc jsonb NOT NULL
    CHECK (doc IS NOT NULL OR doc @> '{"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "number"}, "b": {"type": "string"}}}'));
CREATE TABLE ins_checked (id bigserial PRIMARY KEY, doc jsonb NOT NULL
    CHECK (lowcode.jsonschema_is_valid('{"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "number"}, "b": {"type": "string"}}}', doc)));

CREATE FUNCTION pg_temp.insert_rows(tab text, n int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('TRUNCATE %I', tab);
    FOR i IN 1 .. n LOOP
        EXECUTE format('INSERT INTO %I (doc) VALUES ($1)', tab)
            USING jsonb_build_object('a', i, 'b', 'row ' || i);
    END LOOP;
    RETURN n;
END $$;

SELECT pg_temp.bench('insert', 'single-row INSERT without CHECK', 'SELECT pg_temp.insert_rows(''ins_plain'', 20000)', 20000);
SELECT pg_temp.bench('insert', 'single-row INSERT with a trivial CHECK (same jsonb constant)', 'SELECT pg_temp.insert_rows(''ins_trivial'', 20000)', 20000);
SELECT pg_temp.bench('insert', 'single-row INSERT with CHECK jsonschema_is_valid', 'SELECT pg_temp.insert_rows(''ins_checked'', 20000)', 20000);
SELECT pg_temp.bench('insert', 'bulk INSERT ... SELECT 20,000 rows without CHECK',
    'WITH i AS (INSERT INTO ins_plain (doc) SELECT jsonb_build_object(''a'', g, ''b'', ''row '' || g) FROM generate_series(1, 20000) g RETURNING 1) SELECT count(*) FROM i', 20000);
SELECT pg_temp.bench('insert', 'bulk INSERT ... SELECT 20,000 rows with CHECK',
    'WITH i AS (INSERT INTO ins_checked (doc) SELECT jsonb_build_object(''a'', g, ''b'', ''row '' || g) FROM generate_series(1, 20000) g RETURNING 1) SELECT count(*) FROM i', 20000);

-- ---------------------------------------------------------------------
-- 3. Large schema (>= 1 MB): compile once, validate 20,000 rows
-- ---------------------------------------------------------------------
CREATE TEMP TABLE big_schema AS
SELECT jsonb_build_object(
    '$defs', (SELECT jsonb_object_agg('def' || d, jsonb_build_object(
                  'type', 'object',
                  'properties', (SELECT jsonb_object_agg('f' || f, jsonb_build_object(
                                     'type', (ARRAY['string', 'integer', 'number', 'boolean'])[1 + f % 4],
                                     'description', 'generated field ' || f || ' of definition ' || d))
                                 FROM generate_series(1, 40) f),
                  'required', jsonb_build_array('f1', 'f2')))
              FROM generate_series(1, 300) d),
    'type', 'object',
    'properties', (SELECT jsonb_object_agg('p' || p, jsonb_build_object('$ref', '#/$defs/def' || (1 + p % 300)))
                   FROM generate_series(1, 2000) p),
    'additionalProperties', false) AS s;
SELECT pg_column_size(s) AS big_schema_bytes, length(s::text) AS big_schema_text_bytes FROM big_schema;
SELECT lowcode.jsonschema_is_valid((SELECT s FROM big_schema), '{}') AS warm;

CREATE TABLE big_docs AS
SELECT jsonb_build_object('p' || (1 + g % 2000), jsonb_build_object('f1', g, 'f2', g * 1.5, 'f3', true, 'f4', 'x' || g, 'f5', g),
                          'p' || (1 + (g * 7) % 2000), jsonb_build_object('f1', 7, 'f2', 1)) AS doc
FROM generate_series(1, 20000) g;
VACUUM ANALYZE big_docs;
SELECT count(*) FILTER (WHERE lowcode.jsonschema_is_valid((SELECT s FROM big_schema), doc)) AS valid_big_docs FROM big_docs;

-- compile time: a schema not seen before (a changed "$comment") each run
SELECT pg_temp.bench('large schema', 'compile (one schema, ms in ms_total)',
    'SELECT count(*) FROM (SELECT lowcode.jsonschema_is_valid(s || jsonb_build_object(''$comment'', clock_timestamp()::text), ''1'') FROM big_schema) x', 1);
SELECT pg_temp.bench('large schema', 'scan (count of documents)', 'SELECT count(doc) FROM big_docs', 20000);
SELECT pg_temp.bench('large schema', 'jsonschema_is_valid (schema from a scalar subquery, compiled once)',
    'SELECT count(*) FROM big_docs WHERE lowcode.jsonschema_is_valid((SELECT s FROM big_schema), doc)', 20000);
SELECT pg_temp.bench('large schema', 'jsonschema_validate (schema from a scalar subquery)',
    'SELECT count(*) FROM big_docs WHERE (lowcode.jsonschema_validate((SELECT s FROM big_schema), doc)->>''valid'')::boolean', 20000);

-- run everything: 5 interleaved rounds
SELECT pg_temp.run_all(5);

-- ---------------------------------------------------------------------
-- Results and ratios (all from this run)
-- ---------------------------------------------------------------------
SELECT workload, measure, round(us_per_row::numeric, 3) AS cpu_us_per_row, round(ms_total::numeric, 1) AS cpu_ms_best,
       round(wall_ms::numeric, 1) AS wall_ms_best
FROM bench_results ORDER BY workload, us_per_row;

SELECT 'form: is_valid beyond the scan (us/row)' AS ratio,
       round(((SELECT us_per_row FROM bench_results WHERE measure = 'jsonschema_is_valid') -
              (SELECT us_per_row FROM bench_results WHERE workload = 'form' AND measure = 'scan (count of documents)'))::numeric, 3) AS value
UNION ALL
SELECT 'form: validate beyond the scan (us/row)',
       round(((SELECT us_per_row FROM bench_results WHERE workload = 'form' AND measure = 'jsonschema_validate (basic output)') -
              (SELECT us_per_row FROM bench_results WHERE workload = 'form' AND measure = 'scan (count of documents)'))::numeric, 3)
UNION ALL
SELECT 'form: is_valid without the 3 patterns, beyond the scan (us/row)',
       round(((SELECT us_per_row FROM bench_results WHERE measure LIKE 'jsonschema_is_valid, same schema without%') -
              (SELECT us_per_row FROM bench_results WHERE workload = 'form' AND measure = 'scan (count of documents)'))::numeric, 3)
UNION ALL
SELECT 'form: is_valid / walking scan',
       round(((SELECT us_per_row FROM bench_results WHERE measure = 'jsonschema_is_valid') /
              (SELECT us_per_row FROM bench_results WHERE measure LIKE 'scan walking%'))::numeric, 3)
UNION ALL
SELECT 'insert: single-row overhead of the CHECK',
       round(((SELECT us_per_row FROM bench_results WHERE measure = 'single-row INSERT with CHECK jsonschema_is_valid') /
              (SELECT us_per_row FROM bench_results WHERE measure = 'single-row INSERT without CHECK') - 1)::numeric, 3)
UNION ALL
SELECT 'insert: single-row overhead of the CHECK over a trivial CHECK',
       round(((SELECT us_per_row FROM bench_results WHERE measure = 'single-row INSERT with CHECK jsonschema_is_valid') /
              (SELECT us_per_row FROM bench_results WHERE measure LIKE 'single-row INSERT with a trivial CHECK%') - 1)::numeric, 3)
UNION ALL
SELECT 'insert: bulk overhead of the CHECK',
       round(((SELECT us_per_row FROM bench_results WHERE measure = 'bulk INSERT ... SELECT 20,000 rows with CHECK') /
              (SELECT us_per_row FROM bench_results WHERE measure = 'bulk INSERT ... SELECT 20,000 rows without CHECK') - 1)::numeric, 3);
