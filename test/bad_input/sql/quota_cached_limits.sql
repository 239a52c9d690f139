-- Bad input for lowcode.quota_cached_limits(tenant uuid): the limits this backend has cached.
-- A tenant that is not cached (unknown, or NULL) answers a row of NULLs (docs/quotas.md).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-qcl') IS NOT NULL AS created;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT row(q.*)::text FROM lowcode.quota_cached_limits(NULL) q$$),
  ($$SELECT row(q.*)::text FROM lowcode.quota_cached_limits('00000000-0000-0000-0000-000000000000') q$$),
  ($$SELECT row(q.*)::text FROM lowcode.quota_cached_limits('') q$$),
  ($$SELECT row(q.*)::text FROM lowcode.quota_cached_limits(42) q$$),
  ($$SELECT row(q.*)::text FROM lowcode.quota_cached_limits((SELECT id FROM lowcode.tenants WHERE slug = 'bi-qcl')) q$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
DELETE FROM lowcode.tenants WHERE slug = 'bi-qcl';
