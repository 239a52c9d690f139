-- Per-tenant metrics in shared memory (src/metrics, docs/operations.md): the view
-- lowcode.metrics, the Prometheus text of lowcode.metrics_prometheus(), refusals by
-- HTTP status, validations per subject, sessions, latency, bounded output.
\set VERBOSITY terse
SELECT lowcode.metrics_reset();

SELECT lowcode.create_tenant('metrics-one') AS one_id \gset
SELECT lowcode.create_tenant('metrics-two') AS two_id \gset
SELECT lowcode.suspend_tenant(:'two_id');

-- the samples of one tenant, by slug (uuids change from run to run)
CREATE FUNCTION pg_temp.samples(slug_ text, like_ text DEFAULT '%')
RETURNS TABLE (metric text, labels jsonb, value double precision)
LANGUAGE sql AS $$
  SELECT m.metric, m.labels, m.value FROM lowcode.metrics_rows(0) m
    JOIN lowcode.tenants t ON t.id::text = m.tenant
   WHERE t.slug = slug_ AND m.metric LIKE like_
   ORDER BY m.metric, m.labels::text
$$;

-- three admitted requests of tenant one (each its own transaction: latency at commit)
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();
BEGIN;
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();   -- twice in one transaction: one request
COMMIT;
-- an admitted request whose transaction rolls back: a failed request
BEGIN;
SELECT lowcode.pre_request();
ROLLBACK;
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_requests%');
SELECT metric, labels, value FROM pg_temp.samples('metrics-one', 'lowcode_request_duration%')
 WHERE metric <> 'lowcode_request_duration_seconds_sum' AND (labels->>'le' IN ('+Inf', '10') OR labels = '{}');

-- refusals: a suspended tenant (403), no tenant (401, tenant "none"), a 429 from SQL
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT set_config('request.jwt.claims', '{}', false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();
SELECT metric, tenant, labels, value FROM lowcode.metrics
 WHERE metric = 'lowcode_requests_refused_total' AND tenant = 'none';
-- the suspended tenant has no context: its refusal is not attributed to it
SELECT count(*) FROM pg_temp.samples('metrics-two');
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
BEGIN;
SELECT lowcode.pre_request();
SELECT lowcode.raise_http(429, 'LQ429', 'slow down');
ROLLBACK;
BEGIN;
SELECT lowcode.pre_request();
SELECT lowcode.raise_http(413, 'LQ413', 'too large');
ROLLBACK;
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_requests_%');

-- validations per subject, counted in the tenant context
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.register_schema('metrics-form', '{"type": "object", "required": ["a"],
  "x-rules": [{"rule": "a > 0", "message": "a must be positive", "path": "/a"}]}') IS NOT NULL AS registered;
SELECT (lowcode.validate('metrics-form', '{"a": 1}'))->>'valid' AS valid;
SELECT (lowcode.validate('metrics-form', '{"a": -1}'))->>'valid' AS valid;
SELECT (lowcode.validate('metrics-form', '{}'))->>'valid' AS valid;
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_%validation%');
-- a rule that runs out of its cost budget raises the budget error (LR020) and is counted
SET lowcode.rules_max_cost = 1;
SELECT (lowcode.validate('metrics-form', '{"a": 1}'))->>'valid' AS valid;
RESET lowcode.rules_max_cost;
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_rule%');
-- counted where the engine raises it (its host), so direct evaluations count too
SET lowcode.rules_max_cost = 5;
SELECT lowcode.rule_eval('[1, 2, 3, 4, 5, 6].all(x, x > 0)', '{}');
SELECT lowcode.jsonlogic_apply('{"all": [[1, 2, 3, 4, 5, 6], {">": [{"var": ""}, 0]}]}', '{}');
RESET lowcode.rules_max_cost;
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_rule_budget%');
-- the registry's tests list every subject: remove it again
SELECT lowcode.delete_schema('metrics-form', 1), lowcode.delete_schema('metrics-form', 1, true);
DELETE FROM lowcode.subjects WHERE name = 'metrics-form';

-- sessions created and revoked (the trigger on lowcode.sessions)
RESET request.jwt.claims;
SELECT session_id AS sid FROM lowcode.create_session(:'one_id', 'ada') \gset
SELECT lowcode.create_session(:'one_id', 'bob') IS NOT NULL AS created;
SELECT lowcode.revoke_session(:'sid');
-- an expired one: the sweep marks it (what the database worker does)
SELECT session_id AS s_old FROM lowcode.create_session(:'one_id', 'carl') \gset
UPDATE lowcode.sessions SET absolute_expires_at = now() - interval '1 second',
                            expires_at = now() - interval '1 second' WHERE id = :'s_old';
SELECT expired >= 1 AS swept FROM lowcode.sweep();
SELECT * FROM pg_temp.samples('metrics-one', 'lowcode_sessions%');
-- session_basic lists every session.expired event: remove this test's sessions and events again
DELETE FROM lowcode.events WHERE tenant_id = :'one_id';
DELETE FROM lowcode.sessions WHERE tenant_id = :'one_id';

-- the Prometheus text: HELP and TYPE once per family, labels quoted
SELECT line FROM regexp_split_to_table(lowcode.metrics_prometheus(), E'\n') AS line
 WHERE line ~ '^# (HELP|TYPE) lowcode_(requests_refused_total|request_duration_seconds) '
 ORDER BY line;
SELECT count(*) FILTER (WHERE line ~ '^# TYPE ') = count(DISTINCT substring(line FROM '^# TYPE (\S+)'))
         AS one_type_line_per_family,
       bool_and(line ~ '^(# (HELP|TYPE) \S+ .*|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+(Inf)?)$')
         AS every_line_well_formed
  FROM regexp_split_to_table(rtrim(lowcode.metrics_prometheus(), E'\n'), E'\n') AS line;
SELECT replace(line, :'one_id', 'ONE') AS line
  FROM regexp_split_to_table(lowcode.metrics_prometheus(), E'\n') AS line
 WHERE line LIKE 'lowcode_requests_admitted_total{tenant="' || :'one_id' || '"}%'
    OR line LIKE 'lowcode_request_duration_seconds_count{tenant="' || :'one_id' || '"}%'
    OR line LIKE 'lowcode_subject_validation_failures_total{tenant="' || :'one_id' || '"%';

-- bounded output: the top_n tenants per series, the others summed as "other"
SELECT count(lowcode.metrics_count(('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'sessions_created', i))
  FROM generate_series(1, 500) AS i;
SELECT count(*) AS rows, sum(value) AS total,
       max(value) FILTER (WHERE tenant = 'other') AS other
  FROM lowcode.metrics_rows(10) WHERE metric = 'lowcode_sessions_created_total';
SELECT string_agg(value::text, ',' ORDER BY value DESC) AS top3
  FROM (SELECT value FROM lowcode.metrics_rows(3)
         WHERE metric = 'lowcode_sessions_created_total' AND tenant <> 'other') s;
SELECT count(*) AS rows FROM lowcode.metrics_rows(0) WHERE metric = 'lowcode_sessions_created_total';
SET lowcode.metrics_top_n = 5;
SELECT count(*) AS rows FROM lowcode.metrics WHERE metric = 'lowcode_sessions_created_total';
RESET lowcode.metrics_top_n;
SELECT value FROM lowcode.metrics WHERE metric = 'lowcode_metrics_tenants';

-- lowcode.metrics = off counts nothing (superuser only)
SET lowcode.metrics = off;
SELECT lowcode.metrics_count(:'one_id', 'sessions_created', 100);
RESET lowcode.metrics;
SELECT value FROM pg_temp.samples('metrics-one', 'lowcode_sessions_created%');

-- bad input: a clear error and nothing counted
SELECT lowcode.metrics_count(:'one_id', 'no_such_metric');
SELECT lowcode.metrics_count(:'one_id', 'sessions_created', -1);
SELECT lowcode.metrics_count(NULL, 'sessions_created');
SELECT lowcode.metrics_rows(-1);
SELECT lowcode.metrics_prometheus(-1);

-- every tenant's traffic: not for tenants' roles
CREATE ROLE metrics_user NOLOGIN;
SET ROLE metrics_user;
SELECT count(*) FROM lowcode.metrics;
SELECT lowcode.metrics_prometheus();
SELECT lowcode.metrics_reset();
SET lowcode.metrics = off;
RESET ROLE;
GRANT pg_monitor TO metrics_user;
SET ROLE metrics_user;
SELECT count(*) > 0 AS monitor_reads FROM lowcode.metrics;
RESET ROLE;
DROP ROLE metrics_user;

-- reset forgets everything
SELECT lowcode.metrics_reset();
SELECT count(*) FROM lowcode.metrics WHERE tenant IS NOT NULL;
RESET request.jwt.claims;
