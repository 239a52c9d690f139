-- Bad input for lowcode.create_session(tenant, principal, attributes, idle_timeout, lifetime, ip, user_agent).
-- Documented (docs/errors.md): LS001 NULL tenant, principal not 1-256 characters, attributes not an
-- object, user agent over 1024 characters; LS002 unknown tenant; LS003 suspended; LS004 timeouts not
-- positive or over the tier's; PostgreSQL's own input errors for uuid, interval, inet, jsonb.
-- Attributes are any JSON object: a 10 MB value, 100,000 keys or 10,000 levels are stored as given.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-cs') IS NOT NULL AS created;
SELECT lowcode.create_tenant('bi-cs-suspended') IS NOT NULL AS created;
SELECT lowcode.suspend_tenant((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs-suspended'));
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*) FROM lowcode.create_session(NULL, 'ann')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), NULL)$$),
  ($$SELECT count(*) FROM lowcode.create_session(NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', NULL)$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), '')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), repeat('p', 257))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), repeat('p', 10000000))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '[]')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '"x"')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', 'null')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{"x": "\ud800"}')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{"x": "\u0000"}')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', '0 seconds')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', '-1 hour')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', '100 years')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', 'infinity')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, '0 seconds')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, '-infinity')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, '1000000 years')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', 'soon')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, NULL, '')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, NULL, '300.1.1.1')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, NULL, NULL, repeat('u', 1025))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}', NULL, NULL, NULL, repeat('u', 10000000))$$),
  ($$SELECT count(*) FROM lowcode.create_session('00000000-0000-0000-0000-000000000000', 'ann')$$),
  ($$SELECT count(*) FROM lowcode.create_session('', 'ann')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs-suspended'), 'ann')$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann' || chr(0))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), convert_from('\xff'::bytea, 'UTF8'))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 42)$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', '{}'::text)$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', jsonb_build_object('big', repeat('a', 10000000)))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', pg_temp.many_keys(100000))$$),
  ($$SELECT count(*) FROM lowcode.create_session((SELECT id FROM lowcode.tenants WHERE slug = 'bi-cs'), 'ann', jsonb_build_object('d', pg_temp.deep_array(10000)))$$)
) v(q);
DELETE FROM lowcode.sessions WHERE tenant_id IN (SELECT id FROM lowcode.tenants WHERE slug LIKE 'bi-cs%');
DELETE FROM lowcode.tenants WHERE slug LIKE 'bi-cs%';
