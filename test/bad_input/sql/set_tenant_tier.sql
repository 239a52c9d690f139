-- Bad input for lowcode.set_tenant_tier(tenant uuid, tier text).
-- Documented (docs/errors.md): LT004 unknown tenant, LT002 unknown tier.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-stt') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_tenant_tier('00000000-0000-0000-0000-000000000000', 'pro')$$),
  ($$SELECT lowcode.set_tenant_tier(NULL, 'pro')$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), NULL)$$),
  ($$SELECT lowcode.set_tenant_tier(NULL, NULL)$$),
  ($$SELECT lowcode.set_tenant_tier('', 'pro')$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), '')$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), 'PRO')$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), repeat('t', 10000000))$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), 42)$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), '{"tier": "pro"}'::jsonb)$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), 'pro' || chr(0))$$),
  ($$SELECT lowcode.set_tenant_tier((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stt'), convert_from('\xff'::bytea, 'UTF8'))$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT tier FROM lowcode.tenants WHERE slug = 'bi-stt';
DELETE FROM lowcode.tenants WHERE slug = 'bi-stt';
