-- Bad input for lowcode.set_tenant_limit(tenant uuid, name text, value bigint).
-- Documented (docs/errors.md): LT004 unknown tenant, LQ001 unknown limit name, LQ002 value out of range
-- or NULL for a limit that cannot be unlimited; bigint input 22P02 / 22003.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-stl') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_tenant_limit(NULL, 'max_rows', 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), NULL, 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'requests_per_second', NULL)::text$$),
  ($$SELECT lowcode.set_tenant_limit(NULL, NULL, NULL)::text$$),
  ($$SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000000', 'max_rows', 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit('', 'max_rows', 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), '', 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'MAX_ROWS', 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), repeat('n', 10000000), 10)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', -1)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'requests_per_second', 0)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', 9223372036854775807)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', 9223372036854775808)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'statement_timeout_ms', 9223372036854775807)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'work_mem_kb', 9223372036854775807)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', 'ten')::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', '')::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', 1.5)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows', '{"v": 1}'::jsonb)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), 'max_rows' || chr(0), 1)::text$$),
  ($$SELECT lowcode.set_tenant_limit((SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl'), convert_from('\xff'::bytea, 'UTF8'), 1)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS overrides FROM lowcode.tenant_limits WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl');
DELETE FROM lowcode.tenant_limits WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-stl');
DELETE FROM lowcode.tenants WHERE slug = 'bi-stl';
