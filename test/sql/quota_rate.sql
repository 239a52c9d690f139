-- Rate limiting in pre_request(): a token bucket per tenant; over the
-- limit, HTTP 429 with Retry-After in PostgREST's PGRST form.
\set VERBOSITY terse

SELECT lowcode.create_tenant('qrate-one') AS one_id \gset
SELECT lowcode.create_tenant('qrate-two') AS two_id \gset
-- 1 request per second, burst 3: three requests pass at once, the fourth
-- waits for the refill (the test runs well within that second)
SELECT lowcode.set_tenant_limit(:'one_id', 'requests_per_second', 1);
SELECT lowcode.set_tenant_limit(:'one_id', 'request_burst', 3);

SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();
\set VERBOSITY default
SELECT lowcode.pre_request();
\set VERBOSITY terse
SELECT lowcode.pre_request();

-- another tenant is not affected
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();

-- the rejection is counted although its transaction rolled back
SELECT slug, requests, rejected_rate, tokens_available < 1 AS bucket_empty,
       requests_per_second, request_burst
  FROM lowcode.tenant_stats WHERE slug IN ('qrate-one', 'qrate-two') ORDER BY slug;

-- a larger burst grants no tokens at once: the bucket refills at the rate
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'one_id')::text, false) IS NOT NULL AS set;
SELECT lowcode.set_tenant_limit(:'one_id', 'request_burst', 100);
SELECT lowcode.pre_request();
-- a higher rate takes effect at the next request (10^6 per second: refilled by now)
SELECT lowcode.set_tenant_limit(:'one_id', 'requests_per_second', 1000000);
SELECT lowcode.pre_request();

-- lowcode.rate_limiting = off admits everything (superuser only)
SELECT lowcode.set_tenant_limit(:'one_id', 'request_burst', 1);
SELECT lowcode.set_tenant_limit(:'one_id', 'requests_per_second', 1);
SET lowcode.rate_limiting = off;
SELECT lowcode.pre_request() FROM generate_series(1, 5);
RESET lowcode.rate_limiting;
CREATE ROLE quota_rate_user NOLOGIN;
SET ROLE quota_rate_user;
SET lowcode.rate_limiting = off;
RESET ROLE;
DROP ROLE quota_rate_user;

-- the benchmark-only functions are not in the shipped API (sql/bench/,
-- built with LOWCODE_BENCH=1); their C symbols stay for the frozen 0.1.0 and
-- 0.2.0 install scripts, and this build's bodies refuse
SELECT count(*) AS shipped_bench_functions FROM pg_proc WHERE proname = 'quota_check_cost';
CREATE FUNCTION pg_temp.quota_check_cost(uuid, int, OUT check_ns float8, OUT empty_ns float8, OUT admitted bigint)
  AS '$libdir/pg_lowcode', 'lowcode_quota_check_cost' LANGUAGE C;
SELECT * FROM pg_temp.quota_check_cost(:'two_id'::uuid, 10);

-- optional per-session bucket (superuser settings): each session of a tenant
-- has its own, on top of the tenant's
SELECT lowcode.set_tenant_limit(:'two_id', 'request_burst', 1000);
-- a tenant rate high enough that its bucket, drained above, refills between two statements
SELECT lowcode.set_tenant_limit(:'two_id', 'requests_per_second', 1000000);
SELECT session_id AS s1 FROM lowcode.create_session(:'two_id', 'qrate-user-1') \gset
SELECT session_id AS s2 FROM lowcode.create_session(:'two_id', 'qrate-user-2') \gset
SET lowcode.session_requests_per_second = 1;
SET lowcode.session_request_burst = 2;
-- sessions named by id alone, as 0.2.0 did (session proofs are tested in session_basic)
SET lowcode.session_proof = optional;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id', 'sid', :'s1')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT lowcode.pre_request();
\set VERBOSITY default
SELECT lowcode.pre_request();
\set VERBOSITY terse
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id', 'sid', :'s2')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
-- a request without a session is limited by the tenant's bucket only
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id')::text, false) IS NOT NULL AS set;
SELECT count(lowcode.pre_request()) FROM generate_series(1, 5);
RESET lowcode.session_requests_per_second;
RESET lowcode.session_request_burst;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'two_id', 'sid', :'s1')::text, false) IS NOT NULL AS set;
SELECT lowcode.pre_request();  -- no per-session limit any more
CREATE ROLE quota_rate_user2 NOLOGIN;
SET ROLE quota_rate_user2;
SET lowcode.session_requests_per_second = 0;
RESET ROLE;
DROP ROLE quota_rate_user2;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;
DELETE FROM lowcode.sessions WHERE tenant_id = :'two_id';

-- shared memory state
SELECT capacity, entries >= 2 AS has_entries, overflows FROM lowcode.quota_memory();

SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;

-- clean up what this test created
DELETE FROM lowcode.tenant_usage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qrate-%');
DELETE FROM lowcode.tenant_storage WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'qrate-%');
DELETE FROM lowcode.tenants WHERE slug LIKE 'qrate-%';
