-- Registry benchmarks (docs/benchmarks.md, "Registry"), run by bench/registry_bench.sh.
--  1. lowcode.validate(subject, doc) against lowcode.jsonschema_is_valid(schema, doc) with
--     the same schema, on the form workload of the JSON Schema benchmark (the same
--     100,000 documents and form schema as bench/jsonschema_bench.sql).
--  2. 100,000 submission inserts: lowcode.submissions (validation, audit row,
--     event + NOTIFY per row) and a user table under attach_validation
--     (validation only), against the same table with no validation.
-- Queries of a workload run in interleaved rounds; the best round counts.
\set ON_ERROR_STOP 1
\pset pager off
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_lowcode;
RESET client_min_messages;

CREATE TABLE bench_results (workload text, measure text, round int, ms float8, nrows int);
CREATE FUNCTION pg_temp.run(workload text, measure text, round int, q text, nrows int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz; ms float8; dummy bigint;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q INTO dummy;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    INSERT INTO bench_results VALUES (workload, measure, round, ms, nrows);
    RETURN ms;
END $$;

-- the tenant whose registry is used
SELECT lowcode.create_tenant('bench', NULL, 'enterprise') AS tenant \gset
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'tenant', 'sub', 'bench')::text, false) IS NOT NULL AS ctx;

-- ---------------------------------------------------------------------
-- 1. Form workload (bench/form_workload.sql, as bench/jsonschema_bench.sql)
-- ---------------------------------------------------------------------
\ir form_workload.sql


SELECT lowcode.register_schema('form', :'form_schema') AS form_version;
-- the same form with one cross-field rule (true for every document)
SELECT lowcode.register_schema('form-rule', (:'form_schema')::jsonb
         || '{"x-rules": [{"rule": "age >= 18 || status == \"draft\"", "message": "too young", "path": "/age"}]}') AS form_rule_version;
SELECT count(*) FILTER (WHERE lowcode.jsonschema_is_valid(:'form_schema', doc)) AS valid_is_valid,
       count(*) FILTER (WHERE (lowcode.validate('form', doc) ->> 'valid')::boolean) AS valid_registry
  FROM form_docs;

SELECT pg_temp.run('form', m, r, q, 100000)
  FROM generate_series(1, :reps) r,
       (VALUES (1, 'scan (count of documents)', 'SELECT count(doc) FROM form_docs'),
               (2, 'jsonschema_is_valid(schema, doc)', format('SELECT count(*) FROM form_docs WHERE lowcode.jsonschema_is_valid(%L, doc)', :'form_schema')),
               (3, 'jsonschema_validate(schema, doc)', format('SELECT count(*) FROM form_docs WHERE lowcode.jsonschema_validate(%L, doc) IS NOT NULL', :'form_schema')),
               (4, 'lowcode.validate(subject, doc)', 'SELECT count(*) FROM form_docs WHERE lowcode.validate(''form'', doc) IS NOT NULL'),
               (5, 'lowcode.validate(subject, doc) ->> valid', 'SELECT count(*) FROM form_docs WHERE (lowcode.validate(''form'', doc) ->> ''valid'')::boolean'),
               (6, 'lowcode.validate(subject with 1 x-rule, doc)', 'SELECT count(*) FROM form_docs WHERE lowcode.validate(''form-rule'', doc) IS NOT NULL'))
         AS w(o, m, q)
 ORDER BY r, o;

-- ---------------------------------------------------------------------
-- 2. Inserting 100,000 submissions
-- ---------------------------------------------------------------------
CREATE TABLE plain_submissions (LIKE lowcode.submissions INCLUDING DEFAULTS);
-- lowcode.submissions takes its ids from lowcode.new_id(); here an identity column does
ALTER TABLE plain_submissions ALTER COLUMN id DROP DEFAULT, ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;
ALTER TABLE plain_submissions ADD PRIMARY KEY (tenant_id, id);
CREATE TABLE attached_submissions (LIKE plain_submissions INCLUDING ALL);
SELECT lowcode.attach_validation('attached_submissions', 'data', 'form');
-- lowcode.submissions' own row trigger (tenant check, stamps, version pinning,
-- validation) without its statement triggers (audit rows, events, NOTIFY)
CREATE TABLE stamped_submissions (LIKE plain_submissions INCLUDING ALL);
CREATE TRIGGER submissions_validate BEFORE INSERT OR UPDATE ON stamped_submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.registry_validate_trigger('submissions');

CREATE FUNCTION pg_temp.ins(target text) RETURNS text LANGUAGE sql AS $$
  SELECT format('WITH i AS (INSERT INTO %s (subject, data) SELECT ''form'', doc FROM form_docs RETURNING 1) SELECT count(*) FROM i', target)
$$;
SELECT pg_temp.run('insert', m, r, q, 100000)
  FROM generate_series(1, :ins_reps) r,
       (VALUES (1, 'plain table, no validation', pg_temp.ins('plain_submissions')),
               (2, 'attach_validation (validation only)', pg_temp.ins('attached_submissions')),
               (3, 'submissions row trigger (stamps, pinning, validation)', pg_temp.ins('stamped_submissions')),
               (4, 'lowcode.submissions (validation, audit row, event, NOTIFY)', pg_temp.ins('lowcode.submissions')))
         AS w(o, m, q)
 ORDER BY r, o;
SELECT count(*) AS submissions, (SELECT count(*) FROM lowcode.registry_audit WHERE action = 'submission_created') AS audit_rows,
       (SELECT count(*) FROM lowcode.events WHERE type = 'registry.submission_created') AS events
  FROM lowcode.submissions;

-- ---------------------------------------------------------------------
-- Results: best round of each measure
-- ---------------------------------------------------------------------
CREATE TEMP VIEW best AS
  SELECT workload, measure, min(ms)::numeric AS ms, min(nrows) AS nrows FROM bench_results GROUP BY workload, measure;
\echo
\echo 'Form workload (100,000 documents), best of :reps interleaved rounds'
SELECT measure, round(ms::numeric, 1) AS ms, round((ms * 1000 / nrows)::numeric, 2) AS us_per_row,
       round((ms - (SELECT ms FROM best WHERE measure LIKE 'scan%')) * 1000 / nrows::numeric, 2) AS us_beyond_scan,
       round((ms / (SELECT ms FROM best WHERE measure = 'jsonschema_is_valid(schema, doc)'))::numeric, 3) AS ratio_to_is_valid,
       round(((ms - (SELECT ms FROM best WHERE measure LIKE 'scan%'))
              / ((SELECT ms FROM best WHERE measure = 'jsonschema_is_valid(schema, doc)') - (SELECT ms FROM best WHERE measure LIKE 'scan%')))::numeric, 3)
         AS ratio_beyond_scan
  FROM best WHERE workload = 'form' ORDER BY ms;
\echo 'Inserts (100,000 rows per statement), best of :ins_reps interleaved rounds'
SELECT measure, round(ms::numeric, 0) AS ms, round(nrows / (ms / 1000))::bigint AS rows_per_s,
       round((ms / (SELECT ms FROM best WHERE measure = 'plain table, no validation'))::numeric, 2) AS cost_vs_plain,
       round(((ms - (SELECT ms FROM best WHERE measure = 'plain table, no validation')) * 1000 / nrows)::numeric, 1) AS extra_us_per_row
  FROM best WHERE workload = 'insert' ORDER BY ms;
