-- Bad input for lowcode.register_rule_function(name text, fn regprocedure): a SQL function callable from CEL.
-- Documented (docs/errors.md): LR030 name not a CEL identifier (or over 255 bytes), a NULL argument or an oid naming no function, LR031 refused
-- function (not IMMUTABLE, SECURITY DEFINER, not plain), LR032 unmapped type; a regprocedure
-- naming no function is rejected by its input (42883 / 42601 / 42704).
-- A registered name may shadow a built-in function name (size): accepted.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
CREATE FUNCTION bi_rrf_ok(a bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE FUNCTION bi_rrf_volatile(a bigint) RETURNS bigint LANGUAGE sql AS 'SELECT a';
CREATE FUNCTION bi_rrf_definer(a bigint) RETURNS bigint LANGUAGE sql IMMUTABLE SECURITY DEFINER AS 'SELECT a';
CREATE FUNCTION bi_rrf_set(a bigint) RETURNS SETOF bigint LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE FUNCTION bi_rrf_point(a point) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_rule_function(NULL, 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', NULL)::text$$),
  ($$SELECT lowcode.register_rule_function(NULL, NULL)::text$$),
  ($$SELECT lowcode.register_rule_function('', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('1bad', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi..ok', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi ok', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.é', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function(repeat('a', 10000000), 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function(repeat('a.', 100000) || 'a', 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'bi_rrf_volatile(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'bi_rrf_definer(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'bi_rrf_set(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'bi_rrf_point(point)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'bi_rrf_no_such(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', '')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 0::oid::regprocedure)::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 42::oid::regprocedure)::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok', 'count("any")')::text$$),
  ($$SELECT lowcode.register_rule_function('bi.ok' || chr(0), 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function(convert_from('\xff'::bytea, 'UTF8'), 'bi_rrf_ok(bigint)')::text$$),
  ($$SELECT lowcode.register_rule_function(42, 'bi_rrf_ok(bigint)')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_rule_function('size', 'bi_rrf_ok(bigint)')::text$$)
) v(q);
SELECT count(*) AS accepted_rule_functions FROM lowcode.rule_functions WHERE name LIKE 'bi.%' OR name = 'size';
DROP FUNCTION bi_rrf_ok(bigint), bi_rrf_volatile(bigint), bi_rrf_definer(bigint), bi_rrf_set(bigint), bi_rrf_point(point);
