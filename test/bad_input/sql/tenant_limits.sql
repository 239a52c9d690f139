-- Bad input for lowcode.tenant_limits(tenant uuid): the effective limits of a tenant.
-- Documented (docs/errors.md): LT004 no such tenant (or, for a tenant, not its own).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-tl') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*) FROM lowcode.tenant_limits(NULL)$$),
  ($$SELECT count(*) FROM lowcode.tenant_limits('00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT count(*) FROM lowcode.tenant_limits('')$$),
  ($$SELECT count(*) FROM lowcode.tenant_limits(repeat('a', 10000000)::uuid)$$),
  ($$SELECT count(*) FROM lowcode.tenant_limits(42)$$),
  ($$SELECT count(*) FROM lowcode.tenant_limits((SELECT id FROM lowcode.tenants WHERE slug = 'bi-tl'))$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
DELETE FROM lowcode.tenants WHERE slug = 'bi-tl';
