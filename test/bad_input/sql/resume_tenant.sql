-- Bad input for lowcode.resume_tenant(tenant uuid).
-- Documented (docs/errors.md): LT004 unknown tenant; a value that is not a uuid is
-- rejected by PostgreSQL's uuid input (22P02) before the function runs.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-resume-tenant') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.resume_tenant(NULL)$$),
  ($$SELECT lowcode.resume_tenant('')$$),
  ($$SELECT lowcode.resume_tenant('not-a-uuid')$$),
  ($$SELECT lowcode.resume_tenant(repeat('a', 10000000)::uuid)$$),
  ($$SELECT lowcode.resume_tenant(42)$$),
  ($$SELECT lowcode.resume_tenant('00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT lowcode.resume_tenant(convert_from('\xff'::bytea, 'UTF8')::uuid)$$),
  ($$SELECT lowcode.resume_tenant((SELECT id FROM lowcode.tenants WHERE slug = 'bi-resume-tenant'))$$),
  ($$SELECT lowcode.resume_tenant((SELECT id FROM lowcode.tenants WHERE slug = 'bi-resume-tenant'))$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
DELETE FROM lowcode.tenants WHERE slug = 'bi-resume-tenant';
