-- Bad input for lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid).
-- Documented (docs/errors.md): LT005 not a suitable table (not a table, a partition, a system or
-- extension table, tenant_id not uuid, rows without a tenant), LT004 unknown tenant for existing rows,
-- LT011 an open permissive policy (on the table or a partition).
-- A name that is not a relation is rejected by regclass input (42P01) before the function runs.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE TABLE bi_mtt_rows (id int);
INSERT INTO bi_mtt_rows VALUES (1);
CREATE TABLE bi_mtt_textid (tenant_id text, v int);
CREATE VIEW bi_mtt_view AS SELECT 1 AS x;
CREATE TABLE bi_mtt_ok (id int);
CREATE TABLE bi_mtt_open (id int);
CREATE POLICY bi_open ON bi_mtt_open USING (true);
CREATE TABLE bi_mtt_parted (k int) PARTITION BY RANGE (k);
CREATE TABLE bi_mtt_part1 PARTITION OF bi_mtt_parted FOR VALUES FROM (0) TO (10);
CREATE POLICY bi_open_part ON bi_mtt_part1 FOR SELECT USING (k >= 0);
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.make_tenant_table(NULL)$$),
  ($$SELECT lowcode.make_tenant_table(NULL, NULL)$$),
  ($$SELECT lowcode.make_tenant_table('')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_no_such_table')$$),
  ($$SELECT lowcode.make_tenant_table(repeat('t', 10000000))$$),
  ($$SELECT lowcode.make_tenant_table(0::oid::regclass)$$),
  ($$SELECT lowcode.make_tenant_table(4294967295::oid::regclass)$$),
  ($$SELECT lowcode.make_tenant_table(42)$$),
  ($$SELECT lowcode.make_tenant_table('pg_class')$$),
  ($$SELECT lowcode.make_tenant_table('lowcode.tenants')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_view')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_textid')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_rows')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_rows', '00000000-0000-0000-0000-000000000000')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_ok', '')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_open')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_parted')$$),
  ($$SELECT lowcode.make_tenant_table('bi_mtt_part1')$$),
  ($$SELECT lowcode.make_tenant_table(convert_from('\xff'::bytea, 'UTF8')::regclass)$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
SELECT count(*) AS tenant_id_columns FROM pg_attribute WHERE attrelid IN ('bi_mtt_rows'::regclass, 'bi_mtt_ok'::regclass, 'bi_mtt_open'::regclass, 'bi_mtt_parted'::regclass) AND attname = 'tenant_id';
SELECT count(*) AS rls_enabled FROM pg_class WHERE oid IN ('bi_mtt_open'::regclass, 'bi_mtt_parted'::regclass, 'bi_mtt_part1'::regclass) AND relrowsecurity;
DROP TABLE bi_mtt_rows, bi_mtt_textid, bi_mtt_ok, bi_mtt_open, bi_mtt_parted;
DROP VIEW bi_mtt_view;
