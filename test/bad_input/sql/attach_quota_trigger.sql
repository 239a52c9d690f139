-- Bad input for lowcode.attach_quota_trigger(tbl regclass): puts the row and storage quota triggers on a
-- tenant table (docs/quotas.md).  A table that is not a tenant table, NULL or an oid naming no relation
-- must be refused with a clear error; regclass input rejects unknown names (42P01).
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TABLE bi_aqt_plain (id int);
CREATE VIEW bi_aqt_view AS SELECT 1 AS x;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.attach_quota_trigger(NULL)::text$$),
  ($$SELECT lowcode.attach_quota_trigger('')::text$$),
  ($$SELECT lowcode.attach_quota_trigger('bi_aqt_no_such_table')::text$$),
  ($$SELECT lowcode.attach_quota_trigger(repeat('t', 10000000))::text$$),
  ($$SELECT lowcode.attach_quota_trigger(0::oid::regclass)::text$$),
  ($$SELECT lowcode.attach_quota_trigger(42)::text$$),
  ($$SELECT lowcode.attach_quota_trigger('pg_class')::text$$),
  ($$SELECT lowcode.attach_quota_trigger('bi_aqt_view')::text$$),
  ($$SELECT lowcode.attach_quota_trigger('bi_aqt_plain')::text$$),
  ($$SELECT lowcode.attach_quota_trigger(convert_from('\xff'::bytea, 'UTF8')::regclass)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'bi_aqt_plain'::regclass;
DROP TABLE bi_aqt_plain;
DROP VIEW bi_aqt_view;
