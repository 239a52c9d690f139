-- Usage accounting: counted at commit only, rows and storage quotas on
-- tenant tables, flush to tenant_usage, storage reconciliation, sessions.
\set VERBOSITY terse

SELECT lowcode.create_tenant('qusage-one') AS one_id \gset
SELECT lowcode.create_tenant('qusage-two') AS two_id \gset
CREATE TABLE qt_items (tenant_id uuid NOT NULL, id int NOT NULL, payload text, PRIMARY KEY (tenant_id, id));
SELECT lowcode.make_tenant_table('qt_items');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'qt_items'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT lowcode.make_tenant_table('qt_items');  -- idempotent
SELECT * FROM lowcode.quota_tables();

SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
INSERT INTO qt_items (id, payload) VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT rows_inserted, rows_deleted, rows_used, storage_bytes_used > 0 AS has_bytes
  FROM lowcode.tenant_stats WHERE slug = 'qusage-one';
-- rolled back work is not counted
BEGIN;
INSERT INTO qt_items (id, payload) VALUES (4, 'd'), (5, 'e');
SELECT rows_used, rows_inserted FROM lowcode.tenant_stats WHERE slug = 'qusage-one';
ROLLBACK;
BEGIN;
INSERT INTO qt_items (id, payload) VALUES (4, 'd');
SAVEPOINT s1;
INSERT INTO qt_items (id, payload) VALUES (5, 'e'), (6, 'f');
ROLLBACK TO s1;
SAVEPOINT s2;
INSERT INTO qt_items (id, payload) VALUES (7, 'g');
RELEASE s2;
SELECT lowcode.count_usage('validation', true);
SELECT lowcode.count_usage('validation', false);
SELECT lowcode.count_usage('rule_evaluation');
COMMIT;
BEGIN;
SELECT lowcode.count_usage('validation', true);
ROLLBACK;
SELECT lowcode.count_usage('nothing');
DELETE FROM qt_items WHERE id = 7;
UPDATE qt_items SET payload = 'bb' WHERE id = 2;
SELECT s.requests, s.rows_inserted, s.rows_deleted, s.rows_used, s.validations, s.validation_failures,
       s.rule_evaluations, q.inflight_rows FROM lowcode.tenant_stats s JOIN lowcode.quota_live() q USING (tenant_id)
 WHERE slug = 'qusage-one';

-- row quota: the statement that crosses it fails whole (HTTP 403)
SELECT lowcode.set_tenant_limit(:'one_id', 'max_rows', 6);
\set VERBOSITY default
INSERT INTO qt_items (id, payload) SELECT g, 'x' FROM generate_series(10, 12) g;
\set VERBOSITY terse
SELECT count(*) AS stored FROM qt_items;
INSERT INTO qt_items (id, payload) VALUES (10, 'x'), (11, 'x');
INSERT INTO qt_items (id, payload) VALUES (12, 'x');
-- deleting in the same transaction makes room
BEGIN;
DELETE FROM qt_items WHERE id = 10;
INSERT INTO qt_items (id, payload) VALUES (12, 'x');
COMMIT;
SELECT rows_used, max_rows, rejected_rows FROM lowcode.tenant_stats WHERE slug = 'qusage-one';
-- the other tenant is not limited by it
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id')::text, false) IS NOT NULL AS set;
INSERT INTO qt_items (id, payload) SELECT g, 'y' FROM generate_series(1, 20) g;
SELECT slug, rows_used FROM lowcode.tenant_stats WHERE slug LIKE 'qusage-%' ORDER BY slug;

-- storage quota (HTTP 413)
SELECT lowcode.set_tenant_limit(:'two_id', 'max_storage_bytes', 4000);
\set VERBOSITY default
INSERT INTO qt_items (id, payload) VALUES (100, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g));
\set VERBOSITY terse
UPDATE qt_items SET payload = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g) WHERE id = 1;
-- a repetitive value is stored compressed, and counted at its stored size
INSERT INTO qt_items (id, payload) VALUES (101, repeat('z', 5000));
SELECT rejected_storage, storage_bytes_used < 4000 AS under FROM lowcode.tenant_stats WHERE slug = 'qusage-two';
SELECT lowcode.reset_tenant_limit(:'two_id', 'max_storage_bytes');

-- flush: counters move to tenant_usage and tenant_storage
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;
-- a flush that rolls back (whole, or its subtransaction) puts the counters back
BEGIN;
SELECT lowcode.flush_usage() >= 2 AS flushed_then_rolled_back;
ROLLBACK;
BEGIN;
SAVEPOINT f;
SELECT lowcode.flush_usage() >= 2 AS flushed_in_subtransaction;
ROLLBACK TO f;
COMMIT;
SELECT lowcode.flush_usage() >= 2 AS flushed;
SELECT lowcode.flush_usage() AS nothing_left;
SELECT t.slug, sum(u.requests) requests, sum(u.rows_inserted) ins, sum(u.rows_deleted) del,
       sum(u.validations) val, sum(u.validation_failures) valf, sum(u.rule_evaluations) rules,
       sum(u.rejected_rows) rej_rows, sum(u.rejected_storage) rej_storage
  FROM lowcode.tenant_usage u JOIN lowcode.tenants t ON t.id = u.tenant_id
 WHERE t.slug LIKE 'qusage-%' GROUP BY t.slug ORDER BY t.slug;
SELECT t.slug, s.rows FROM lowcode.tenant_storage s JOIN lowcode.tenants t ON t.id = s.tenant_id
 WHERE t.slug LIKE 'qusage-%' ORDER BY t.slug;
-- the incremental figures match a recount (no tenant changed)
SELECT count(*) AS changed FROM lowcode.reconcile_storage() r
  JOIN lowcode.tenants t ON t.id = r.tenant_id WHERE t.slug LIKE 'qusage-%';
-- a wrong figure is repaired by the reconciliation
UPDATE lowcode.tenant_storage SET rows = 1000, bytes = 1 WHERE tenant_id = :'two_id';
SELECT lowcode.quota_storage_reconciled();  -- make shared memory reload at commit
SELECT rows_used FROM lowcode.tenant_stats WHERE slug = 'qusage-two';
SELECT r.rows, r.rows_before FROM lowcode.reconcile_storage() r
  JOIN lowcode.tenants t ON t.id = r.tenant_id WHERE t.slug LIKE 'qusage-%';
SELECT rows_used FROM lowcode.tenant_stats WHERE slug = 'qusage-two';
-- TRUNCATE rebuilds every tenant's figures
TRUNCATE qt_items;
SELECT slug, rows_used, storage_bytes_used FROM lowcode.tenant_stats WHERE slug LIKE 'qusage-%' ORDER BY slug;

-- tenant_stats: a tenant sees its own row only, the operator all
CREATE ROLE quota_usage_api NOLOGIN;
SELECT lowcode.grant_api_role('quota_usage_api');
GRANT SELECT, INSERT ON qt_items TO quota_usage_api;
SET ROLE quota_usage_api;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
SELECT slug FROM lowcode.tenant_stats;
SELECT count(*) AS own_live_rows FROM lowcode.quota_live();
SELECT count(DISTINCT tenant_id) AS own_usage FROM lowcode.tenant_usage;
SELECT lowcode.flush_usage();
INSERT INTO qt_items (id, payload) VALUES (1, 'as the api role');
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;
SELECT count(*) AS no_context_rows FROM lowcode.tenant_stats;
RESET ROLE;
GRANT lowcode_operator TO quota_usage_api;
SET ROLE quota_usage_api;
SELECT count(*) >= 2 AS operator_sees_all FROM lowcode.tenant_stats WHERE slug LIKE 'qusage-%';
RESET ROLE;
REVOKE lowcode_operator FROM quota_usage_api;

-- session limit (403): the trigger the quota part attaches to lowcode.sessions
SELECT lowcode.set_tenant_limit(:'one_id', 'max_sessions', 2);
SELECT count(*) AS created FROM lowcode.create_session(:'one_id', 'qu-1') UNION ALL SELECT count(*) FROM lowcode.create_session(:'one_id', 'qu-2');
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT session_id FROM lowcode.create_session(:'one_id', 'qu-3');
\set SHOW_CONTEXT errors
\set VERBOSITY terse
-- a revoked session frees a place
SELECT lowcode.revoke_session(id) FROM lowcode.sessions WHERE tenant_id = :'one_id' AND principal = 'qu-1';
SELECT count(*) AS created FROM lowcode.create_session(:'one_id', 'qu-4');
SELECT sessions_active, max_sessions, rejected_sessions FROM lowcode.tenant_stats WHERE slug = 'qusage-one';
DELETE FROM lowcode.sessions WHERE tenant_id = :'one_id';

DROP TABLE qt_items;

-- registry validations and the x-rules they evaluate are counted per tenant, at commit
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS ctx;
SELECT validations AS v0, validation_failures AS f0, rule_evaluations AS r0
  FROM lowcode.tenant_stats WHERE slug = 'qusage-one' \gset
SELECT lowcode.register_schema('qusage-form',
  '{"type": "object", "x-rules": [{"rule": "a > 1", "message": "a must exceed 1", "path": "/a"}]}') AS version;
SELECT lowcode.validate('qusage-form', '{"a": 5}') -> 'valid' AS ok,
       lowcode.validate('qusage-form', '{"a": 0}') -> 'valid' AS not_ok;
BEGIN;
SELECT lowcode.validate('qusage-form', '{"a": 0}') -> 'valid' AS rolled_back;
ROLLBACK;
SELECT validations - :v0 AS validations, validation_failures - :f0 AS failures, rule_evaluations - :r0 AS rules
  FROM lowcode.tenant_stats WHERE slug = 'qusage-one';
-- remove what the registry kept of it (the subject row, its audit rows and events)
DELETE FROM lowcode.schema_versions WHERE tenant_id = :'one_id' AND subject = 'qusage-form';
DELETE FROM lowcode.subjects WHERE tenant_id = :'one_id' AND name = 'qusage-form';
DELETE FROM lowcode.registry_audit WHERE tenant_id = :'one_id';
DELETE FROM lowcode.events WHERE tenant_id = :'one_id';
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;

-- clean up what this test created
DELETE FROM lowcode.tenant_usage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qusage-%');
DELETE FROM lowcode.tenant_storage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qusage-%');
DELETE FROM lowcode.tenants WHERE slug LIKE 'qusage-%';
DROP OWNED BY quota_usage_api;
DELETE FROM lowcode.api_roles WHERE role_name = 'quota_usage_api';
DROP ROLE quota_usage_api;
