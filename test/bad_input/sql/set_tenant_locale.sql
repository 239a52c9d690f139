-- Bad input for lowcode.set_tenant_locale(tenant uuid, locale text) (operators)
-- and lowcode.set_tenant_locale(locale text) (the tenant, in its request).
-- Documented (docs/errors.md): LT009 unsupported locale, LT004 unknown tenant,
-- LT401 (PGRST form) no tenant context, 42501 a tenant calling the operator form.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-stl') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_tenant_locale('00000000-0000-0000-0000-000000000000', 'de')$$),
  ($$SELECT lowcode.set_tenant_locale(NULL::uuid, 'de')$$),
  ($$SELECT lowcode.set_tenant_locale(NULL::uuid, NULL)$$),
  ($$SELECT lowcode.set_tenant_locale('', 'de')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), '')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'xx')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'it-IT')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'de;q=0.9')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'de,fr')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), ' de')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'de-')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'de-CH-1996-x-a-b-c-d-e-f')$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), repeat('d', 10000000))$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'de' || chr(0))$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), convert_from('\xff'::bytea, 'UTF8'))$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), '{"locale": "de"}'::jsonb)$$),
  ($$SELECT lowcode.set_tenant_locale((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 42)$$),
  -- the tenant's form without a tenant context
  ($$SELECT lowcode.set_tenant_locale('de')$$),
  ($$SELECT lowcode.set_tenant_locale(NULL::text)$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT settings FROM lowcode.tenants WHERE slug = 'bi-stl';
DELETE FROM lowcode.tenants WHERE slug = 'bi-stl';
