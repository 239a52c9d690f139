-- Bad input for lowcode.suspend_tenant(tenant uuid).
-- Documented (docs/errors.md): LT004 unknown tenant; a value that is not a uuid is
-- rejected by PostgreSQL's uuid input (22P02) before the function runs.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-suspend-tenant') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.suspend_tenant(NULL)$$),
  ($$SELECT lowcode.suspend_tenant('')$$),
  ($$SELECT lowcode.suspend_tenant('not-a-uuid')$$),
  ($$SELECT lowcode.suspend_tenant(repeat('a', 10000000)::uuid)$$),
  ($$SELECT lowcode.suspend_tenant(42)$$),
  ($$SELECT lowcode.suspend_tenant('00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT lowcode.suspend_tenant(convert_from('\xff'::bytea, 'UTF8')::uuid)$$),
  ($$SELECT lowcode.suspend_tenant((SELECT id FROM lowcode.tenants WHERE slug = 'bi-suspend-tenant'))$$),
  ($$SELECT lowcode.suspend_tenant((SELECT id FROM lowcode.tenants WHERE slug = 'bi-suspend-tenant'))$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
DELETE FROM lowcode.tenants WHERE slug = 'bi-suspend-tenant';
