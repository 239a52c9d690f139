-- Bad input for lowcode.revoke_sessions(tenant uuid, principal text, reason text): all sessions of one
-- principal.  Documented (docs/errors.md): LS001 NULL tenant or principal, LT004 unknown tenant.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-rvs') IS NOT NULL AS created;
SELECT count(*) AS sessions FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), 'ann');
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.revoke_sessions(NULL, 'ann')::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), NULL)::text$$),
  ($$SELECT lowcode.revoke_sessions(NULL, NULL, NULL)::text$$),
  ($$SELECT lowcode.revoke_sessions('', 'ann')::text$$),
  ($$SELECT lowcode.revoke_sessions('00000000-0000-0000-0000-000000000000', 'ann')::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), '')::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), repeat('p', 10000000))::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), 'nobody', repeat('r', 10000000))::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), 'ann' || chr(0))::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.revoke_sessions((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs'), 42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS still_active FROM lowcode.sessions WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs') AND revoked_at IS NULL;
DELETE FROM lowcode.sessions WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rvs');
DELETE FROM lowcode.tenants WHERE slug = 'bi-rvs';
