-- Bad input for lowcode.reset_tenant_limit(tenant uuid, name text): back to the tier's value.
-- Documented (docs/errors.md): LT004 unknown tenant, LQ001 unknown limit name.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-rtl') IS NOT NULL AS created;
SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), 'max_rows', 10);
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.reset_tenant_limit(NULL, 'max_rows')::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), NULL)::text$$),
  ($$SELECT lowcode.reset_tenant_limit(NULL, NULL)::text$$),
  ($$SELECT lowcode.reset_tenant_limit('00000000-0000-0000-0000-000000000000', 'max_rows')::text$$),
  ($$SELECT lowcode.reset_tenant_limit('', 'max_rows')::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), '')::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), 'no_such_limit')::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), repeat('n', 10000000))::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), 'max_rows' || chr(0))::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.reset_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl'), 42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS overrides_left FROM lowcode.tenant_limits WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl');
DELETE FROM lowcode.tenant_limits WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rtl');
DELETE FROM lowcode.tenants WHERE slug = 'bi-rtl';
