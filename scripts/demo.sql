-- The five-minute tour of pg_lowcode, run by scripts/demo.sh (again on every run: it is idempotent).
\set QUIET on
\pset footer off
\echo '== Tenants and tiers'
SELECT coalesce((SELECT id FROM lowcode.tenants WHERE slug = 'demo'),
                lowcode.create_tenant('demo', 'Demo Company', 'pro')) AS tenant \gset
SELECT slug, name, tier, status FROM lowcode.tenants WHERE slug = 'demo';

\echo '== A user table made tenant-safe (tenant_id column, index, RLS forced, policies), in the API schema'
SET client_min_messages = warning;
-- schema api (scripts/api_schema.sql, run by demo.sh) is what PostgREST serves
CREATE TABLE IF NOT EXISTS api.contacts (id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, email text);
SELECT lowcode.make_tenant_table('api.contacts') \gset
SELECT lowcode.grant_api_role('authenticated') \gset
GRANT SELECT, INSERT, UPDATE, DELETE ON api.contacts TO authenticated;

\echo '== JSON Schema: errors a front end can put next to each field'
SELECT e ->> 'instancePath' AS field, e ->> 'keyword' AS keyword, e -> 'params' AS params, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.jsonschema_validate(
    '{"type": "object", "required": ["email"], "additionalProperties": false,
      "properties": {"name": {"type": "string", "minLength": 2},
                     "email": {"type": "string", "format": "email"},
                     "age": {"type": "integer", "minimum": 18}}}',
    '{"name": "A", "age": 12, "nickname": "x"}') -> 'errors') e;
\echo '...in Simplified Chinese'
SELECT e ->> 'instancePath' AS field, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.jsonschema_validate(
    '{"type": "object", "properties": {"age": {"type": "integer", "minimum": 18}}}',
    '{"age": 12}', '{"locale": "zh-CN"}') -> 'errors') e;

\echo '== Rules: CEL and JsonLogic over jsonb'
SELECT lowcode.rule_eval('amount > 1000 && customer.tier == "gold"',
                         '{"amount": 1500, "customer": {"tier": "gold"}}') AS cel,
       lowcode.rule_test('items.all(i, i.qty > 0)', '{"items": [{"qty": 1}, {"qty": 2}]}') AS cel_test,
       lowcode.jsonlogic_apply('{"if": [{">": [{"var": "amount"}, 1000]}, "review", "auto"]}',
                               '{"amount": 1500}') AS jsonlogic;

\echo '== A PostgREST request, replayed: the tenant comes from the verified JWT'
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
SELECT set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', :'tenant')::text, true),
       set_config('request.method', 'POST', true) \gset
SELECT lowcode.pre_request() \gset
INSERT INTO api.contacts (name, email) VALUES ('Ada', 'ada@example.com')
  RETURNING name, email, tenant_id = lowcode.current_tenant() AS in_my_tenant;
COMMIT;
\echo '...without a tenant, pre_request() answers 401 in PostgREST''s error form:'
\set ON_ERROR_STOP off
BEGIN READ ONLY;
SELECT set_config('role', 'authenticated', true) \gset
SELECT lowcode.pre_request();
ROLLBACK;
\set ON_ERROR_STOP on

\echo '== The schema registry: a versioned form with a cross-field rule, a submission refused with 422'
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'tenant')::text, true) \gset
SELECT lowcode.register_schema('leave-request', '{
  "type": "object", "required": ["name", "start_date", "end_date"],
  "properties": {"name": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
                 "end_date": {"type": "string", "format": "date"}},
  "x-rules": [{"rule": "end_date >= start_date", "message": "the end date must not be before the start date",
               "path": "/end_date"}]}') AS version;
SELECT e ->> 'instancePath' AS field, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.validate('leave-request',
         '{"name": "Ann", "start_date": "2026-05-02", "end_date": "2026-05-01"}') -> 'errors') e;
SELECT lowcode.submit('leave-request', '{"name": "Ann", "start_date": "2026-05-02", "end_date": "2026-05-04"}') ->> 'version' AS submitted_under_version;
COMMIT;

\echo '== Sessions: created by the identity back end, validated by pre_request() (claims "sid" and "sid_proof")'
SELECT session_id AS sid, token, lowcode.session_proof(token) AS proof, expires_at FROM lowcode.create_session(:'tenant', 'ann@example.com') \gset
\echo 'session' :sid 'expires at' :expires_at '(the token is shown once; the JWT carries its proof; only the proof''s SHA-256 is stored)'
BEGIN READ ONLY;
SELECT set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', :'tenant', 'sid', :'sid', 'sid_proof', :'proof')::text, true) \gset
SELECT lowcode.pre_request() \gset
SELECT principal, expires_at > now() AS active FROM lowcode.session_info();
COMMIT;
SELECT lowcode.revoke_session(:'sid') AS revoked;
\echo '...the next request of the revoked session gets 401:'
\set ON_ERROR_STOP off
BEGIN READ ONLY;
SELECT set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', :'tenant', 'sid', :'sid', 'sid_proof', :'proof')::text, true) \gset
SELECT lowcode.pre_request();
ROLLBACK;
\set ON_ERROR_STOP on

\echo '== Per-tenant limits and live statistics'
SELECT name, value, source FROM lowcode.tenant_limits(:'tenant') ORDER BY name;

\echo '== The isolation report (problems found in this database), after the hardening it recommends'
REVOKE TEMPORARY ON DATABASE lowcode_demo FROM PUBLIC;
SELECT severity, problem, object_name FROM lowcode.isolation_report();
