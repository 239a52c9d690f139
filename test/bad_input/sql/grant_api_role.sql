-- Bad input for lowcode.grant_api_role(role name).
-- Documented (docs/errors.md): LT006 no such role, LT007 a SUPERUSER or BYPASSRLS role.
-- A name longer than 63 bytes is truncated by PostgreSQL's name type (then no such role).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE ROLE bi_gar_bypass BYPASSRLS;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.grant_api_role(NULL)$$),
  ($$SELECT lowcode.grant_api_role('')$$),
  ($$SELECT lowcode.grant_api_role('bi_gar_no_such_role')$$),
  ($$SELECT lowcode.grant_api_role(repeat('r', 10000000))$$),
  ($$SELECT lowcode.grant_api_role('bi_gar_bypass')$$),
  ($$SELECT lowcode.grant_api_role(42)$$),
  ($$SELECT lowcode.grant_api_role('bi' || chr(0))$$),
  ($$SELECT lowcode.grant_api_role(convert_from('\xff'::bytea, 'UTF8'))$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS grants_to_bypass_role FROM lowcode.api_roles r WHERE r.role_name::text = 'bi_gar_bypass';
DROP ROLE bi_gar_bypass;
