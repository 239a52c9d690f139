-- Tenants, tiers and the tenant context (claims mode).
\set VERBOSITY terse

SELECT name, session_idle_timeout, session_absolute_lifetime FROM lowcode.tiers WHERE builtin ORDER BY requests_per_second;

-- create_tenant: valid and invalid input
SELECT lowcode.create_tenant('acme', 'Acme Corp', 'pro') IS NOT NULL AS created;
SELECT lowcode.create_tenant('globex') IS NOT NULL AS created;
SELECT slug, name, tier, status FROM lowcode.tenants WHERE slug IN ('acme', 'globex') ORDER BY slug;
SELECT lowcode.create_tenant('Bad Slug');
SELECT lowcode.create_tenant('-x');
SELECT lowcode.create_tenant(NULL);
SELECT lowcode.create_tenant('acme');
SELECT lowcode.create_tenant('initech', NULL, 'platinum');
SELECT lowcode.suspend_tenant('00000000-0000-0000-0000-000000000000');
SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'acme'), 'nope');
SELECT count(*) AS tenants_after_errors FROM lowcode.tenants WHERE slug IN ('acme', 'globex', 'initech', '-x');

-- current_tenant(): from claims
SELECT lowcode.current_tenant() IS NULL AS no_context;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', id, 'role', 'authenticated')::text, false)
  IS NOT NULL AS set FROM lowcode.tenants WHERE slug = 'acme';
SELECT t.slug FROM lowcode.tenants t WHERE t.id = lowcode.current_tenant();
-- malformed claims give no context, never an error
SELECT set_config('request.jwt.claims', 'not json', false) IS NOT NULL AS set;
SELECT lowcode.current_tenant() IS NULL AS no_context;
SELECT set_config('request.jwt.claims', '{"tenant_id": 42}', false) IS NOT NULL AS set;
SELECT lowcode.current_tenant() IS NULL AS no_context;
SELECT set_config('request.jwt.claims', '{"tenant_id": "not-a-uuid"}', false) IS NOT NULL AS set;
SELECT lowcode.current_tenant() IS NULL AS no_context;
SELECT set_config('request.jwt.claims', '{"sub": {"tenant_id": "00000000-0000-0000-0000-000000000001"}}', false) IS NOT NULL AS set;
SELECT lowcode.current_tenant() IS NULL AS nested_key_ignored;
-- unknown tenant: no context
SELECT set_config('request.jwt.claims', '{"tenant_id": "00000000-0000-0000-0000-000000000001"}', false) IS NOT NULL AS set;
SELECT lowcode.current_tenant() IS NULL AS unknown_has_no_context;
-- suspended tenant: no context; resumed: context again
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', id)::text, false) IS NOT NULL AS set
  FROM lowcode.tenants WHERE slug = 'globex';
SELECT lowcode.current_tenant() = (SELECT id FROM lowcode.tenants WHERE slug = 'globex') AS has_context;
SELECT lowcode.suspend_tenant(id) FROM lowcode.tenants WHERE slug = 'globex';
SELECT lowcode.current_tenant() IS NULL AS suspended_has_no_context;
SELECT lowcode.resume_tenant(id) FROM lowcode.tenants WHERE slug = 'globex';
SELECT lowcode.current_tenant() IS NOT NULL AS resumed_has_context;
SELECT lowcode.set_tenant_tier(id, 'enterprise') FROM lowcode.tenants WHERE slug = 'globex';
SELECT tier FROM lowcode.tenants WHERE slug = 'globex';

-- pre_request(): PGRST errors
\set VERBOSITY default
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT set_config('request.jwt.claims', '{"tenant_id": 7}', false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT set_config('request.jwt.claims', '{"tenant_id": "00000000-0000-0000-0000-000000000001"}', false) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT lowcode.suspend_tenant(id) FROM lowcode.tenants WHERE slug = 'globex';
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', id)::text, false) IS NOT NULL AS set
  FROM lowcode.tenants WHERE slug = 'globex';
SELECT lowcode.pre_request();
SELECT lowcode.resume_tenant(id) FROM lowcode.tenants WHERE slug = 'globex';
SELECT lowcode.pre_request();
-- raise_http
SELECT lowcode.raise_http(402, 'X1', 'pay', 'quota', 'upgrade', '{"Retry-After": "3"}');
SELECT lowcode.raise_http(99, 'X1', 'pay');
SELECT lowcode.raise_http(400, 'X1', 'pay', NULL, NULL, '[1]');
\set VERBOSITY terse

-- the tenant context setting is superuser-only
CREATE ROLE lowcode_test_user;
SET ROLE lowcode_test_user;
SET lowcode.tenant_context = 'claims';
SELECT set_config('lowcode.tenant_context', 'session', false);
RESET ROLE;
DROP ROLE lowcode_test_user;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS reset;

-- lowcode.new_id() (src/events/events_id.c): unique, increasing in the order one
-- session makes them (20,000 ids take a few milliseconds: the session runs ahead of
-- the clock and takes spare lanes), exact in JavaScript (below 2^53), and its high
-- bits are the millisecond of now (test/t/106 tests several sessions and restarts)
CREATE TEMP TABLE ids AS SELECT lowcode.new_id() AS id, n FROM generate_series(1, 20000) n;
SELECT count(DISTINCT id) AS distinct_ids, bool_and(id < 2::bigint ^ 53) AS javascript_safe,
       bool_and(abs((id >> 12) - (extract(epoch FROM clock_timestamp() - '2000-01-01 UTC'::timestamptz) * 1000)::bigint) < 600000)
         AS millisecond_of_now
  FROM ids;
SELECT bool_and(id > prev) AS increasing
  FROM (SELECT id, lag(id, 1, 0::bigint) OVER (ORDER BY n) AS prev FROM ids) s;
DROP TABLE ids;
