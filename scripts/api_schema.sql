-- The API schema PostgREST exposes (db-schemas = "api"): exactly the pg_lowcode
-- endpoints a tenant user may call, beside the deployment's own tenant tables
-- (create those in schema api too, with lowcode.make_tenant_table).
--
-- Run it as the database owner (or a superuser) after CREATE EXTENSION
-- pg_lowcode and after the API roles exist; it is idempotent (run it again
-- after ALTER EXTENSION pg_lowcode UPDATE):
--   psql -v api_roles=authenticated -f scripts/api_schema.sql
-- Used by scripts/demo.sh, the HTTP tests (test/t/32x_postgrest_*.pl) and
-- bench/postgrest_http.sh; see docs/postgrest.md.
--
-- Why a schema of its own: PostgREST serves every table, view and function of
-- the schemas in db-schemas. Exposing "lowcode" itself would put the operator
-- functions, the internal tables and the helpers on the API (refused by
-- privileges, but listed and callable names); "api" holds only what a tenant
-- calls.
--
-- Views are security_invoker: the caller's row level security applies, never
-- the view owner's. Functions are SECURITY INVOKER wrappers with the
-- signature, argument names and volatility of the pg_lowcode function they
-- call: PostgREST allows GET for STABLE/IMMUTABLE ones (and runs them READ
-- ONLY) and POST only for VOLATILE ones.
\set ON_ERROR_STOP on
\if :{?api_roles}
\else
\set api_roles authenticated
\endif

CREATE SCHEMA IF NOT EXISTS api;
REVOKE ALL ON SCHEMA api FROM PUBLIC;

-- Objects whose column or result types changed since an earlier run of this
-- script (CREATE OR REPLACE cannot change them; the grants are given again below).
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('api.forms') AND attname = 'schema'
                                          AND atttypid = 'jsonb'::regtype) THEN
    DROP VIEW api.forms;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('api.form_versions') AND attname = 'schema'
                                          AND atttypid = 'jsonb'::regtype) THEN
    DROP VIEW api.form_versions;
  END IF;
END $$;
DROP FUNCTION IF EXISTS api.register_schema(text, jsonb, text);
DO $$ BEGIN
  IF (SELECT prorettype FROM pg_proc WHERE oid = to_regprocedure('api.get_schema(text, integer)')) = 'jsonb'::regtype THEN
    DROP FUNCTION api.get_schema(text, integer);
  END IF;
END $$;

-- Registry: forms, versions, submissions, history.
-- Every schema a front end reads or writes here keeps its author's key order,
-- the order a form shows its fields (issue 15): "schema" in the views is json,
-- the text as registered (schema_json, kept for clients of 0.3.0's first
-- views), get_schema returns json, and register_schema takes json (it is
-- lowcode.register_form, which keeps the text); jsonb would sort the keys.
CREATE OR REPLACE VIEW api.forms WITH (security_invoker = true) AS
  SELECT subject, global, latest_version, description, schema_json AS schema, updated_at, versions, compatibility,
         created_at, schema_json
    FROM lowcode.forms;
CREATE OR REPLACE VIEW api.form_versions WITH (security_invoker = true) AS
  SELECT subject, global, version, state, description, fingerprint, schema_json AS schema, created_at, created_by,
         schema_json
    FROM lowcode.form_versions;
CREATE OR REPLACE VIEW api.submissions WITH (security_invoker = true) AS SELECT * FROM lowcode.submissions;
CREATE OR REPLACE VIEW api.registry_audit WITH (security_invoker = true) AS SELECT * FROM lowcode.registry_audit;
CREATE OR REPLACE VIEW api.events WITH (security_invoker = true) AS SELECT * FROM lowcode.events;
-- The tenant's own row, limits and usage.
CREATE OR REPLACE VIEW api.tenant WITH (security_invoker = true) AS SELECT * FROM lowcode.tenants;
CREATE OR REPLACE VIEW api.tenant_limits WITH (security_invoker = true) AS SELECT * FROM lowcode.tenant_limits;
CREATE OR REPLACE VIEW api.tenant_usage WITH (security_invoker = true) AS SELECT * FROM lowcode.tenant_usage;

CREATE OR REPLACE FUNCTION api.get_schema(subject text, version integer DEFAULT NULL) RETURNS json
LANGUAGE sql STABLE AS $$ SELECT lowcode.get_form(subject, version) $$;
-- get_form / register_form: the same as get_schema / register_schema (the names of 0.3.0's first API).
CREATE OR REPLACE FUNCTION api.get_form(subject text, version integer DEFAULT NULL) RETURNS json
LANGUAGE sql STABLE AS $$ SELECT lowcode.get_form(subject, version) $$;
CREATE OR REPLACE FUNCTION api.register_form(subject text, schema json, description text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.register_form(subject, schema, description) $$;
CREATE OR REPLACE FUNCTION api.validate(subject text, instance jsonb, version integer DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT lowcode.validate(subject, instance, version) $$;
CREATE OR REPLACE FUNCTION api.check_compatibility(subject text, schema jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT lowcode.check_compatibility(subject, schema) $$;
CREATE OR REPLACE FUNCTION api.submit(subject text, data jsonb, version integer DEFAULT NULL) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.submit(subject, data, version) $$;
CREATE OR REPLACE FUNCTION api.register_schema(subject text, schema json, description text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.register_form(subject, schema, description) $$;
CREATE OR REPLACE FUNCTION api.set_compatibility(subject text, mode text) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.set_compatibility(subject, mode) $$;
CREATE OR REPLACE FUNCTION api.deprecate_schema(subject text, version integer) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.deprecate_schema(subject, version) $$;
CREATE OR REPLACE FUNCTION api.set_schema_state(subject text, version integer, state text) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.set_schema_state(subject, version, state) $$;
CREATE OR REPLACE FUNCTION api.delete_schema(subject text, version integer, permanent boolean DEFAULT false) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.delete_schema(subject, version, permanent) $$;
-- Rules (pure): try an expression against data.
CREATE OR REPLACE FUNCTION api.rule_test(expr text, data jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT lowcode.rule_test(expr, data) $$;
CREATE OR REPLACE FUNCTION api.rule_check(expr text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT lowcode.rule_check(expr) $$;
-- Sessions: the caller's own.
CREATE OR REPLACE FUNCTION api.session_info()
RETURNS TABLE (session_id uuid, tenant_id uuid, principal text, created_at timestamptz, last_seen_at timestamptz,
               expires_at timestamptz, absolute_expires_at timestamptz, attributes jsonb)
LANGUAGE sql STABLE AS $$ SELECT * FROM lowcode.session_info() $$;
CREATE OR REPLACE FUNCTION api.end_session() RETURNS boolean
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.end_session() $$;
CREATE OR REPLACE FUNCTION api.current_tenant() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT lowcode.current_tenant() $$;
-- The tenant's default language of messages (when a request has no supported Accept-Language).
CREATE OR REPLACE FUNCTION api.set_tenant_locale(locale text) RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT lowcode.set_tenant_locale(locale) $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
SELECT format('GRANT USAGE ON SCHEMA api TO %1$s;
  GRANT SELECT ON api.forms, api.form_versions, api.registry_audit, api.events, api.tenant,
                  api.tenant_limits, api.tenant_usage TO %1$s;
  GRANT SELECT, INSERT, UPDATE, DELETE ON api.submissions TO %1$s;
  GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO %1$s;', :'api_roles') \gexec
-- Requests without a JWT run as the anon role: it sees the schema (so that
-- the hook, not a missing privilege, answers) and nothing in it.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN GRANT USAGE ON SCHEMA api TO anon; END IF;
END $$;
NOTIFY pgrst, 'reload schema';
