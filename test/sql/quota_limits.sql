-- Quotas: per-tier limits, per-tenant overrides, the cached copy in shared
-- memory, and the tier settings pre_request() applies.
\set VERBOSITY terse

-- the extension's own quota tables pass the isolation report
SELECT * FROM lowcode.isolation_report() WHERE object_name ~ '^lowcode\.';
-- the quota triggers on the other components' tables (sql/70_quota_attach.sql)
SELECT tgrelid::regclass AS tbl, tgname FROM pg_trigger
 WHERE tgname LIKE 'lowcode\_quota%' AND tgrelid::regclass::text LIKE 'lowcode.%' ORDER BY 1, 2;

SELECT lowcode.create_tenant('qlim-free') AS free_id \gset
SELECT lowcode.create_tenant('qlim-pro', NULL, 'pro') AS pro_id \gset

-- effective limits and where they come from
SELECT * FROM lowcode.tenant_limits(:'free_id');
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', 5);
SELECT lowcode.set_tenant_limit(:'free_id', 'max_storage_bytes', NULL);
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', 6);   -- idempotent: updates
SELECT * FROM lowcode.tenant_limits(:'free_id');
SELECT count(*) AS overrides FROM lowcode.tenant_limits WHERE tenant_id = :'free_id';

-- bad input: clear errors, nothing changed
SELECT lowcode.set_tenant_limit(:'free_id', 'nope', 1);
SELECT lowcode.set_tenant_limit(:'free_id', 'requests_per_second', NULL);
SELECT lowcode.set_tenant_limit(:'free_id', 'requests_per_second', 0);
SELECT lowcode.set_tenant_limit(:'free_id', 'request_burst', 2000000000);
SELECT lowcode.set_tenant_limit(:'free_id', 'work_mem_kb', 10);
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', -1);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000009', 'max_rows', 1);
SELECT lowcode.set_tenant_limit(NULL, 'max_rows', 1);
SELECT lowcode.reset_tenant_limit(:'free_id', 'nope');
SELECT * FROM lowcode.tenant_limits('00000000-0000-0000-0000-000000000009');
SELECT count(*) AS overrides FROM lowcode.tenant_limits WHERE tenant_id = :'free_id';

SELECT lowcode.reset_tenant_limit(:'free_id', 'max_storage_bytes');
SELECT lowcode.reset_tenant_limit(:'free_id', 'max_storage_bytes');  -- no override: no-op
SELECT name, value, source FROM lowcode.tenant_limits(:'free_id') WHERE name LIKE 'max%';

-- the copy cached in shared memory follows every change at commit
SELECT tier, max_rows, work_mem_kb FROM lowcode.quota_cached_limits(:'free_id');
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', 7);
SELECT max_rows FROM lowcode.quota_cached_limits(:'free_id');
BEGIN;
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', 8);
ROLLBACK;
SELECT max_rows FROM lowcode.quota_cached_limits(:'free_id');
UPDATE lowcode.tiers SET work_mem_kb = 2048 WHERE name = 'free';
SELECT work_mem_kb FROM lowcode.quota_cached_limits(:'free_id');
UPDATE lowcode.tiers SET work_mem_kb = 4096 WHERE name = 'free';
SELECT lowcode.set_tenant_tier(:'free_id', 'enterprise');
SELECT tier, max_rows, max_storage_bytes, requests_per_second FROM lowcode.quota_cached_limits(:'free_id');
SELECT lowcode.set_tenant_tier(:'free_id', 'free');
SELECT tier, requests_per_second FROM lowcode.quota_cached_limits(:'free_id');

-- pre_request() applies statement_timeout and work_mem for the transaction only
SHOW statement_timeout;
SHOW work_mem;
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'pro_id')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SHOW statement_timeout;
SHOW work_mem;
COMMIT;
SHOW statement_timeout;
SHOW work_mem;
SELECT lowcode.set_tenant_limit(:'pro_id', 'statement_timeout_ms', 1234);
SELECT lowcode.set_tenant_limit(:'pro_id', 'work_mem_kb', 777);
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'pro_id')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SHOW statement_timeout;
SHOW work_mem;
ROLLBACK;
SHOW statement_timeout;

-- a tenant reads its own limits only; only the operator changes them
CREATE ROLE quota_api NOLOGIN;
SELECT lowcode.grant_api_role('quota_api');
SET ROLE quota_api;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'free_id')::text, false) IS NOT NULL AS set;
SELECT name, value, source FROM lowcode.tenant_limits(:'free_id') WHERE name = 'max_rows';
SELECT count(*) AS other_tenant_limits FROM lowcode.tenant_limits_of(:'pro_id');
SELECT count(*) AS visible_overrides FROM lowcode.tenant_limits;
SELECT lowcode.set_tenant_limit(:'free_id', 'max_rows', 1000000);
SELECT lowcode.reset_tenant_limit(:'free_id', 'max_rows');
SELECT max_rows FROM lowcode.quota_cached_limits(:'free_id');
SELECT max_rows FROM lowcode.quota_cached_limits(:'pro_id');
RESET ROLE;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;


-- clean up what this test created
DELETE FROM lowcode.tenant_usage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qlim-%');
DELETE FROM lowcode.tenant_storage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qlim-%');
DELETE FROM lowcode.tenants WHERE slug LIKE 'qlim-%';
DROP OWNED BY quota_api;
DELETE FROM lowcode.api_roles WHERE role_name = 'quota_api';
DROP ROLE quota_api;
