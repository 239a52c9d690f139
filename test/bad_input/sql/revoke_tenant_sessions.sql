-- Bad input for lowcode.revoke_tenant_sessions(tenant uuid, reason text): every session of a tenant.
-- Documented (docs/errors.md): LS001 NULL tenant, LT004 unknown tenant; uuid input 22P02.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-rvt') IS NOT NULL AS created;
SELECT count(*) AS sessions FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvt'), 'ann');
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.revoke_tenant_sessions(NULL)::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions(NULL, NULL)::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions('')::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions('00000000-0000-0000-0000-000000000000')::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions(repeat('a', 10000000)::uuid)::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions(42)::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions('00000000-0000-0000-0000-000000000000', repeat('r', 10000000))::text$$),
  ($$SELECT lowcode.revoke_tenant_sessions('00000000-0000-0000-0000-000000000000', convert_from('\xff'::bytea, 'UTF8'))::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS still_active FROM lowcode.sessions WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvt') AND revoked_at IS NULL;
DELETE FROM lowcode.sessions WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvt');
DELETE FROM lowcode.tenants WHERE slug = 'bi-rvt';
