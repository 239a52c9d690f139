-- pg_lowcode install script, part 00: core objects shared by every component.
-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_lowcode" to load this file. \quit

-- The schema is created here, not by the control file, so that it is a
-- member of the extension and DROP EXTENSION removes it (as pg_cron does).
CREATE SCHEMA lowcode;
COMMENT ON SCHEMA lowcode IS 'pg_lowcode: multi-tenant low-code back end';

-- The platform operator: manages tenants, tiers, the shared schema store and
-- registry-wide settings.  A cluster-wide role, so it outlives DROP EXTENSION
-- (other databases may use it); it is created only when missing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lowcode_operator') THEN
    CREATE ROLE lowcode_operator NOLOGIN;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA lowcode TO PUBLIC;

-- What grant_api_role() grants to an API role (PostgREST's authenticated
-- role): each component lists here exactly what a tenant user needs.
CREATE TABLE lowcode.api_grants (
  object_type text NOT NULL CHECK (object_type IN ('FUNCTION', 'TABLE', 'VIEW', 'SEQUENCE')),
  object_name text NOT NULL,          -- as written in GRANT, e.g. 'lowcode.current_tenant()'
  privileges  text NOT NULL,          -- e.g. 'EXECUTE', 'SELECT, INSERT'
  PRIMARY KEY (object_type, object_name)
);
COMMENT ON TABLE lowcode.api_grants IS
  'Privileges that lowcode.grant_api_role() grants to an API role; one row per object, filled by the install script.';

-- The roles grant_api_role() was called for (isolation_report checks them).
CREATE TABLE lowcode.api_roles (
  role_name  name PRIMARY KEY,
  granted_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('lowcode.api_roles', '');

CREATE FUNCTION lowcode.raise_http(status int, code text, message text,
                                   details text DEFAULT NULL, hint text DEFAULT NULL,
                                   headers jsonb DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_raise_http'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.raise_http IS
  'Raise an error PostgREST turns into an HTTP response (SQLSTATE PGRST).';
