-- Bad input for lowcode.create_tenant(slug text, name text, tier text).
-- Documented (docs/errors.md): LT001 slug or name malformed, LT002 unknown tier,
-- LT003 duplicate slug; NULL slug is LT001, NULL name means "use the slug".
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-ct-exists') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- BEGIN bad input
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.create_tenant(NULL)$$),
  ($$SELECT lowcode.create_tenant(NULL, NULL, NULL)$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', 'X', NULL)$$),
  ($$SELECT lowcode.create_tenant('')$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', '')$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', 'X', '')$$),
  ($$SELECT lowcode.create_tenant('BI-CT-UPPER')$$),
  ($$SELECT lowcode.create_tenant('-bi-ct')$$),
  ($$SELECT lowcode.create_tenant('bi ct')$$),
  ($$SELECT lowcode.create_tenant('bi-ct-é')$$),
  ($$SELECT lowcode.create_tenant(repeat('a', 64))$$),
  ($$SELECT lowcode.create_tenant(repeat('a', 10000000))$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', repeat('n', 10000000))$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', 'X', repeat('t', 10000000))$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', 'X', 'no-such-tier')$$),
  ($$SELECT lowcode.create_tenant('bi-ct-exists')$$),
  ($$SELECT lowcode.create_tenant(42)$$),
  ($$SELECT lowcode.create_tenant('{"slug": "x"}'::jsonb)$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x' || chr(0))$$),
  ($$SELECT lowcode.create_tenant(convert_from('\xff'::bytea, 'UTF8'))$$),
  ($$SELECT lowcode.create_tenant('bi-ct-x', E'\xff')$$)
) v(q);
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS stray_tenants FROM lowcode.tenants WHERE slug LIKE 'bi-ct-%' AND slug <> 'bi-ct-exists';
DELETE FROM lowcode.tenants WHERE slug = 'bi-ct-exists';
