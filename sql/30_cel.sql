-- pg_lowcode install script, part 30: CEL (Common Expression Language) rules.
--
-- rule_eval / rule_test / rule_check are IMMUTABLE: a CEL expression has no
-- clock ("now" is not a CEL function; pass the time in the data, e.g.
-- rule_test('deadline > now', jsonb_build_object('now', now()))), no
-- randomness and no table access.  The one exception is a function added
-- with register_rule_function: it must be IMMUTABLE itself, and registrations
-- are meant to be add-only -- changing or removing a registered function that
-- an index or CHECK constraint relies on is like changing an IMMUTABLE SQL
-- function those rely on, and needs a REINDEX / re-validation.

CREATE FUNCTION lowcode.rule_eval(expr text, data jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'rule_eval'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.rule_eval(text, jsonb) IS
  'Evaluate a CEL expression; the top-level keys of data are its variables. Returns the result as jsonb.';

CREATE FUNCTION lowcode.rule_test(expr text, data jsonb DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'rule_test'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.rule_test(text, jsonb) IS
  'Evaluate a boolean CEL expression (for CHECK constraints, policies, triggers); any other result is an error.';

CREATE FUNCTION lowcode.rule_check(expr text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'rule_check'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.rule_check(text) IS
  'Parse a CEL expression without data: {"valid", "errors": [{"message", "position", "line", "column"}], "variables"}.';

-- For the conformance runner (test/t/*_cel_conformance.pl): evaluates with
-- bindings written as cel.expr.Value proto3 JSON and never raises for a CEL
-- error, so that one query runs a whole test file.
-- The expression is bytea because some tests put NUL bytes in literals.
CREATE FUNCTION lowcode.cel_conformance_eval(expr bytea, bindings jsonb DEFAULT NULL,
                                             container text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'cel_conformance_eval'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.cel_conformance_eval(bytea, jsonb, text) IS
  'Test support: evaluate CEL with cel.expr.Value JSON bindings (and a container for name resolution); returns {"value"} or {"error","sqlstate"} or {"parse_error"}.';

-- SQL functions callable from CEL, by name.  Only the operator registers.
CREATE TABLE lowcode.rule_functions (
  name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$'),
  fn            regprocedure NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE lowcode.rule_functions IS
  'SQL functions callable from CEL expressions (register_rule_function).';
SELECT pg_catalog.pg_extension_config_dump('lowcode.rule_functions', '');
REVOKE ALL ON lowcode.rule_functions FROM PUBLIC;
GRANT SELECT ON lowcode.rule_functions TO PUBLIC;

CREATE FUNCTION lowcode._rule_functions_changed()
RETURNS void
AS 'MODULE_PATHNAME', 'rule_functions_changed'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode._rule_functions_changed() FROM PUBLIC;

CREATE FUNCTION lowcode.register_rule_function(name text, fn regprocedure)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, lowcode, pg_temp
AS $$
DECLARE
  p pg_catalog.pg_proc;
  t oid;
BEGIN
  IF NOT (pg_has_role(session_user, 'lowcode_operator', 'MEMBER')
          OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)) THEN
    RAISE EXCEPTION 'only the operator may register rule functions'
      USING ERRCODE = '42501', HINT = 'Ask a member of lowcode_operator.';
  END IF;
  IF name IS NULL OR fn IS NULL THEN
    RAISE EXCEPTION 'register_rule_function: name and fn are required' USING ERRCODE = 'LR030';
  END IF;
  IF octet_length(name) > 255 THEN
    -- a longer name would fail in the primary key's index with an internal-looking 54000
    RAISE EXCEPTION 'register_rule_function: the name is longer than 255 bytes' USING ERRCODE = 'LR030';
  END IF;
  IF name !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$' THEN
    RAISE EXCEPTION 'register_rule_function: "%" is not a valid CEL function name', name
      USING ERRCODE = 'LR030';
  END IF;
  SELECT * INTO p FROM pg_proc WHERE oid = fn;
  IF NOT FOUND THEN
    -- a regprocedure made from a number (0 among them) need not name a function
    RAISE EXCEPTION 'register_rule_function: no function with oid %', fn::oid USING ERRCODE = 'LR030';
  END IF;
  IF p.provolatile <> 'i' THEN
    RAISE EXCEPTION 'register_rule_function: % is not IMMUTABLE', fn
      USING ERRCODE = 'LR031', HINT = 'Rules are IMMUTABLE; only IMMUTABLE functions can be called from them.';
  END IF;
  IF p.prosecdef THEN
    RAISE EXCEPTION 'register_rule_function: % is SECURITY DEFINER', fn
      USING ERRCODE = 'LR031', HINT = 'A rule must not run with another role''s privileges.';
  END IF;
  IF p.prokind <> 'f' OR p.proretset THEN
    RAISE EXCEPTION 'register_rule_function: % must be a plain function returning one value', fn
      USING ERRCODE = 'LR031';
  END IF;
  FOREACH t IN ARRAY p.proargtypes::oid[] || p.prorettype LOOP
    IF t NOT IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                 'float8'::regtype, 'numeric'::regtype, 'text'::regtype, 'varchar'::regtype,
                 'bool'::regtype, 'bytea'::regtype, 'timestamptz'::regtype, 'jsonb'::regtype) THEN
      RAISE EXCEPTION 'register_rule_function: type % of % has no CEL mapping', t::regtype, fn
        USING ERRCODE = 'LR032',
              HINT = 'Supported: int2/int4/int8, float4/float8/numeric, text/varchar, bool, bytea, timestamptz, jsonb.';
    END IF;
  END LOOP;
  INSERT INTO lowcode.rule_functions AS r (name, fn) VALUES (name, fn)
    ON CONFLICT ON CONSTRAINT rule_functions_pkey
    DO UPDATE SET fn = EXCLUDED.fn, registered_at = now(), registered_by = current_user;
  PERFORM lowcode._rule_functions_changed();
END
$$;
COMMENT ON FUNCTION lowcode.register_rule_function(text, regprocedure) IS
  'Operator only: make an IMMUTABLE, non-SECURITY DEFINER SQL function callable from CEL as name(args).';
REVOKE ALL ON FUNCTION lowcode.register_rule_function(text, regprocedure) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.register_rule_function(text, regprocedure) TO lowcode_operator;

-- What an API role (a tenant user through PostgREST) needs: the rule functions,
-- and reading the registered functions, which evaluation looks up by name.
INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.rule_eval(text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.rule_test(text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.rule_check(text)', 'EXECUTE'),
  ('TABLE',    'lowcode.rule_functions', 'SELECT');
