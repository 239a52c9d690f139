-- register_rule_function: SQL functions callable from CEL (operator only,
-- IMMUTABLE and not SECURITY DEFINER), with arguments and results mapped
-- between CEL and SQL types.

CREATE FUNCTION public.vat(amount numeric, rate float8) RETURNS numeric
  LANGUAGE sql IMMUTABLE AS 'SELECT round(amount * rate::numeric, 2)';
CREATE FUNCTION public.initials(name text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$SELECT string_agg(left(w, 1), '') FROM regexp_split_to_table(name, '\s+') w$$;
CREATE FUNCTION public.add_days(t timestamptz, n int4) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$SELECT t + n * interval '1 day'$$;
CREATE FUNCTION public.tags(doc jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$SELECT coalesce(doc->'tags', '[]')$$;
CREATE FUNCTION public.rand_pick(n int8) RETURNS int8
  LANGUAGE sql VOLATILE AS 'SELECT n';
CREATE FUNCTION public.secret(n int8) RETURNS int8
  LANGUAGE sql IMMUTABLE SECURITY DEFINER AS 'SELECT n';
CREATE FUNCTION public.pointy(p point) RETURNS int8
  LANGUAGE sql IMMUTABLE AS 'SELECT 1';

SELECT lowcode.register_rule_function('vat', 'public.vat(numeric, float8)');
SELECT lowcode.register_rule_function('initials', 'public.initials(text)');
SELECT lowcode.register_rule_function('dates.addDays', 'public.add_days(timestamptz, int4)');
SELECT lowcode.register_rule_function('tags', 'public.tags(jsonb)');
SELECT name, fn FROM lowcode.rule_functions ORDER BY name;

SELECT lowcode.rule_eval('vat(amount, 0.2)', '{"amount": 19.99}');
SELECT lowcode.rule_eval('initials(name)', '{"name": "Ada King Lovelace"}');
SELECT lowcode.rule_eval('dates.addDays(timestamp("2024-02-28T10:00:00Z"), 2)');
SELECT lowcode.rule_eval('"b" in tags(doc)', '{"doc": {"tags": ["a", "b"]}}');
SELECT lowcode.rule_eval('initials(null)');
-- a CEL value the SQL type does not take: no matching overload
SELECT lowcode.rule_eval('initials(42)');
-- rule_check knows the registered functions
SELECT lowcode.rule_check('vat(amount, 0.2) > 1 && dates.addDays(t, 1) > t && nope(1)');
-- unknown function names stay unbound
SELECT lowcode.rule_eval('nope(1)');

-- refused: not IMMUTABLE, SECURITY DEFINER, unmapped types, bad names
SELECT lowcode.register_rule_function('rand', 'public.rand_pick(int8)');
SELECT lowcode.register_rule_function('secret', 'public.secret(int8)');
SELECT lowcode.register_rule_function('pointy', 'public.pointy(point)');
SELECT lowcode.register_rule_function('no such', 'public.vat(numeric, float8)');

-- only the operator registers
CREATE ROLE cel_tenant_user;
SET ROLE cel_tenant_user;
SELECT lowcode.register_rule_function('x', 'public.vat(numeric, float8)');
-- a rule calls a registered function with the caller's rights: EXECUTE is needed
RESET ROLE;
REVOKE EXECUTE ON FUNCTION public.initials(text) FROM PUBLIC;
SET ROLE cel_tenant_user;
SELECT lowcode.rule_eval('vat(10, 0.5)');
SELECT lowcode.rule_eval('initials("Grace Hopper")');
RESET ROLE;
DROP ROLE cel_tenant_user;

-- re-registering replaces the function; caches follow
CREATE FUNCTION public.vat2(amount numeric, rate float8) RETURNS numeric
  LANGUAGE sql IMMUTABLE AS 'SELECT round(amount * rate::numeric * 2, 2)';
SELECT lowcode.rule_eval('vat(amount, 0.2)', '{"amount": 10}');
SELECT lowcode.register_rule_function('vat', 'public.vat2(numeric, float8)');
SELECT lowcode.rule_eval('vat(amount, 0.2)', '{"amount": 10}');

-- a registered function that evaluates rules itself, with a one-entry cache:
-- the outer rule's compiled program must survive the nested compilations
CREATE FUNCTION public.twice(x int8) RETURNS int8 LANGUAGE sql IMMUTABLE
  AS $$SELECT (lowcode.rule_eval('x * 2 + 0 * ' || x, jsonb_build_object('x', x)))::text::int8$$;
SELECT lowcode.register_rule_function('twice', 'public.twice(int8)');
SET lowcode.rules_cache_size = 1;
SELECT lowcode.rule_eval('twice(3) + twice(4) + [5, 6].map(i, twice(i)).size()');
RESET lowcode.rules_cache_size;

DELETE FROM lowcode.rule_functions;
DROP FUNCTION public.vat, public.vat2, public.initials, public.add_days, public.tags,
  public.rand_pick, public.secret, public.pointy, public.twice;
