-- Bad input for lowcode.revoke_session(session_id uuid, reason text).
-- Documented (docs/errors.md): LS001 NULL session id, LS006 unknown session; uuid input 22P02.
-- The reason is free text, any length: a 10 MB one is stored (that revocation runs after the check).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-rv') IS NOT NULL AS created;
SELECT set_config('bi.sid', (SELECT session_id::text FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-rv'), 'ann')), false) IS NOT NULL AS session;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.revoke_session(NULL)::text$$),
  ($$SELECT lowcode.revoke_session(NULL, NULL)::text$$),
  ($$SELECT lowcode.revoke_session('')::text$$),
  ($$SELECT lowcode.revoke_session('not-a-uuid')::text$$),
  ($$SELECT lowcode.revoke_session(repeat('a', 10000000)::uuid)::text$$),
  ($$SELECT lowcode.revoke_session('00000000-0000-0000-0000-000000000000')::text$$),
  ($$SELECT lowcode.revoke_session(42)::text$$),
  ($$SELECT lowcode.revoke_session(current_setting('bi.sid')::uuid, 'r' || chr(0))::text$$),
  ($$SELECT lowcode.revoke_session(current_setting('bi.sid')::uuid, convert_from('\xff'::bytea, 'UTF8'))::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.revoke_session(current_setting('bi.sid')::uuid, repeat('r', 10000000))::text$$)
) v(q);
SELECT count(*) AS revoked FROM lowcode.sessions WHERE id = current_setting('bi.sid')::uuid AND revoked_at IS NOT NULL;
DELETE FROM lowcode.sessions WHERE tenant_id = (SELECT id FROM lowcode.tenants WHERE slug = 'bi-rv');
DELETE FROM lowcode.tenants WHERE slug = 'bi-rv';
