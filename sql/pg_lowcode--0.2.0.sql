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
-- pg_lowcode install script, part 10: tiers, tenants, the tenant context, RLS helpers.

-----------------------------------------------------------------------------
-- Tiers
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tiers (
  name                      text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  description               text,
  session_idle_timeout      interval NOT NULL CHECK (session_idle_timeout > interval '0'),
  session_absolute_lifetime interval NOT NULL CHECK (session_absolute_lifetime > interval '0'),
  requests_per_second       integer NOT NULL CHECK (requests_per_second > 0),
  request_burst             integer NOT NULL CHECK (request_burst > 0),
  max_rows                  bigint CHECK (max_rows >= 0),          -- NULL: unlimited
  max_storage_bytes         bigint CHECK (max_storage_bytes >= 0), -- NULL: unlimited
  max_sessions              integer CHECK (max_sessions >= 0),     -- NULL: unlimited
  statement_timeout         interval NOT NULL CHECK (statement_timeout >= interval '0'),
  work_mem_kb               integer NOT NULL CHECK (work_mem_kb >= 64),
  builtin                   boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE lowcode.tiers IS 'Service tiers and their limits; every value lives here, not in code.';

-- Seeded tiers are re-inserted by CREATE EXTENSION when a dump is restored;
-- the dump then carries their current values too.  An INSERT of an existing
-- tier name therefore updates it instead of failing (this is what lets
-- pg_dump/pg_restore keep an operator's changes to the seeded tiers).
CREATE FUNCTION lowcode.tiers_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
BEGIN
  IF pg_trigger_depth() = 1 AND EXISTS (SELECT 1 FROM lowcode.tiers WHERE name = NEW.name) THEN
    UPDATE lowcode.tiers t SET
      description = NEW.description, session_idle_timeout = NEW.session_idle_timeout,
      session_absolute_lifetime = NEW.session_absolute_lifetime,
      requests_per_second = NEW.requests_per_second, request_burst = NEW.request_burst,
      max_rows = NEW.max_rows, max_storage_bytes = NEW.max_storage_bytes,
      max_sessions = NEW.max_sessions, statement_timeout = NEW.statement_timeout,
      work_mem_kb = NEW.work_mem_kb, builtin = t.builtin OR NEW.builtin
    WHERE t.name = NEW.name;
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tiers_upsert BEFORE INSERT ON lowcode.tiers
  FOR EACH ROW EXECUTE FUNCTION lowcode.tiers_upsert();

INSERT INTO lowcode.tiers (name, description, session_idle_timeout, session_absolute_lifetime,
                           requests_per_second, request_burst, max_rows, max_storage_bytes,
                           max_sessions, statement_timeout, work_mem_kb, builtin) VALUES
  ('free',       'Free tier',       '15 minutes', '8 hours',    10,   20,     10000,   104857600,    100, '5 seconds',   4096, true),
  ('pro',        'Professional',    '30 minutes', '12 hours',  100,  200,   1000000, 10737418240,  10000, '15 seconds', 16384, true),
  ('enterprise', 'Enterprise',      '2 hours',    '24 hours', 1000, 2000,      NULL,        NULL,   NULL, '60 seconds', 65536, true);

SELECT pg_catalog.pg_extension_config_dump('lowcode.tiers', '');

-----------------------------------------------------------------------------
-- Tenants
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tenants (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text NOT NULL UNIQUE
             CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tier       text NOT NULL REFERENCES lowcode.tiers (name) ON UPDATE CASCADE,
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  settings   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object')
);
COMMENT ON TABLE lowcode.tenants IS 'Tenants of the platform. A tenant sees its own row only.';
SELECT pg_catalog.pg_extension_config_dump('lowcode.tenants', '');

-----------------------------------------------------------------------------
-- Tenant context
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.current_tenant() RETURNS uuid
AS 'MODULE_PATHNAME', 'lowcode_current_tenant'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.current_tenant() IS
  'The tenant of the current request, or NULL when there is none (then every policy denies).';

CREATE FUNCTION lowcode.pre_request() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_pre_request'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.pre_request() IS
  'PostgREST db-pre-request hook: establishes the tenant context and rejects requests without a valid, active tenant.';

ALTER TABLE lowcode.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_self ON lowcode.tenants FOR SELECT
  USING (id = (SELECT lowcode.current_tenant()));
CREATE POLICY tenants_operator ON lowcode.tenants FOR ALL
  USING (pg_has_role(current_user, 'lowcode_operator', 'MEMBER'))
  WITH CHECK (pg_has_role(current_user, 'lowcode_operator', 'MEMBER'));
GRANT SELECT ON lowcode.tiers TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON lowcode.tenants, lowcode.tiers TO lowcode_operator;

-----------------------------------------------------------------------------
-- Operator functions
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.create_tenant(slug text, name text DEFAULT NULL, tier text DEFAULT 'free')
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  new_id uuid;
BEGIN
  IF slug IS NULL OR slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LT001',
      MESSAGE = format('invalid tenant slug %L', slug),
      DETAIL = 'A slug is 1 to 63 characters: lowercase letters, digits and "-", not starting or ending with "-".',
      HINT = 'For example: acme-corp';
  END IF;
  IF tier IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tiers t WHERE t.name = create_tenant.tier) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT002', MESSAGE = format('unknown tier %L', tier),
      HINT = 'The tiers are listed in lowcode.tiers.';
  END IF;
  IF EXISTS (SELECT 1 FROM lowcode.tenants t WHERE t.slug = create_tenant.slug) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT003', MESSAGE = format('a tenant with slug %L already exists', slug);
  END IF;
  IF name IS NOT NULL AND length(name) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = 'LT001', MESSAGE = 'tenant name must be 1 to 200 characters';
  END IF;
  INSERT INTO lowcode.tenants (slug, name, tier)
  VALUES (create_tenant.slug, coalesce(create_tenant.name, create_tenant.slug), create_tenant.tier)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

CREATE FUNCTION lowcode.tenant_must_exist(tenant uuid) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  IF tenant IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tenants t WHERE t.id = tenant) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT004', MESSAGE = format('no tenant with id %s', coalesce(tenant::text, 'NULL'));
  END IF;
END
$$;

CREATE FUNCTION lowcode.suspend_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.tenants SET status = 'suspended' WHERE id = tenant;
END
$$;

CREATE FUNCTION lowcode.resume_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.tenants SET status = 'active' WHERE id = tenant;
END
$$;

CREATE FUNCTION lowcode.set_tenant_tier(tenant uuid, tier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  IF tier IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tiers t WHERE t.name = set_tenant_tier.tier) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT002', MESSAGE = format('unknown tier %L', tier),
      HINT = 'The tiers are listed in lowcode.tiers.';
  END IF;
  UPDATE lowcode.tenants t SET tier = set_tenant_tier.tier WHERE t.id = tenant;
END
$$;

REVOKE ALL ON FUNCTION lowcode.create_tenant(text, text, text), lowcode.suspend_tenant(uuid),
  lowcode.resume_tenant(uuid), lowcode.set_tenant_tier(uuid, text), lowcode.tenant_must_exist(uuid)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.create_tenant(text, text, text), lowcode.suspend_tenant(uuid),
  lowcode.resume_tenant(uuid), lowcode.set_tenant_tier(uuid, text)
  TO lowcode_operator;
-- pg_lowcode install script, part 11: making tables tenant-safe, the isolation report, API roles.

-----------------------------------------------------------------------------
-- make_tenant_table
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
DECLARE
  rel       record;
  att       record;
  has_rows  boolean;
  con       record;
  tenant_attnum int2;
  policy_expr constant text := 'tenant_id = (SELECT lowcode.current_tenant())';
  qualified text;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005', MESSAGE = 'make_tenant_table: the table must not be NULL';
  END IF;
  SELECT c.relkind, c.relname, n.nspname, c.relispartition
    INTO rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  IF NOT FOUND THEN
    -- a regclass made from a number need not name a relation (format('%I') of NULL would raise 22004)
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: no relation with oid %s', tbl::oid);
  END IF;
  qualified := format('%I.%I', rel.nspname, rel.relname);
  IF rel.relkind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: %s is not a table', qualified);
  END IF;
  IF rel.relispartition THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: %s is a partition', qualified),
      HINT = 'Call it for the partitioned table; revoke direct access to its partitions.';
  END IF;
  IF rel.nspname IN ('lowcode', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: %s is in a system or extension schema', qualified);
  END IF;

  SELECT a.attnum, a.atttypid, a.attnotnull, a.atthasdef INTO att
    FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;
  IF NOT FOUND THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', qualified) INTO has_rows;
    IF has_rows AND existing_rows_tenant IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'LT005',
        MESSAGE = format('make_tenant_table: %s has rows and no tenant_id column', qualified),
        HINT = 'Pass the tenant that owns the existing rows: make_tenant_table(tbl, existing_rows_tenant => ...).';
    END IF;
    IF has_rows THEN
      PERFORM lowcode.tenant_must_exist(existing_rows_tenant);
      EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid NOT NULL DEFAULT %L::uuid', qualified, existing_rows_tenant);
      EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT lowcode.current_tenant()', qualified);
    ELSE
      EXECUTE format('ALTER TABLE %s ADD COLUMN tenant_id uuid NOT NULL DEFAULT lowcode.current_tenant()', qualified);
    END IF;
  ELSE
    IF att.atttypid <> 'uuid'::regtype THEN
      RAISE EXCEPTION USING ERRCODE = 'LT005',
        MESSAGE = format('make_tenant_table: %s.tenant_id is of type %s, not uuid', qualified, att.atttypid::regtype);
    END IF;
    IF NOT att.attnotnull THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE tenant_id IS NULL)', qualified) INTO has_rows;
      IF has_rows THEN
        RAISE EXCEPTION USING ERRCODE = 'LT005',
          MESSAGE = format('make_tenant_table: %s has rows whose tenant_id is NULL', qualified),
          HINT = 'Assign every row to a tenant first.';
      END IF;
      EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET NOT NULL', qualified);
    END IF;
    EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT lowcode.current_tenant()', qualified);
  END IF;

  SELECT a.attnum INTO tenant_attnum FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;

  -- An index led by tenant_id, unless one exists already.
  IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = tenant_attnum) THEN
    EXECUTE format('CREATE INDEX %I ON %s (tenant_id)', left(rel.relname, 48) || '_tenant_id_idx', qualified);
  END IF;

  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', qualified);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', qualified);

  FOR con IN SELECT p.polname FROM pg_policy p
              WHERE p.polrelid = tbl AND p.polname LIKE 'lowcode\_tenant\_%'
  LOOP
    EXECUTE format('DROP POLICY %I ON %s', con.polname, qualified);
  END LOOP;
  EXECUTE format('CREATE POLICY lowcode_tenant_select ON %s FOR SELECT USING (%s)', qualified, policy_expr);
  EXECUTE format('CREATE POLICY lowcode_tenant_insert ON %s FOR INSERT WITH CHECK (%s)', qualified, policy_expr);
  -- WITH CHECK on UPDATE: a row cannot be moved to another tenant.
  EXECUTE format('CREATE POLICY lowcode_tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', qualified, policy_expr, policy_expr);
  EXECUTE format('CREATE POLICY lowcode_tenant_delete ON %s FOR DELETE USING (%s)', qualified, policy_expr);
  PERFORM lowcode.attach_quota_trigger(tbl);  -- row/storage quotas (sql/50_quota.sql)

  -- Unique keys without tenant_id leak existence across tenants (a unique
  -- violation tells one tenant that another has the value) and block
  -- distribution by tenant_id.
  FOR con IN
    SELECT c.conname, c.contype FROM pg_constraint c
     WHERE c.conrelid = tbl AND c.contype IN ('p', 'u') AND NOT (tenant_attnum = ANY (c.conkey))
  LOOP
    RAISE WARNING '% % on % does not include tenant_id',
      CASE con.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END, quote_ident(con.conname), qualified
      USING HINT = 'A unique key without tenant_id lets a tenant learn that a value exists in another tenant '
                   '(through the unique violation) and prevents distributing the table by tenant_id. '
                   'Recreate it as (tenant_id, ...).';
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.make_tenant_table(regclass, uuid) IS
  'Make a table tenant-safe (idempotent): tenant_id column defaulting to the current tenant, an index led by it, RLS enabled and forced, tenant policies.';

-----------------------------------------------------------------------------
-- isolation_report
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.isolation_report()
RETURNS TABLE (severity text, problem text, object_type text, object_name text, detail text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode AS $$
  WITH tenant_tables AS (
    SELECT c.oid, c.relname, n.nspname, c.relrowsecurity, c.relforcerowsecurity, a.attnum AS tenant_attnum,
           c.relkind
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
  ),
  api AS (
    SELECT r.oid, r.rolname FROM pg_roles r JOIN lowcode.api_roles a ON a.role_name = r.rolname
  )
  SELECT 'error', 'rls_disabled', 'table', format('%I.%I', t.nspname, t.relname),
         'tenant table without row level security', 'Call lowcode.make_tenant_table() on it.'
    FROM tenant_tables t WHERE NOT t.relrowsecurity
  UNION ALL
  SELECT 'error', 'rls_not_forced', 'table', format('%I.%I', t.nspname, t.relname),
         'row level security is enabled but not forced: the owner bypasses it',
         format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', t.nspname, t.relname)
    FROM tenant_tables t WHERE t.relrowsecurity AND NOT t.relforcerowsecurity
  UNION ALL
  SELECT 'error', 'policy_not_tenant_scoped', 'policy', format('%I on %I.%I', p.polname, t.nspname, t.relname),
         'a permissive policy on a tenant table does not compare tenant_id with lowcode.current_tenant()',
         'Every permissive policy of a tenant table must restrict rows to the current tenant (or to members of lowcode_operator).'
    FROM tenant_tables t JOIN pg_policy p ON p.polrelid = t.oid
   WHERE p.polpermissive
     AND coalesce(pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), '')
         !~ '(current_tenant\(\)|pg_has_role\([^)]*''lowcode_operator''::name)'
  UNION ALL
  SELECT 'warning', 'unique_without_tenant', 'constraint', format('%I on %I.%I', con.conname, t.nspname, t.relname),
         'a primary key or unique constraint of a tenant table does not include tenant_id: it reveals across tenants whether a value exists',
         'Recreate it as (tenant_id, ...).'
    FROM tenant_tables t JOIN pg_constraint con ON con.conrelid = t.oid
   WHERE con.contype IN ('p', 'u') AND NOT (t.tenant_attnum = ANY (con.conkey))
  UNION ALL
  SELECT 'warning', 'unique_index_without_tenant', 'index', format('%I.%I', t.nspname, ic.relname),
         'a unique index of a tenant table does not include tenant_id', 'Recreate it with tenant_id as its first column.'
    FROM tenant_tables t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
   WHERE i.indisunique AND NOT (t.tenant_attnum = ANY (i.indkey::int2[]))
     AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
  UNION ALL
  SELECT DISTINCT 'error', 'view_without_security_invoker', 'view', format('%I.%I', vn.nspname, v.relname),
         format('view reads tenant table %I.%I with its owner''s rights, bypassing the callers'' policies', t.nspname, t.relname),
         format('ALTER VIEW %I.%I SET (security_invoker = true)', vn.nspname, v.relname)
    FROM tenant_tables t
    JOIN pg_depend d ON d.refobjid = t.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
    JOIN pg_rewrite rw ON rw.oid = d.objid
    JOIN pg_class v ON v.oid = rw.ev_class AND v.oid <> t.oid
    JOIN pg_namespace vn ON vn.oid = v.relnamespace
   WHERE (v.relkind = 'v'
          AND coalesce((SELECT lower(o.option_value) FROM pg_options_to_table(v.reloptions) o
                         WHERE o.option_name = 'security_invoker'), 'false') NOT IN ('true', 'on', 'yes', '1'))
  UNION ALL
  SELECT DISTINCT 'error', 'materialized_view_over_tenant_table', 'materialized view', format('%I.%I', vn.nspname, v.relname),
         format('materialized view copies rows of tenant table %I.%I without row level security', t.nspname, t.relname),
         'Do not grant it to API roles, or replace it with a tenant table.'
    FROM tenant_tables t
    JOIN pg_depend d ON d.refobjid = t.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
    JOIN pg_rewrite rw ON rw.oid = d.objid
    JOIN pg_class v ON v.oid = rw.ev_class AND v.relkind = 'm'
    JOIN pg_namespace vn ON vn.oid = v.relnamespace
  UNION ALL
  SELECT 'error', 'security_definer_without_search_path', 'function', p.oid::regprocedure::text,
         'SECURITY DEFINER function without a fixed search_path: a caller can hijack the names it uses',
         format('ALTER FUNCTION %s SET search_path = pg_catalog, ...', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%')
  UNION ALL
  SELECT 'error', 'api_role_bypasses_rls', 'role', a.rolname,
         format('API role %I %s', a.rolname,
                CASE WHEN r.oid = a.oid THEN 'itself has ' ELSE format('is a member of role %I, which has ', r.rolname) END
                || CASE WHEN r.rolsuper THEN 'SUPERUSER' ELSE 'BYPASSRLS' END),
         'API roles must not be able to bypass row level security: revoke the membership or the attribute.'
    FROM api a JOIN pg_roles r ON (r.rolbypassrls OR r.rolsuper) AND pg_has_role(a.oid, r.oid, 'MEMBER')
  UNION ALL
  SELECT 'error', 'api_role_is_operator', 'role', a.rolname,
         format('API role %I is a member of lowcode_operator: it sees every tenant through the operator policies', a.rolname),
         format('REVOKE lowcode_operator FROM %I', a.rolname)
    FROM api a WHERE pg_has_role(a.oid, 'lowcode_operator', 'MEMBER')
  UNION ALL
  SELECT 'error', 'api_role_owns_tenant_table', 'table', format('%I.%I', t.nspname, t.relname),
         format('API role %I owns this tenant table and can disable its row level security', a.rolname),
         'Transfer ownership to a role that API requests cannot use.'
    FROM tenant_tables t JOIN pg_class c ON c.oid = t.oid JOIN api a ON pg_has_role(a.oid, c.relowner, 'MEMBER')
  UNION ALL
  SELECT 'error', 'api_role_can_truncate', 'table', format('%I.%I', t.nspname, t.relname),
         format('API role %I may TRUNCATE this tenant table: TRUNCATE ignores row level security and empties every tenant', a.rolname),
         format('REVOKE TRUNCATE ON %I.%I FROM %I', t.nspname, t.relname, a.rolname)
    FROM tenant_tables t CROSS JOIN api a WHERE has_table_privilege(a.oid, t.oid, 'TRUNCATE')
  UNION ALL
  SELECT 'warning', 'api_role_can_create_temp', 'database', current_database()::text,
         format('API role %I may create temporary tables: on a pooled connection, a temporary table can shadow an unqualified table name for the next request, of another tenant', a.rolname),
         format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, %I', current_database(), a.rolname)
    FROM api a WHERE has_database_privilege(a.oid, current_database(), 'TEMPORARY')
  UNION ALL
  SELECT 'error', 'api_role_can_create_in_schema', 'schema', n.nspname::text,
         format('API role %I may create objects in schema %I: functions, views or tables that shadow or intercept other tenants'' requests', a.rolname, n.nspname),
         format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I', n.nspname, a.rolname)
    FROM pg_namespace n CROSS JOIN api a
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
     AND has_schema_privilege(a.oid, n.oid, 'CREATE')
$$;
COMMENT ON FUNCTION lowcode.isolation_report() IS
  'One row per tenant-isolation problem found in this database.';

-----------------------------------------------------------------------------
-- API roles
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.grant_api_role(role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  r record;
  g record;
BEGIN
  SELECT rolname, rolsuper, rolbypassrls INTO r FROM pg_roles WHERE rolname = role;
  IF NOT FOUND THEN
    -- %I of a NULL role would raise 22004 instead of saying which role is missing
    RAISE EXCEPTION USING ERRCODE = 'LT006', MESSAGE = format('role %s does not exist', coalesce(quote_ident(role), 'NULL'));
  END IF;
  IF r.rolsuper OR r.rolbypassrls THEN
    RAISE EXCEPTION USING ERRCODE = 'LT007',
      MESSAGE = format('role %I bypasses row level security and cannot be an API role', role),
      HINT = 'Use a role without SUPERUSER and BYPASSRLS, for example PostgREST''s "authenticated" role.';
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA lowcode TO %I', role);
  FOR g IN SELECT * FROM lowcode.api_grants ORDER BY object_type, object_name LOOP
    EXECUTE format('GRANT %s ON %s %s TO %I', g.privileges, g.object_type, g.object_name, role);
  END LOOP;
  INSERT INTO lowcode.api_roles (role_name) VALUES (role) ON CONFLICT (role_name) DO NOTHING;
END
$$;
COMMENT ON FUNCTION lowcode.grant_api_role(name) IS
  'Grant an existing role (such as PostgREST''s authenticated role) exactly what a tenant user needs.';
REVOKE ALL ON FUNCTION lowcode.grant_api_role(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.grant_api_role(name) TO lowcode_operator;
REVOKE ALL ON FUNCTION lowcode.make_tenant_table(regclass, uuid), lowcode.isolation_report() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.make_tenant_table(regclass, uuid), lowcode.isolation_report() TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.current_tenant()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.pre_request()', 'EXECUTE'),
  ('TABLE',    'lowcode.tenants', 'SELECT'),
  ('TABLE',    'lowcode.tiers', 'SELECT');
-- pg_lowcode install script, part 12: the event outbox and trace ids, shared by every component.

-- W3C trace context: the trace id of the current request, from the
-- traceparent header PostgREST puts in request.headers ("00-<32 hex>-<16 hex>-<2 hex>").
CREATE FUNCTION lowcode.current_trace_id() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN tp ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
                   AND substr(tp, 4, 32) <> repeat('0', 32)
              THEN substr(tp, 4, 32) END
    -- read with a regular expression, not ::jsonb: headers that are not valid JSON (or hold
    -- escapes jsonb refuses, such as \u0000) must give NULL, not fail every registry write
    FROM (SELECT lower(btrim(substring(coalesce(current_setting('request.headers', true), '')
                                       FROM '"traceparent"\s*:\s*"([^"\\]*)"'))) AS tp) h
$$;
COMMENT ON FUNCTION lowcode.current_trace_id() IS
  'Trace id of the current request from the W3C traceparent header in request.headers, or NULL.';

-- The outbox: every registry change, submission and session expiry is a
-- row here (for consumers that poll or replicate) and a NOTIFY on channel
-- lowcode_events (for real-time listeners).  Rows are deleted by the
-- database worker once past their deadline.
CREATE TABLE lowcode.events (
  tenant_id  uuid NOT NULL,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload    jsonb NOT NULL DEFAULT '{}',
  trace_id   text,
  created_at timestamptz NOT NULL DEFAULT now(),
  deadline   timestamptz NOT NULL DEFAULT now() + interval '7 days',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_deadline_idx ON lowcode.events (deadline);
ALTER TABLE lowcode.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant_select ON lowcode.events FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
SELECT pg_catalog.pg_extension_config_dump('lowcode.events', '');
-- and its identity sequence, so that a restored database goes on numbering after the restored events
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lowcode.events', 'id')::regclass, '');
COMMENT ON TABLE lowcode.events IS
  'Event outbox. Tenants read their own events; events of the platform itself use the nil uuid as tenant.';

-- Emit an event: outbox row + NOTIFY lowcode_events '{"tenant_id","id","type"}'.
-- The NOTIFY is delivered at commit only, so listeners never see rolled-back events.
CREATE FUNCTION lowcode.emit_event(tenant uuid, type text, payload jsonb DEFAULT '{}',
                                   retention interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  new_id bigint;
BEGIN
  IF tenant IS NULL OR type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT008', MESSAGE = 'emit_event: tenant and type must not be NULL';
  END IF;
  IF type !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LT008', MESSAGE = format('emit_event: invalid event type %L', type),
      HINT = 'An event type is dot-separated lowercase words, for example "session.expired".';
  END IF;
  INSERT INTO lowcode.events (tenant_id, type, payload, trace_id, deadline)
  VALUES (tenant, emit_event.type, coalesce(payload, '{}'), lowcode.current_trace_id(), now() + retention)
  RETURNING id INTO new_id;
  PERFORM pg_notify('lowcode_events',
                    json_build_object('tenant_id', tenant, 'id', new_id, 'type', emit_event.type)::text);
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION lowcode.emit_event(uuid, text, jsonb, interval) FROM PUBLIC;
GRANT SELECT ON lowcode.events TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('TABLE', 'lowcode.events', 'SELECT'),
  ('FUNCTION', 'lowcode.current_trace_id()', 'EXECUTE');
-- 15_common.sql: SQL entry points of the shared C code (src/common):
-- regular expression translation and the JSON Schema format checkers.

-- Does "pattern" (dialect 'ecma262' for JSON Schema, 're2' for CEL) match
-- anywhere in "subject"?  Errors with SQLSTATE 2201B for a bad pattern.
CREATE FUNCTION lowcode.regex_test(dialect text, pattern text, subject text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lc_regex_test_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.regex_test(text, text, text) IS
'Search "subject" with an ECMA-262 (''ecma262'') or RE2 (''re2'') pattern, as JSON Schema and CEL do';

-- The PostgreSQL ARE text a pattern is translated to.
CREATE FUNCTION lowcode.regex_translate(dialect text, pattern text)
RETURNS text
AS 'MODULE_PATHNAME', 'lc_regex_translate_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.regex_translate(text, text) IS
'The PostgreSQL advanced regular expression an ECMA-262 or RE2 pattern is translated to';

-- Is "value" valid for the JSON Schema format "format"?
CREATE FUNCTION lowcode.format_check(format text, value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lc_format_check_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.format_check(text, text) IS
'Check a string against a JSON Schema format (date-time, email, hostname, ipv4, uri, ...)';
-- JSON Schema: validation functions and the document store.
-- See docs/jsonschema.md.

CREATE FUNCTION lowcode.jsonschema_is_valid(schema jsonb, instance jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'jsonschema_is_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonschema_is_valid(jsonb, jsonb) IS
'Is the instance valid against the JSON Schema (drafts 4, 6, 7, 2019-09, 2020-12)?';

CREATE FUNCTION lowcode.jsonschema_validate(schema jsonb, instance jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_validate'
-- STABLE, not IMMUTABLE: messages follow the setting lowcode.locale
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonschema_validate(jsonb, jsonb, jsonb) IS
'Validate and return {"valid", "errors": [...]}: errors in JSON Schema basic output and ajv shape';

CREATE FUNCTION lowcode.jsonschema_check(schema jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_check'
LANGUAGE C STABLE PARALLEL UNSAFE;

COMMENT ON FUNCTION lowcode.jsonschema_check(jsonb, jsonb) IS
'Is the schema itself valid (against its metaschema; regexes compile; references resolve)?';

CREATE FUNCTION lowcode.jsonschema_cache_stats()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_cache_stats'
LANGUAGE C VOLATILE;

-- The document store: schemas that $ref and $schema resolve absolute URIs
-- from.  Operator-managed, shared by all tenants (not tenant-scoped).
CREATE TABLE lowcode.schema_documents (
    uri           text PRIMARY KEY
                  CHECK (uri ~ '^[A-Za-z][A-Za-z0-9+.-]*:' AND position('#' in uri) = 0),
    document      jsonb NOT NULL
                  CHECK (jsonb_typeof(document) IN ('object', 'boolean')),
    registered_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE lowcode.schema_documents IS
'JSON Schema documents that $ref resolves absolute URIs from (operator-managed; use lowcode.register_document)';

REVOKE ALL ON lowcode.schema_documents FROM PUBLIC;
GRANT SELECT ON lowcode.schema_documents TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('lowcode.schema_documents', '');

CREATE FUNCTION lowcode.jsonschema_store_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'jsonschema_store_changed'
LANGUAGE C;

-- Any change, through the functions below or not, invalidates compiled
-- schemas that loaded documents, in every backend.
CREATE TRIGGER schema_documents_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.schema_documents
FOR EACH STATEMENT EXECUTE FUNCTION lowcode.jsonschema_store_changed();

CREATE FUNCTION lowcode.register_document(uri text, document jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, lowcode
AS $$
DECLARE
    u text := uri;
BEGIN
    IF u IS NULL OR document IS NULL THEN
        RAISE EXCEPTION 'register_document: uri and document must not be null'
            USING ERRCODE = 'LJ008';
    END IF;
    IF octet_length(u) > 2048 THEN
        -- a longer URI would fail in the primary key's index with an internal-looking 54000
        RAISE EXCEPTION 'register_document: the document URI is longer than 2048 bytes'
            USING ERRCODE = 'LJ008';
    END IF;
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                        WHERE c.oid = 'lowcode.schema_documents'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to register JSON Schema documents'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of lowcode.schema_documents (or a superuser) may change the document store.';
    END IF;
    -- "http://x/y#" and "http://x/y" name the same document
    IF right(u, 1) = '#' THEN
        u := left(u, -1);
    END IF;
    IF u !~ '^[A-Za-z][A-Za-z0-9+.-]*:' THEN
        RAISE EXCEPTION 'document URI "%" is not absolute', uri
            USING ERRCODE = 'LJ008',
                  HINT = 'Use an absolute URI with a scheme, such as https://example.com/schemas/address.json.';
    END IF;
    IF position('#' in u) > 0 THEN
        RAISE EXCEPTION 'document URI "%" must not have a fragment', uri
            USING ERRCODE = 'LJ008';
    END IF;
    IF jsonb_typeof(document) NOT IN ('object', 'boolean') THEN
        RAISE EXCEPTION 'document "%" is not a JSON Schema: a schema is an object or a boolean, not %',
            uri, jsonb_typeof(document)
            USING ERRCODE = 'LJ008';
    END IF;
    INSERT INTO lowcode.schema_documents AS d (uri, document)
    VALUES (u, document)
    ON CONFLICT ON CONSTRAINT schema_documents_pkey
    DO UPDATE SET document = EXCLUDED.document, registered_at = now();
END;
$$;

CREATE FUNCTION lowcode.unregister_document(uri text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, lowcode
AS $$
DECLARE
    u text := uri;
    n bigint;
BEGIN
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                        WHERE c.oid = 'lowcode.schema_documents'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to unregister JSON Schema documents'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of lowcode.schema_documents (or a superuser) may change the document store.';
    END IF;
    IF right(u, 1) = '#' THEN
        u := left(u, -1);
    END IF;
    DELETE FROM lowcode.schema_documents d WHERE d.uri = u;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END;
$$;
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
SET search_path = pg_catalog, lowcode
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
-- JsonLogic rules (src/rules/jsonlogic_*.c, docs/jsonlogic.md).

-- Apply a JsonLogic rule to data, with json-logic-js 2.x semantics.
-- NULL rule -> NULL; NULL data -> JSON null.  Errors: SQLSTATE LR101-LR106.
CREATE FUNCTION lowcode.jsonlogic_apply(rule jsonb, data jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonlogic_apply'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonlogic_apply(jsonb, jsonb) IS
'Evaluate a JsonLogic rule (json-logic-js 2.x semantics) over data; see docs/jsonlogic.md';
-- pg_lowcode install script, part 40: sessions (see docs/sessions.md).
--
-- A session is created by the platform's identity back end (a trusted role,
-- lowcode_identity) after it authenticated a user; the client then sends the
-- session id as the JWT claim "sid" (or the opaque token in a header) on
-- every request, and lowcode.pre_request() validates it.  Last-seen times
-- are kept in shared memory by pre_request() and written here by the
-- database worker: a GET request runs READ ONLY and never writes a row.

-- The identity back end: creates and revokes sessions of any tenant.
-- Cluster-wide like lowcode_operator, created only when missing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lowcode_identity') THEN
    CREATE ROLE lowcode_identity NOLOGIN;
  END IF;
END
$$;

CREATE TABLE lowcode.sessions (
  tenant_id            uuid NOT NULL REFERENCES lowcode.tenants (id) ON DELETE CASCADE,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  principal            text NOT NULL CHECK (length(principal) BETWEEN 1 AND 256),
  token_hash           bytea NOT NULL CHECK (length(token_hash) = 32),   -- SHA-256 of the token
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_seen_at         timestamptz NOT NULL DEFAULT now(),
  -- A pure duration (no day or month part), so that "last_seen_at +
  -- idle_timeout" means the same in SQL and in C, whatever the time zone.
  idle_timeout         interval NOT NULL
                       CHECK (idle_timeout > interval '0'
                              AND extract(day FROM idle_timeout) = 0
                              AND extract(month FROM idle_timeout) = 0
                              AND extract(year FROM idle_timeout) = 0),
  absolute_expires_at  timestamptz NOT NULL,
  -- A lower bound of least(last_seen_at + idle_timeout, absolute_expires_at):
  -- the last-seen flush leaves it alone, the worker's expiry step stores the
  -- real expiry when a session's timer fires and it is not due yet.
  expires_at           timestamptz NOT NULL,
  state                text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'expired', 'revoked')),
  ended_at             timestamptz,       -- when it became expired or revoked
  revoked_at           timestamptz,
  revoke_reason        text,
  ip                   inet,
  user_agent           text CHECK (length(user_agent) <= 1024),
  attributes           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  PRIMARY KEY (tenant_id, id),
  CHECK ((state = 'active') = (ended_at IS NULL)),
  CHECK ((state = 'revoked') = (revoked_at IS NOT NULL))
)
-- Half of each page is left free so that the worker's updates -- a last-seen
-- flush of every active session each second, the expiry of every row of a
-- page at once -- find room on the same page and stay HOT updates (no new
-- index entries).  With the default fillfactor a mass expiry updated every
-- index of every expired row and ran ten times slower (docs/benchmarks.md).
WITH (fillfactor = 50);
COMMENT ON TABLE lowcode.sessions IS
  'Sessions of tenant users. Tokens are stored as SHA-256 hashes only. last_seen_at lags by up to lowcode.sweep_interval.';
-- pre_request() finds a session by the JWT claim "sid" (the id alone) or by
-- the token's hash; neither index is unique without tenant_id (the
-- isolation rules), ids and hashes are random and a lookup that finds two
-- rows rejects the request.
CREATE INDEX sessions_id_idx ON lowcode.sessions (id);
CREATE INDEX sessions_token_hash_idx ON lowcode.sessions (token_hash);
-- No index names a column the worker changes (state, ended_at, expires_at,
-- last_seen_at), not even in a partial index's predicate: that keeps its
-- updates HOT.  The worker finds its work in lowcode.session_timers instead.
CREATE INDEX sessions_principal_idx ON lowcode.sessions (tenant_id, principal);

ALTER TABLE lowcode.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_tenant ON lowcode.sessions FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
SELECT pg_catalog.pg_extension_config_dump('lowcode.sessions', '');
GRANT SELECT ON lowcode.sessions TO lowcode_operator;

-- The worker's agenda: when to look at a session again.  A timer that is
-- not a purge fires at a lower bound of an active session's expiry (the
-- worker then expires the session, or stores its real expiry and sets a new
-- timer); a purge timer fires when an ended session's retention is over
-- (due_at is its ended_at; the worker deletes it lowcode.session_retention
-- later).  Timers are only ever added and deleted, and the only index is
-- on (purge, due_at), whose new entries go to its right edge: keeping the
-- agenda costs a fraction of what an index on lowcode.sessions would.  A
-- session may have a stale timer besides its current one; firing it does
-- nothing.  Kept by: the insert trigger below (every way rows arrive,
-- create_session, COPY, a restore), the update trigger (revocations, and an
-- expires_at moved earlier by hand), the worker's expiry step, and a
-- reconciliation when a worker starts (for rows loaded with triggers off).
-- Not dumped: a restore recreates it from the restored sessions.
CREATE TABLE lowcode.session_timers (
  due_at      timestamptz NOT NULL,
  tenant_id   uuid NOT NULL,
  session_id  uuid NOT NULL,
  purge       boolean NOT NULL
);
CREATE INDEX session_timers_due_idx ON lowcode.session_timers (purge, due_at);
ALTER TABLE lowcode.session_timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.session_timers FORCE ROW LEVEL SECURITY;
CREATE POLICY session_timers_tenant ON lowcode.session_timers FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
COMMENT ON TABLE lowcode.session_timers IS
  'When the database worker looks at a session again: its expiry (a lower bound), or the end of its retention.';

CREATE FUNCTION lowcode.session_timers_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
  SELECT CASE WHEN n.state = 'active' THEN n.expires_at ELSE coalesce(n.ended_at, now()) END,
         n.tenant_id, n.id, n.state <> 'active'
    FROM new_sessions n;
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_timers_insert AFTER INSERT ON lowcode.sessions
  REFERENCING NEW TABLE AS new_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.session_timers_on_insert();

-- A revocation ends a session: its purge timer.  An expires_at moved earlier
-- (by hand: nothing in pg_lowcode does) needs a timer that fires then.  The
-- worker's own updates (state 'expired', expires_at moved later, last-seen
-- flush) match neither condition, so this trigger costs them nothing.
CREATE FUNCTION lowcode.session_timers_on_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
  VALUES (CASE WHEN NEW.state = 'active' THEN NEW.expires_at ELSE coalesce(NEW.ended_at, now()) END,
          NEW.tenant_id, NEW.id, NEW.state <> 'active');
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_timers_update AFTER UPDATE ON lowcode.sessions
  FOR EACH ROW
  WHEN ((OLD.state = 'active' AND NEW.state = 'revoked')
        OR (NEW.state = 'active' AND NEW.expires_at < OLD.expires_at))
  EXECUTE FUNCTION lowcode.session_timers_on_update();
-- Also when rows arrive by logical replication (session_replication_role = replica).
ALTER TABLE lowcode.sessions ENABLE ALWAYS TRIGGER sessions_timers_insert;
ALTER TABLE lowcode.sessions ENABLE ALWAYS TRIGGER sessions_timers_update;
REVOKE ALL ON FUNCTION lowcode.session_timers_on_insert(), lowcode.session_timers_on_update() FROM PUBLIC;

-----------------------------------------------------------------------------
-- C helpers
-----------------------------------------------------------------------------
-- A new opaque token: "lcs_" + base64url of 32 bytes from pg_strong_random.
CREATE FUNCTION lowcode.session_new_token() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_session_new_token'
LANGUAGE C VOLATILE STRICT;

-- SHA-256 of a token, as stored in sessions.token_hash.
CREATE FUNCTION lowcode.session_token_hash(token text) RETURNS bytea
AS 'MODULE_PATHNAME', 'lowcode_session_token_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The session validated by pre_request() in this transaction, or NULL.
CREATE FUNCTION lowcode.current_session_id() RETURNS uuid
AS 'MODULE_PATHNAME', 'lowcode_current_session_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.current_session_id() IS
  'The id of the session validated by lowcode.pre_request() in the current transaction, or NULL.';

-- State of the shared memory table of last-seen times.
CREATE FUNCTION lowcode.session_memory_stats(
  OUT capacity bigint, OUT entries bigint, OUT dropped_touches bigint, OUT evictions bigint)
AS 'MODULE_PATHNAME', 'lowcode_session_memory_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.session_memory_stats() IS
  'Shared memory table of session last-seen times: capacity (lowcode.max_tracked_sessions), entries in use, touches that found it full.';

-- Forget the last-seen times of this database kept in shared memory (used
-- when sessions end, and by tests).
CREATE FUNCTION lowcode.session_forget(tenant uuid, session_id uuid) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_session_forget'
LANGUAGE C VOLATILE;

-- One sweep of this database's sessions, as the database worker runs it:
-- flush last-seen times, expire, delete old sessions and events.  For
-- operators and tests; the worker calls the same C code.
CREATE FUNCTION lowcode.sweep(OUT flushed bigint, OUT expired bigint, OUT deleted_sessions bigint,
                              OUT deleted_events bigint)
AS 'MODULE_PATHNAME', 'lowcode_sweep'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.sweep() IS
  'Run one sweep of the database worker now: flush last-seen times, expire sessions, delete old sessions and events.';

-----------------------------------------------------------------------------
-- The contract
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.create_session(tenant uuid, principal text, attributes jsonb DEFAULT '{}',
                                       idle_timeout interval DEFAULT NULL,
                                       lifetime interval DEFAULT NULL,
                                       ip inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS TABLE (session_id uuid, token text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  t        record;
  idle     interval;
  life     interval;
  new_tok  text;
  new_id   uuid;
  abs_exp  timestamptz;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'create_session: tenant must not be NULL';
  END IF;
  IF principal IS NULL OR length(principal) NOT BETWEEN 1 AND 256 THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001',
      MESSAGE = 'create_session: principal must be 1 to 256 characters',
      HINT = 'Pass the user id of the identity provider.';
  END IF;
  IF attributes IS NULL OR jsonb_typeof(attributes) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001',
      MESSAGE = 'create_session: attributes must be a JSON object';
  END IF;
  IF user_agent IS NOT NULL AND length(user_agent) > 1024 THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'create_session: user_agent is longer than 1024 characters';
  END IF;

  SELECT te.status, ti.session_idle_timeout, ti.session_absolute_lifetime
    INTO t
    FROM lowcode.tenants te JOIN lowcode.tiers ti ON ti.name = te.tier
   WHERE te.id = tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LS002', MESSAGE = format('create_session: no tenant with id %s', tenant);
  END IF;
  IF t.status <> 'active' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS003', MESSAGE = format('create_session: tenant %s is suspended', tenant);
  END IF;

  -- Durations are stored as pure seconds (see the table's CHECK).
  idle := make_interval(secs => extract(epoch FROM coalesce(create_session.idle_timeout, t.session_idle_timeout)));
  life := make_interval(secs => extract(epoch FROM coalesce(lifetime, t.session_absolute_lifetime)));
  IF idle <= interval '0' OR life <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS004', MESSAGE = 'create_session: idle_timeout and lifetime must be positive';
  END IF;
  IF idle > make_interval(secs => extract(epoch FROM t.session_idle_timeout))
     OR life > make_interval(secs => extract(epoch FROM t.session_absolute_lifetime)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LS004',
      MESSAGE = 'create_session: idle_timeout or lifetime longer than the tenant''s tier allows',
      DETAIL = format('The tier allows an idle timeout of %s and a lifetime of %s.',
                      t.session_idle_timeout, t.session_absolute_lifetime);
  END IF;

  -- The tenant's max_sessions (tier, or the operator's override) is enforced
  -- by the quota component's trigger on lowcode.sessions (LQ433, HTTP 403).

  new_tok := lowcode.session_new_token();
  abs_exp := now() + life;
  INSERT INTO lowcode.sessions AS s (tenant_id, principal, token_hash, idle_timeout, absolute_expires_at,
                                     expires_at, ip, user_agent, attributes)
  VALUES (tenant, principal, lowcode.session_token_hash(new_tok), idle, abs_exp,
          least(now() + idle, abs_exp), create_session.ip, create_session.user_agent, attributes)
  RETURNING s.id INTO new_id;

  session_id := new_id;
  token := new_tok;
  expires_at := least(now() + idle, abs_exp);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text) IS
  'Create a session for a principal of a tenant; returns its id, its token (shown once: only its hash is kept) and when it expires unless used.';

CREATE FUNCTION lowcode.revoke_session(session_id uuid, reason text DEFAULT 'revoked')
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  n int;
BEGIN
  IF session_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'revoke_session: session_id must not be NULL';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM lowcode.sessions s WHERE s.id = revoke_session.session_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LS006', MESSAGE = format('revoke_session: no session with id %s', session_id);
  END IF;
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.id = revoke_session.session_id AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_session(uuid, text) IS
  'Revoke one session; effective on its next request in every backend. False when it had already ended.';

CREATE FUNCTION lowcode.revoke_sessions(tenant uuid, principal text, reason text DEFAULT 'revoked')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  n int;
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  IF principal IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'revoke_sessions: principal must not be NULL';
  END IF;
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.tenant_id = tenant AND s.principal = revoke_sessions.principal AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_sessions(uuid, text, text) IS
  'Revoke every active session of a principal of a tenant ("sign out everywhere"); returns how many.';

CREATE FUNCTION lowcode.revoke_tenant_sessions(tenant uuid, reason text DEFAULT 'revoked')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  n int;
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.tenant_id = tenant AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_tenant_sessions(uuid, text) IS
  'Revoke every active session of a tenant; returns how many.';

-- The current request's session (validated by pre_request()), or no row.
CREATE FUNCTION lowcode.session_info()
RETURNS TABLE (session_id uuid, tenant_id uuid, principal text, created_at timestamptz,
               last_seen_at timestamptz, expires_at timestamptz, absolute_expires_at timestamptz,
               attributes jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  SELECT s.id, s.tenant_id, s.principal, s.created_at,
         greatest(s.last_seen_at, lowcode.session_last_seen(s.tenant_id, s.id)),
         least(greatest(s.last_seen_at, lowcode.session_last_seen(s.tenant_id, s.id)) + s.idle_timeout,
               s.absolute_expires_at),
         s.absolute_expires_at, s.attributes
    FROM lowcode.sessions s
   WHERE s.id = lowcode.current_session_id()
     AND s.tenant_id = lowcode.current_tenant()
     AND s.state = 'active'
$$;
COMMENT ON FUNCTION lowcode.session_info() IS
  'The session of the current request (validated by lowcode.pre_request()), or no row.';

-- The caller's own sign-out: revokes the current request's session.
CREATE FUNCTION lowcode.end_session() RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  WITH r AS (
    UPDATE lowcode.sessions s
       SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = 'signed out'
     WHERE s.id = lowcode.current_session_id()
       AND s.tenant_id = lowcode.current_tenant()
       AND s.state = 'active'
    RETURNING 1)
  SELECT count(*) > 0 FROM r
$$;
COMMENT ON FUNCTION lowcode.end_session() IS
  'Sign out: revoke the session of the current request. False when the request has no session.';

-- Last-seen time of a session in shared memory (NULL when not tracked).
CREATE FUNCTION lowcode.session_last_seen(tenant uuid, session_id uuid) RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lowcode_session_last_seen'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text),
  lowcode.revoke_session(uuid, text), lowcode.revoke_sessions(uuid, text, text),
  lowcode.revoke_tenant_sessions(uuid, text), lowcode.session_new_token(),
  lowcode.session_memory_stats(), lowcode.session_forget(uuid, uuid), lowcode.sweep(),
  lowcode.session_last_seen(uuid, uuid), lowcode.session_info(), lowcode.end_session()
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text),
  lowcode.revoke_session(uuid, text), lowcode.revoke_sessions(uuid, text, text),
  lowcode.revoke_tenant_sessions(uuid, text)
  TO lowcode_identity, lowcode_operator;
GRANT EXECUTE ON FUNCTION lowcode.session_memory_stats(), lowcode.sweep() TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.session_info()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.end_session()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.current_session_id()', 'EXECUTE');

-- Tell the launcher, once this transaction commits, that this database now
-- has the extension, so its database worker starts at once.
CREATE FUNCTION lowcode.worker_notify_launcher() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_worker_notify_launcher'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.worker_notify_launcher() FROM PUBLIC;
SELECT lowcode.worker_notify_launcher();

-- The background workers of this cluster, as the launcher knows them.
CREATE FUNCTION lowcode.worker_status(OUT database_oid oid, OUT database_name name, OUT pid integer,
                                      OUT state text, OUT last_sweep_at timestamptz, OUT sweeps bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lowcode_worker_status'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.worker_status() TO lowcode_operator;
-- pg_lowcode install script, part 50: limits, usage, statistics, pg_cron maintenance.
-- See docs/quotas.md.

-----------------------------------------------------------------------------
-- Per-tenant overrides of the tier's limits
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tenant_limits (
  tenant_id  uuid NOT NULL REFERENCES lowcode.tenants (id) ON DELETE CASCADE,
  name       text NOT NULL,
  value      bigint,                       -- NULL: unlimited (max_* limits only)
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE lowcode.tenant_limits IS
  'Per-tenant overrides of the tier''s limits; set with lowcode.set_tenant_limit().';
ALTER TABLE lowcode.tenant_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.tenant_limits FORCE ROW LEVEL SECURITY;
-- A tenant reads its own overrides, the operator all; writes go through
-- set_tenant_limit() / reset_tenant_limit() (SECURITY DEFINER) only.
CREATE POLICY tenant_limits_read ON lowcode.tenant_limits FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant())
         OR pg_has_role(current_user, 'lowcode_operator', 'MEMBER'));
SELECT pg_catalog.pg_extension_config_dump('lowcode.tenant_limits', '');

-- The limits, their tier column and whether NULL (unlimited) is allowed.
CREATE FUNCTION lowcode.limit_names()
RETURNS TABLE (ord int, name text, nullable boolean, min_value bigint, description text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  VALUES (1, 'requests_per_second', false, 1::bigint, 'requests admitted per second (token bucket refill rate)'),
         (2, 'request_burst',       false, 1, 'requests admitted at once (token bucket size)'),
         (3, 'max_rows',            true,  0, 'rows in the tenant''s tables, all tables together'),
         (4, 'max_storage_bytes',   true,  0, 'bytes of the tenant''s rows, all tables together'),
         (5, 'max_sessions',        true,  0, 'active sessions'),
         (6, 'statement_timeout_ms', false, 0, 'statement_timeout of each request, in milliseconds (0: none)'),
         (7, 'work_mem_kb',         false, 64, 'work_mem of each request, in kB')
$$;

-- Effective limits of a tenant, with where each value comes from.  Runs
-- with the caller's rights: row level security shows a tenant its own
-- limits and the operator everyone's.
CREATE FUNCTION lowcode.tenant_limits_of(tenant uuid)
RETURNS TABLE (name text, value bigint, source text, tier_value bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode AS $$
  SELECT d.name,
         CASE WHEN o.tenant_id IS NOT NULL THEN o.value ELSE d.tier_value END,
         CASE WHEN o.tenant_id IS NOT NULL THEN 'override' ELSE 'tier ' || t.tier END,
         d.tier_value
    FROM lowcode.tenants t
    JOIN lowcode.tiers r ON r.name = t.tier
   CROSS JOIN LATERAL (VALUES
         (1, 'requests_per_second', r.requests_per_second::bigint),
         (2, 'request_burst', r.request_burst::bigint),
         (3, 'max_rows', r.max_rows),
         (4, 'max_storage_bytes', r.max_storage_bytes),
         (5, 'max_sessions', r.max_sessions::bigint),
         (6, 'statement_timeout_ms', (extract(epoch FROM r.statement_timeout) * 1000)::bigint),
         (7, 'work_mem_kb', r.work_mem_kb::bigint)) AS d(ord, name, tier_value)
    LEFT JOIN lowcode.tenant_limits o ON o.tenant_id = t.id AND o.name = d.name
   WHERE t.id = tenant
   ORDER BY d.ord
$$;

CREATE FUNCTION lowcode.tenant_limits(tenant uuid)
RETURNS TABLE (name text, value bigint, source text, tier_value bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode AS $$
BEGIN
  RETURN QUERY SELECT * FROM lowcode.tenant_limits_of(tenant);
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LT004', MESSAGE = format('no tenant with id %s', coalesce(tenant::text, 'NULL')),
      HINT = 'A tenant sees only its own limits.';
  END IF;
END
$$;
COMMENT ON FUNCTION lowcode.tenant_limits(uuid) IS
  'The effective limits of a tenant (NULL value: unlimited) and where each comes from: its tier, or an override.';

-- One row: what the C code caches in shared memory.
CREATE FUNCTION lowcode.quota_effective_limits(tenant uuid)
RETURNS TABLE (tier text, requests_per_second bigint, request_burst bigint, max_rows bigint,
               max_storage_bytes bigint, max_sessions bigint, statement_timeout_ms bigint, work_mem_kb bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode AS $$
  SELECT (SELECT t.tier FROM lowcode.tenants t WHERE t.id = tenant),
         max(value) FILTER (WHERE name = 'requests_per_second'),
         max(value) FILTER (WHERE name = 'request_burst'),
         max(value) FILTER (WHERE name = 'max_rows'),
         max(value) FILTER (WHERE name = 'max_storage_bytes'),
         max(value) FILTER (WHERE name = 'max_sessions'),
         max(value) FILTER (WHERE name = 'statement_timeout_ms'),
         max(value) FILTER (WHERE name = 'work_mem_kb')
    FROM lowcode.tenant_limits_of(tenant)
$$;

CREATE FUNCTION lowcode.set_tenant_limit(tenant uuid, name text, value bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  lim record;
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  SELECT * INTO lim FROM lowcode.limit_names() l WHERE l.name = set_tenant_limit.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ001', MESSAGE = format('unknown limit %L', name),
      HINT = 'The limits are: ' || (SELECT string_agg(l.name, ', ' ORDER BY l.ord) FROM lowcode.limit_names() l) || '.';
  END IF;
  IF value IS NULL AND NOT lim.nullable THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ002', MESSAGE = format('limit %s cannot be unlimited (NULL)', name);
  END IF;
  IF value < lim.min_value OR value > 1000000000000000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ002',
      MESSAGE = format('value %s out of range for limit %s', value, name),
      DETAIL = format('%s must be between %s and 10^15.', name, lim.min_value);
  END IF;
  IF name IN ('requests_per_second', 'request_burst') AND value > 1000000000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ002',
      MESSAGE = format('value %s out of range for limit %s', value, name),
      DETAIL = format('%s must be between 1 and 10^9.', name);
  END IF;
  IF name = 'work_mem_kb' AND value > 2147483647 OR name = 'statement_timeout_ms' AND value > 2147483647 THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ002',
      MESSAGE = format('value %s out of range for limit %s', value, name),
      DETAIL = format('%s must be at most 2147483647.', name);
  END IF;
  INSERT INTO lowcode.tenant_limits AS l (tenant_id, name, value)
  VALUES (tenant, set_tenant_limit.name, value)
  ON CONFLICT ON CONSTRAINT tenant_limits_pkey DO UPDATE SET value = excluded.value, updated_at = now();
END
$$;
COMMENT ON FUNCTION lowcode.set_tenant_limit(uuid, text, bigint) IS
  'Override one limit of a tenant''s tier (NULL: unlimited, for max_* limits). Takes effect at the next request after commit.';

CREATE FUNCTION lowcode.reset_tenant_limit(tenant uuid, name text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  IF NOT EXISTS (SELECT 1 FROM lowcode.limit_names() l WHERE l.name = reset_tenant_limit.name) THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ001', MESSAGE = format('unknown limit %L', name),
      HINT = 'The limits are: ' || (SELECT string_agg(l.name, ', ' ORDER BY l.ord) FROM lowcode.limit_names() l) || '.';
  END IF;
  DELETE FROM lowcode.tenant_limits l WHERE l.tenant_id = tenant AND l.name = reset_tenant_limit.name;
END
$$;
COMMENT ON FUNCTION lowcode.reset_tenant_limit(uuid, text) IS
  'Remove a tenant''s override of one limit: the tier''s value applies again.';

REVOKE ALL ON FUNCTION lowcode.set_tenant_limit(uuid, text, bigint), lowcode.reset_tenant_limit(uuid, text),
  lowcode.quota_effective_limits(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.set_tenant_limit(uuid, text, bigint), lowcode.reset_tenant_limit(uuid, text)
  TO lowcode_operator;
GRANT SELECT ON lowcode.tenant_limits TO lowcode_operator;

-- Cached limits are reloaded after any change to where they come from.
CREATE FUNCTION lowcode.quota_limits_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_quota_limits_changed' LANGUAGE C;
CREATE TRIGGER quota_limits_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.tenant_limits
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.quota_limits_changed();
CREATE TRIGGER quota_limits_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.tiers
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.quota_limits_changed();
CREATE TRIGGER quota_limits_changed AFTER UPDATE OF tier OR DELETE ON lowcode.tenants
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.quota_limits_changed();

CREATE FUNCTION lowcode.quota_cached_limits(tenant uuid,
  OUT tier text, OUT requests_per_second bigint, OUT request_burst bigint, OUT max_rows bigint,
  OUT max_storage_bytes bigint, OUT max_sessions bigint, OUT statement_timeout_ms bigint, OUT work_mem_kb bigint)
AS 'MODULE_PATHNAME', 'lowcode_quota_effective_limit' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.quota_cached_limits(uuid) IS
  'The limits pre_request() and the quota triggers apply, as cached in shared memory.';

-----------------------------------------------------------------------------
-- Usage
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tenant_usage (
  tenant_id           uuid NOT NULL,
  minute              timestamptz NOT NULL,
  requests            bigint NOT NULL DEFAULT 0,
  rejected_rate       bigint NOT NULL DEFAULT 0,
  rejected_rows       bigint NOT NULL DEFAULT 0,
  rejected_storage    bigint NOT NULL DEFAULT 0,
  rejected_sessions   bigint NOT NULL DEFAULT 0,
  validations         bigint NOT NULL DEFAULT 0,
  validation_failures bigint NOT NULL DEFAULT 0,
  rule_evaluations    bigint NOT NULL DEFAULT 0,
  rows_inserted       bigint NOT NULL DEFAULT 0,
  rows_deleted        bigint NOT NULL DEFAULT 0,
  bytes_written       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, minute)
);
CREATE INDEX tenant_usage_minute_idx ON lowcode.tenant_usage (minute);
COMMENT ON TABLE lowcode.tenant_usage IS
  'Usage per tenant and minute, flushed from shared memory by the database worker (or lowcode.flush_usage()).';

-- Daily roll-up of tenant_usage, kept longer (billing).
CREATE TABLE lowcode.tenant_usage_daily (LIKE lowcode.tenant_usage INCLUDING DEFAULTS);
ALTER TABLE lowcode.tenant_usage_daily RENAME COLUMN minute TO day;
ALTER TABLE lowcode.tenant_usage_daily ALTER COLUMN day TYPE date;
ALTER TABLE lowcode.tenant_usage_daily ADD PRIMARY KEY (tenant_id, day);
COMMENT ON TABLE lowcode.tenant_usage_daily IS
  'Usage per tenant and day (UTC), rolled up from lowcode.tenant_usage by lowcode.rollup_usage().';

-- Storage per tenant: rows and bytes in its tables, kept incrementally
-- (shared memory deltas flushed by the worker) and reconciled against the
-- tables by lowcode.reconcile_storage().
CREATE TABLE lowcode.tenant_storage (
  tenant_id     uuid PRIMARY KEY,
  rows          bigint NOT NULL DEFAULT 0,
  bytes         bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  reconciled_at timestamptz
);
COMMENT ON TABLE lowcode.tenant_storage IS
  'Rows and bytes stored per tenant (all tenant tables together), kept incrementally and reconciled periodically.';

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_usage', 'tenant_usage_daily', 'tenant_storage'] LOOP
    EXECUTE format('ALTER TABLE lowcode.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE lowcode.%I FORCE ROW LEVEL SECURITY', t);
    -- read-only for everyone but the extension's own functions (SECURITY
    -- DEFINER, or run as the bootstrap superuser by the flush)
    EXECUTE format($p$CREATE POLICY %I ON lowcode.%I FOR SELECT
                      USING (tenant_id = (SELECT lowcode.current_tenant())
                             OR pg_has_role(current_user, 'lowcode_operator', 'MEMBER'))$p$, t || '_read', t);
    EXECUTE format('GRANT SELECT ON lowcode.%I TO lowcode_operator', t);
    PERFORM pg_catalog.pg_extension_config_dump(format('lowcode.%I', t)::regclass, '');
  END LOOP;
END
$$;

CREATE FUNCTION lowcode.flush_usage() RETURNS bigint
AS 'MODULE_PATHNAME', 'lowcode_flush_usage' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.flush_usage() IS
  'Flush usage counters and storage deltas of this database from shared memory to tenant_usage / tenant_storage now (the database worker does it every sweep). Returns the number of tenants flushed.';

CREATE FUNCTION lowcode.quota_count_rejection(tenant uuid, reason text) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_quota_count_rejection' LANGUAGE C VOLATILE;

CREATE FUNCTION lowcode.count_usage(event text, ok boolean DEFAULT true) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_count_usage' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.count_usage(text, boolean) IS
  'Count a validation (ok: whether it passed) or a rule evaluation of the current tenant; final at commit.';

CREATE FUNCTION lowcode.quota_storage_reconciled() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_quota_storage_reconciled' LANGUAGE C VOLATILE;

CREATE FUNCTION lowcode.quota_live(
  OUT tenant_id uuid, OUT requests bigint, OUT rejected_rate bigint, OUT rejected_rows bigint,
  OUT rejected_storage bigint, OUT rejected_sessions bigint, OUT validations bigint,
  OUT validation_failures bigint, OUT rule_evaluations bigint, OUT rows_inserted bigint,
  OUT rows_deleted bigint, OUT bytes_written bigint, OUT tokens float8, OUT rows bigint, OUT bytes bigint,
  OUT inflight_rows bigint, OUT inflight_bytes bigint, OUT unflushed boolean, OUT last_used timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lowcode_quota_live' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.quota_live() IS
  'Live quota state in shared memory for the tenants of this database (a tenant sees its own, the operator all).';

CREATE FUNCTION lowcode.quota_memory(OUT capacity bigint, OUT entries bigint, OUT overflows bigint,
                                     OUT evictions bigint, OUT limits_generation bigint)
AS 'MODULE_PATHNAME', 'lowcode_quota_memory' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.quota_memory() IS
  'State of the quota shared memory table: capacity (entries: twice lowcode.quota_max_tenants), entries in use, requests admitted unchecked because their bucket was full, evictions.';

CREATE FUNCTION lowcode.quota_check_cost(tenant uuid, iterations int,
                                         OUT check_ns float8, OUT empty_ns float8, OUT admitted bigint)
AS 'MODULE_PATHNAME', 'lowcode_quota_check_cost' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.quota_check_cost(uuid, int) IS
  'Benchmark: nanoseconds per rate check of pre_request() on the tenant''s bucket (it takes tokens), against an empty loop.';
CREATE FUNCTION lowcode.quota_check_cost(tenants uuid[], iterations int,
                                         OUT check_ns float8, OUT empty_ns float8, OUT admitted bigint)
AS 'MODULE_PATHNAME', 'lowcode_quota_check_cost_spread' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.quota_check_cost(uuid[], int) IS
  'Benchmark: nanoseconds per rate check over many tenants'' buckets in a pseudo-random order, against an empty loop.';
REVOKE ALL ON FUNCTION lowcode.quota_check_cost(uuid[], int) FROM PUBLIC;
REVOKE ALL ON FUNCTION lowcode.flush_usage(), lowcode.quota_count_rejection(uuid, text), lowcode.count_usage(text, boolean),
  lowcode.quota_storage_reconciled(), lowcode.quota_memory(), lowcode.quota_check_cost(uuid, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.flush_usage(), lowcode.quota_memory() TO lowcode_operator;

-- Active sessions of a tenant, when the sessions component is installed.
CREATE FUNCTION lowcode.quota_active_sessions(tenant uuid) RETURNS bigint
AS 'MODULE_PATHNAME', 'lowcode_quota_active_sessions' LANGUAGE C STABLE;
COMMENT ON FUNCTION lowcode.quota_active_sessions(uuid) IS
  'Active sessions of a tenant (the caller''s own, or any for the operator); NULL without the sessions component.';

-- Per tenant: live counters from shared memory and usage against each limit.
CREATE VIEW lowcode.tenant_stats WITH (security_invoker = true) AS
  SELECT t.id AS tenant_id, t.slug, t.tier, t.status,
         coalesce(q.requests, 0) AS requests,
         coalesce(q.rejected_rate, 0) AS rejected_rate,
         coalesce(q.rejected_rows, 0) AS rejected_rows,
         coalesce(q.rejected_storage, 0) AS rejected_storage,
         coalesce(q.rejected_sessions, 0) AS rejected_sessions,
         coalesce(q.validations, 0) AS validations,
         coalesce(q.validation_failures, 0) AS validation_failures,
         coalesce(q.rule_evaluations, 0) AS rule_evaluations,
         coalesce(q.rows_inserted, 0) AS rows_inserted,
         coalesce(q.rows_deleted, 0) AS rows_deleted,
         coalesce(q.bytes_written, 0) AS bytes_written,
         q.tokens AS tokens_available,
         l.requests_per_second, l.request_burst,
         coalesce(q.rows, s.rows, 0) AS rows_used, l.max_rows,
         coalesce(q.bytes, s.bytes, 0) AS storage_bytes_used, l.max_storage_bytes,
         lowcode.quota_active_sessions(t.id) AS sessions_active, l.max_sessions,
         l.statement_timeout_ms, l.work_mem_kb,
         s.reconciled_at AS storage_reconciled_at,
         q.last_used
    FROM lowcode.tenants t
    LEFT JOIN lowcode.quota_live() q ON q.tenant_id = t.id
    LEFT JOIN lowcode.tenant_storage s ON s.tenant_id = t.id
    CROSS JOIN LATERAL (
      SELECT max(o.value) FILTER (WHERE o.name = 'requests_per_second') AS requests_per_second,
             max(o.value) FILTER (WHERE o.name = 'request_burst') AS request_burst,
             max(o.value) FILTER (WHERE o.name = 'max_rows') AS max_rows,
             max(o.value) FILTER (WHERE o.name = 'max_storage_bytes') AS max_storage_bytes,
             max(o.value) FILTER (WHERE o.name = 'max_sessions') AS max_sessions,
             max(o.value) FILTER (WHERE o.name = 'statement_timeout_ms') AS statement_timeout_ms,
             max(o.value) FILTER (WHERE o.name = 'work_mem_kb') AS work_mem_kb
        FROM lowcode.tenant_limits_of(t.id) o) l;
COMMENT ON VIEW lowcode.tenant_stats IS
  'Per tenant: live counters from shared memory (since server start) and usage against each limit. A tenant sees its own row; the operator sees all.';
GRANT SELECT ON lowcode.tenant_stats TO lowcode_operator;

-----------------------------------------------------------------------------
-- Row and storage quotas on tenant tables
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.quota_row_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_quota_row_trigger' LANGUAGE C;
COMMENT ON FUNCTION lowcode.quota_row_trigger() IS
  'Counts rows and bytes per tenant and enforces max_rows / max_storage_bytes; attached by make_tenant_table().';

-- A TRUNCATE removes every tenant's rows: storage figures are rebuilt.
CREATE FUNCTION lowcode.quota_truncate_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM lowcode.reconcile_storage();
  RETURN NULL;
END
$$;

CREATE FUNCTION lowcode.attach_quota_trigger(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
DECLARE
  has_rows boolean;
BEGIN
  -- NULL or a regclass made from a number that names no relation: say so (format() would build bad SQL)
  IF tbl IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = tbl) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('attach_quota_trigger: no table %s', coalesce(tbl::oid::text, 'NULL'));
  END IF;
  EXECUTE format('CREATE OR REPLACE TRIGGER lowcode_quota AFTER INSERT OR UPDATE OR DELETE ON %s '
                 'FOR EACH ROW EXECUTE FUNCTION lowcode.quota_row_trigger()', tbl);
  EXECUTE format('CREATE OR REPLACE TRIGGER lowcode_quota_truncate AFTER TRUNCATE ON %s '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lowcode.quota_truncate_trigger()', tbl);
  -- rows stored before the trigger existed are counted by a recount
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', tbl) INTO has_rows;
  IF has_rows THEN
    PERFORM lowcode.reconcile_storage();
  END IF;
END
$$;
COMMENT ON FUNCTION lowcode.attach_quota_trigger(regclass) IS
  'Attach the row/storage quota triggers to a tenant table (make_tenant_table does it).';

-- The tables whose rows count against the row and storage quotas.
CREATE FUNCTION lowcode.quota_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT DISTINCT tg.tgrelid::regclass FROM pg_trigger tg
   WHERE tg.tgname = 'lowcode_quota' AND tg.tgfoid = 'lowcode.quota_row_trigger()'::regprocedure
$$;

-- Recount rows and bytes per tenant from the tables themselves; the
-- figures in shared memory are reloaded from the result at commit.
CREATE FUNCTION lowcode.reconcile_storage()
RETURNS TABLE (tenant_id uuid, rows bigint, bytes bigint, rows_before bigint, bytes_before bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
#variable_conflict use_column
DECLARE
  q text;
BEGIN
  SELECT string_agg(format('SELECT tenant_id, count(*) AS n, sum(pg_column_size(x.*)) AS b FROM %s x GROUP BY tenant_id', t),
                    ' UNION ALL ')
    INTO q FROM lowcode.quota_tables() t;
  CREATE TEMP TABLE IF NOT EXISTS lowcode_reconcile (tenant_id uuid, rows bigint, bytes bigint) ON COMMIT DROP;
  TRUNCATE lowcode_reconcile;
  IF q IS NOT NULL THEN
    EXECUTE format('INSERT INTO lowcode_reconcile SELECT tenant_id, sum(n), sum(b) FROM (%s) u GROUP BY tenant_id', q);
  END IF;
  RETURN QUERY
  WITH old AS (SELECT s.tenant_id, s.rows, s.bytes FROM lowcode.tenant_storage s),
  upd AS (
    INSERT INTO lowcode.tenant_storage AS s (tenant_id, rows, bytes, updated_at, reconciled_at)
    SELECT coalesce(r.tenant_id, o.tenant_id), coalesce(r.rows, 0), coalesce(r.bytes, 0), now(), now()
      FROM lowcode_reconcile r FULL JOIN old o ON o.tenant_id = r.tenant_id
    ON CONFLICT ON CONSTRAINT tenant_storage_pkey DO UPDATE
      SET rows = excluded.rows, bytes = excluded.bytes, updated_at = now(), reconciled_at = now()
    RETURNING s.tenant_id, s.rows, s.bytes)
  SELECT u.tenant_id, u.rows, u.bytes, o.rows, o.bytes
    FROM upd u LEFT JOIN old o ON o.tenant_id = u.tenant_id
   WHERE o.rows IS DISTINCT FROM u.rows OR o.bytes IS DISTINCT FROM u.bytes;
  PERFORM lowcode.quota_storage_reconciled();
END
$$;
COMMENT ON FUNCTION lowcode.reconcile_storage() IS
  'Recount rows and bytes per tenant in every tenant table; returns the tenants whose figures changed.';
REVOKE ALL ON FUNCTION lowcode.reconcile_storage(), lowcode.attach_quota_trigger(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.reconcile_storage(), lowcode.attach_quota_trigger(regclass) TO lowcode_operator;

-----------------------------------------------------------------------------
-- Roll-up and retention
-----------------------------------------------------------------------------
-- Move per-minute usage older than keep_minutes into daily rows, delete
-- daily rows older than keep_days.  Idempotent; safe to run concurrently
-- with the flush (it only touches minutes older than keep_minutes).
CREATE FUNCTION lowcode.rollup_usage(keep_minutes interval DEFAULT interval '2 days',
                                     keep_days interval DEFAULT interval '400 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  cutoff timestamptz := date_trunc('day', now() - keep_minutes, 'UTC');
  n bigint;
BEGIN
  -- a negative age would roll up or delete everything up to a time in the future
  IF keep_minutes < interval '0' OR keep_days < interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('rollup_usage: keep_minutes and keep_days must not be negative (got %s, %s)', keep_minutes, keep_days);
  END IF;
  WITH moved AS (
    DELETE FROM lowcode.tenant_usage u WHERE u.minute < cutoff RETURNING u.*
  ), agg AS (
    SELECT m.tenant_id, (m.minute AT TIME ZONE 'UTC')::date AS day,
           sum(requests) requests, sum(rejected_rate) rejected_rate, sum(rejected_rows) rejected_rows,
           sum(rejected_storage) rejected_storage, sum(rejected_sessions) rejected_sessions,
           sum(validations) validations, sum(validation_failures) validation_failures,
           sum(rule_evaluations) rule_evaluations, sum(rows_inserted) rows_inserted,
           sum(rows_deleted) rows_deleted, sum(bytes_written) bytes_written
      FROM moved m GROUP BY 1, 2
  )
  INSERT INTO lowcode.tenant_usage_daily AS d
  SELECT tenant_id, day, requests, rejected_rate, rejected_rows, rejected_storage, rejected_sessions,
         validations, validation_failures, rule_evaluations, rows_inserted, rows_deleted, bytes_written
    FROM agg
  ON CONFLICT (tenant_id, day) DO UPDATE SET
    requests = d.requests + excluded.requests, rejected_rate = d.rejected_rate + excluded.rejected_rate,
    rejected_rows = d.rejected_rows + excluded.rejected_rows,
    rejected_storage = d.rejected_storage + excluded.rejected_storage,
    rejected_sessions = d.rejected_sessions + excluded.rejected_sessions,
    validations = d.validations + excluded.validations,
    validation_failures = d.validation_failures + excluded.validation_failures,
    rule_evaluations = d.rule_evaluations + excluded.rule_evaluations,
    rows_inserted = d.rows_inserted + excluded.rows_inserted, rows_deleted = d.rows_deleted + excluded.rows_deleted,
    bytes_written = d.bytes_written + excluded.bytes_written;
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM lowcode.tenant_usage_daily d WHERE d.day < (now() - keep_days)::date;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.rollup_usage(interval, interval) IS
  'Roll per-minute usage older than keep_minutes (whole UTC days) into tenant_usage_daily; delete daily rows older than keep_days.';

-- Delete outbox events past their deadline (and, when the registry's audit
-- log exists, audit rows older than audit_retention).
CREATE FUNCTION lowcode.run_retention(audit_retention interval DEFAULT interval '400 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  n bigint;
  m bigint := 0;
  k bigint;
  t text;
BEGIN
  -- a negative age would delete every audit row, including those written just now
  IF audit_retention < interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('run_retention: audit_retention must not be negative (got %s)', audit_retention);
  END IF;
  DELETE FROM lowcode.events e WHERE e.deadline < now();
  GET DIAGNOSTICS n = ROW_COUNT;
  -- the registry's audit log (created by a later install part, hence the dynamic SQL)
  FOREACH t IN ARRAY ARRAY['registry_audit'] LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = to_regclass('lowcode.' || t) AND a.attname = 'created_at' AND NOT a.attisdropped) THEN
      EXECUTE format('DELETE FROM lowcode.%I WHERE created_at < now() - $1', t) USING audit_retention;
      GET DIAGNOSTICS k = ROW_COUNT;
      m := m + k;
    END IF;
  END LOOP;
  RETURN n + m;
END
$$;
COMMENT ON FUNCTION lowcode.run_retention(interval) IS
  'Delete events past their deadline and audit rows older than audit_retention; returns the number of rows deleted.';
REVOKE ALL ON FUNCTION lowcode.rollup_usage(interval, interval), lowcode.run_retention(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.rollup_usage(interval, interval), lowcode.run_retention(interval) TO lowcode_operator;

-----------------------------------------------------------------------------
-- pg_cron maintenance
-----------------------------------------------------------------------------
-- The jobs, named lowcode:<database>:<job>.
CREATE FUNCTION lowcode.maintenance_jobs(rollup_schedule text DEFAULT '*/5 * * * *',
                                         reconcile_schedule text DEFAULT '17 * * * *',
                                         retention_schedule text DEFAULT '23 * * * *')
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  VALUES (format('lowcode:%s:usage-rollup', current_database()), rollup_schedule,
          'SELECT lowcode.flush_usage(); SELECT lowcode.rollup_usage()'),
         (format('lowcode:%s:storage-reconcile', current_database()), reconcile_schedule,
          'SELECT count(*) FROM lowcode.reconcile_storage()'),
         (format('lowcode:%s:retention', current_database()), retention_schedule,
          'SELECT lowcode.run_retention()')
$$;

-- Where pg_cron is: 'here', 'elsewhere' (another database, cron.database_name) or 'missing'.
CREATE FUNCTION lowcode.pg_cron_location() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN 'here'
    WHEN current_setting('cron.database_name', true) IS NOT NULL
         AND current_setting('cron.database_name', true) <> current_database() THEN 'elsewhere'
    ELSE 'missing' END
$$;

CREATE FUNCTION lowcode.schedule_maintenance(rollup_schedule text DEFAULT '*/5 * * * *',
                                             reconcile_schedule text DEFAULT '17 * * * *',
                                             retention_schedule text DEFAULT '23 * * * *')
RETURNS TABLE (job_name text, schedule text, jobid bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
#variable_conflict use_column
DECLARE
  j record;
  loc text := lowcode.pg_cron_location();
  id bigint;
BEGIN
  -- pg_cron answers a NULL schedule with an internal error (XX000)
  IF rollup_schedule IS NULL OR reconcile_schedule IS NULL OR retention_schedule IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'schedule_maintenance: a schedule must not be NULL';
  END IF;
  IF loc = 'missing' THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ003', MESSAGE = 'pg_cron is not installed',
      DETAIL = 'lowcode.schedule_maintenance() registers its jobs with pg_cron.',
      HINT = 'Install pg_cron (shared_preload_libraries = ''pg_cron'', cron.database_name), CREATE EXTENSION pg_cron, '
             'or run lowcode.flush_usage(), lowcode.rollup_usage(), lowcode.reconcile_storage() and lowcode.run_retention() from another scheduler.';
  ELSIF loc = 'elsewhere' THEN
    RAISE EXCEPTION USING ERRCODE = 'LQ004',
      MESSAGE = format('pg_cron lives in database %I, not in %I', current_setting('cron.database_name'), current_database()),
      DETAIL = 'pg_cron jobs can only be registered from its own database.',
      HINT = format('Run in database %I: %s', current_setting('cron.database_name'),
                    (SELECT string_agg(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                              m.job_name, m.schedule, m.command, current_database()), ' ')
                       FROM lowcode.maintenance_jobs(rollup_schedule, reconcile_schedule, retention_schedule) m));
  END IF;
  FOR j IN SELECT * FROM lowcode.maintenance_jobs(rollup_schedule, reconcile_schedule, retention_schedule) LOOP
    -- cron.schedule(name, ...) replaces a job of the same name and user:
    -- calling this again updates the jobs instead of adding more.
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)' INTO id
      USING j.job_name, j.schedule, j.command, current_database();
    job_name := j.job_name; schedule := j.schedule; jobid := id;
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.schedule_maintenance(text, text, text) IS
  'Register (or update) the pg_cron jobs of this database: usage flush and roll-up, storage reconciliation, retention.';

CREATE FUNCTION lowcode.unschedule_maintenance(quiet boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  loc text := lowcode.pg_cron_location();
  n bigint := 0;
  id bigint;
BEGIN
  IF loc <> 'here' THEN
    IF quiet AND loc = 'elsewhere' THEN
      -- called by the DROP EXTENSION guard: the jobs live in pg_cron's
      -- database, which cannot be changed from here
      RAISE WARNING 'the pg_cron jobs of database % remain in database %', current_database(),
        current_setting('cron.database_name')
        USING HINT = format('Run in database %I: SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE %L;',
                            current_setting('cron.database_name'), 'lowcode:' || current_database() || ':%');
      RETURN 0;
    ELSIF quiet THEN
      RETURN 0;
    END IF;
    IF loc = 'missing' THEN
      RAISE EXCEPTION USING ERRCODE = 'LQ003', MESSAGE = 'pg_cron is not installed',
        DETAIL = 'lowcode.unschedule_maintenance() removes jobs registered with pg_cron.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LQ004',
      MESSAGE = format('pg_cron lives in database %I, not in %I', current_setting('cron.database_name'), current_database()),
      HINT = format('Run in database %I: SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE %L;',
                    current_setting('cron.database_name'), 'lowcode:' || current_database() || ':%');
  END IF;
  FOR id IN EXECUTE 'SELECT jobid FROM cron.job WHERE jobname LIKE $1 AND database = $2'
      USING 'lowcode:' || replace(current_database(), '_', '\_') || ':%', current_database() LOOP
    EXECUTE 'SELECT cron.unschedule($1)' USING id;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.unschedule_maintenance(boolean) IS
  'Remove the pg_cron jobs of this database registered by schedule_maintenance(); returns how many.';
REVOKE ALL ON FUNCTION lowcode.schedule_maintenance(text, text, text), lowcode.unschedule_maintenance(boolean)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.schedule_maintenance(text, text, text), lowcode.unschedule_maintenance(boolean)
  TO lowcode_operator;

-- DROP EXTENSION pg_lowcode (or DROP SCHEMA lowcode CASCADE) removes the
-- jobs first; see lowcode_quota_drop_guard in src/quota/quota_sql.c.
CREATE FUNCTION lowcode.quota_drop_guard() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'lowcode_quota_drop_guard' LANGUAGE C;
CREATE EVENT TRIGGER lowcode_drop_guard ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
  EXECUTE FUNCTION lowcode.quota_drop_guard();

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('TABLE', 'lowcode.tenant_limits', 'SELECT'),
  ('TABLE', 'lowcode.tenant_usage', 'SELECT'),
  ('TABLE', 'lowcode.tenant_usage_daily', 'SELECT'),
  ('TABLE', 'lowcode.tenant_storage', 'SELECT'),
  ('TABLE', 'lowcode.tenant_stats', 'SELECT');
-- pg_lowcode install script, part 60: the tenant schema registry.
--
-- Subjects (named JSON document types, such as forms) and their versions,
-- compatibility modes, references between subjects, validation against a
-- registered version, form submissions, audit rows and events.
-- User documentation: docs/registry.md.  Error codes: docs/errors.md (Registry).
--
-- Scopes: a subject belongs to a tenant (tenant_id = the tenant) or is
-- global (tenant_id = the nil uuid, owned by the operator, readable by every
-- tenant).  Functions act in the caller's scope: the current tenant, or the
-- global scope for an operator calling without a tenant context.  A tenant
-- reads its own subjects first, then the global ones; another tenant's
-- subject is exactly as invisible as one that does not exist.
--
-- The functions that change the registry are SECURITY DEFINER (they write
-- audit rows and events the caller may not write directly) and therefore
-- filter every statement by the caller's scope explicitly.

-----------------------------------------------------------------------------
-- The compatibility diff (C, src/registry/reg_diff.c)
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.schema_diff(old_schema jsonb, new_schema jsonb, refs jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_schema_diff'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.schema_diff(jsonb, jsonb, jsonb) IS
  'Every change from old_schema to new_schema: [{"type","path","backward","forward"}]. refs maps absolute URIs to the documents $ref may reach.';

-- Tell every backend that registry content changed (a relcache invalidation
-- of lowcode.schema_versions, delivered at commit): they drop their cached
-- subject lookups before their next call.
CREATE FUNCTION lowcode.registry_invalidate() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_registry_invalidate'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.registry_invalidate() FROM PUBLIC;

-----------------------------------------------------------------------------
-- Helpers: scopes, actors, names
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.registry_global() RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
COMMENT ON FUNCTION lowcode.registry_global() IS
  'The tenant_id of global (operator-owned) registry rows: the nil uuid.';

-- The role that called: PostgREST's SET ROLE (authenticated...), else the login role.
-- (Inside SECURITY DEFINER functions current_user is the owner; the role GUC is not.)
CREATE FUNCTION lowcode.registry_actor_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN coalesce(current_setting('role', true), 'none') NOT IN ('none', '')
              THEN current_setting('role', true) ELSE session_user::text END
$$;

-- The end user: the "sub" claim of the JWT, when PostgREST set one (C: parsed
-- once per request, src/registry/registry_sql.c).
CREATE FUNCTION lowcode.registry_actor_sub() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_registry_actor_sub'
LANGUAGE C STABLE PARALLEL SAFE;

-- lowcode.current_trace_id(), parsed once per request (C).
CREATE FUNCTION lowcode.registry_trace_id() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_registry_trace_id'
LANGUAGE C STABLE PARALLEL SAFE;

-- Who, for created_by / deleted_by / updated_by: the end user, else the role.
CREATE FUNCTION lowcode.registry_actor() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT coalesce(lowcode.registry_actor_sub(), lowcode.registry_actor_role())
$$;

CREATE FUNCTION lowcode.registry_is_operator() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT pg_has_role(lowcode.registry_actor_role(), 'lowcode_operator', 'MEMBER')
$$;

-- The scope the caller writes to: its tenant, or the global scope for an operator without one.
CREATE FUNCTION lowcode.registry_scope() RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode AS $$
DECLARE
  t uuid := lowcode.current_tenant();
BEGIN
  IF t IS NOT NULL THEN
    RETURN t;
  END IF;
  IF lowcode.registry_is_operator() THEN
    RETURN lowcode.registry_global();
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LG006', MESSAGE = 'the schema registry needs a tenant context',
    DETAIL = 'lowcode.current_tenant() is NULL and the caller is not a platform operator.',
    HINT = 'Call it through PostgREST with a tenant_id claim, or as a member of lowcode_operator for global subjects.';
END
$$;

CREATE FUNCTION lowcode.registry_check_subject_name(subject text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
  IF subject IS NULL OR subject !~ '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LG001',
      MESSAGE = format('invalid subject name %s', coalesce(quote_literal(subject), 'NULL')),
      DETAIL = 'A subject name is 1 to 128 characters: an ASCII letter, then letters, digits, "_", "." or "-".',
      HINT = 'For example: customer-onboarding or common.address';
  END IF;
END
$$;

CREATE FUNCTION lowcode.registry_check_mode(mode text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
  IF mode IS NULL OR upper(mode) NOT IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
                                         'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE') THEN
    RAISE EXCEPTION USING ERRCODE = 'LG005',
      MESSAGE = format('invalid compatibility mode %s', coalesce(quote_literal(mode), 'NULL')),
      HINT = 'One of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.';
  END IF;
  RETURN upper(mode);
END
$$;

-- Raise a registry error for HTTP clients (PGRST form) with a JSON details text.
CREATE FUNCTION lowcode.registry_raise(status int, code text, message text, details jsonb DEFAULT NULL,
                                       hint text DEFAULT NULL)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, lowcode AS $$
  SELECT lowcode.raise_http(status, code, message, details::text, hint, NULL)
$$;

-----------------------------------------------------------------------------
-- Tables
-----------------------------------------------------------------------------

-- Compatibility mode of a tenant (or, for the nil uuid, of the platform).
CREATE TABLE lowcode.registry_settings (
  tenant_id     uuid PRIMARY KEY,
  compatibility text NOT NULL CHECK (compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
                                                       'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  updated_by    text NOT NULL
);
COMMENT ON TABLE lowcode.registry_settings IS
  'Registry compatibility mode per tenant; the row of the nil uuid is the platform default (else BACKWARD).';

CREATE TABLE lowcode.subjects (
  tenant_id     uuid NOT NULL,
  name          text NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,127}$'),
  compatibility text CHECK (compatibility IN ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
                                              'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE lowcode.subjects IS
  'Registry subjects (forms, document types). tenant_id is the nil uuid for global subjects.';

CREATE TABLE lowcode.schema_versions (
  tenant_id   uuid NOT NULL,
  subject     text NOT NULL,
  version     integer NOT NULL CHECK (version > 0),
  schema      jsonb NOT NULL,
  fingerprint text NOT NULL,
  state       text NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'deprecated', 'disabled')),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  deleted_at  timestamptz,
  deleted_by  text,
  PRIMARY KEY (tenant_id, subject, version),
  FOREIGN KEY (tenant_id, subject) REFERENCES lowcode.subjects (tenant_id, name)
);
-- identical content registers once (among versions not deleted)
CREATE UNIQUE INDEX schema_versions_fingerprint_idx ON lowcode.schema_versions (tenant_id, subject, fingerprint)
  WHERE deleted_at IS NULL;
COMMENT ON TABLE lowcode.schema_versions IS
  'Immutable schema versions of registry subjects; state and soft deletion are the only changes allowed.';

-- Which registered version references which subject ($ref to lowcode:subject[/version]).
CREATE TABLE lowcode.schema_references (
  tenant_id      uuid NOT NULL,
  subject        text NOT NULL,
  version        integer NOT NULL,
  uri            text NOT NULL,
  ref_tenant_id  uuid NOT NULL,
  ref_subject    text NOT NULL,
  ref_version    integer,          -- NULL: the latest enabled version
  PRIMARY KEY (tenant_id, subject, version, uri),
  FOREIGN KEY (tenant_id, subject, version) REFERENCES lowcode.schema_versions (tenant_id, subject, version)
    ON DELETE CASCADE
);
CREATE INDEX schema_references_target_idx ON lowcode.schema_references (ref_tenant_id, ref_subject, ref_version);

CREATE TABLE lowcode.registry_audit (
  tenant_id  uuid NOT NULL,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  created_at timestamptz NOT NULL DEFAULT now(),
  actor_role text NOT NULL,
  actor_sub  text,
  action     text NOT NULL,
  subject    text,
  version    integer,
  details    jsonb NOT NULL DEFAULT '{}',
  trace_id   text,
  PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE lowcode.registry_audit IS
  'One row per registry change and per submission: who (role and JWT sub), what, when, and the W3C trace id.';

CREATE TABLE lowcode.submissions (
  tenant_id  uuid NOT NULL DEFAULT lowcode.current_tenant(),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  subject    text NOT NULL,
  version    integer,              -- pinned at insert: the latest enabled version when not given
  data       jsonb NOT NULL,
  status     text NOT NULL DEFAULT 'submitted' CHECK (status ~ '^[a-z][a-z0-9_]{0,62}$'),
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz,
  trace_id   text,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX submissions_subject_idx ON lowcode.submissions (tenant_id, subject, version);
COMMENT ON TABLE lowcode.submissions IS
  'Form submissions: data validated against the pinned registry version on INSERT and UPDATE.';

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['registry_settings', 'subjects', 'schema_versions', 'schema_references',
                           'registry_audit', 'submissions'] LOOP
    EXECUTE format('ALTER TABLE lowcode.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE lowcode.%I FORCE ROW LEVEL SECURITY', t);
    PERFORM pg_catalog.pg_extension_config_dump(format('lowcode.%I', t)::regclass, '');
  END LOOP;
  -- identity sequences too, so that a restored database goes on numbering after the restored rows
  FOREACH t IN ARRAY ARRAY['registry_audit', 'submissions'] LOOP
    PERFORM pg_catalog.pg_extension_config_dump(
      pg_catalog.pg_get_serial_sequence(format('lowcode.%I', t), 'id')::regclass, '');
  END LOOP;
END
$$;

-- A tenant reads its own rows and the global ones; it writes nothing here directly
-- (the registry functions do), except submissions.
CREATE POLICY registry_settings_read ON lowcode.registry_settings FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY subjects_read ON lowcode.subjects FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY schema_versions_read ON lowcode.schema_versions FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY schema_references_read ON lowcode.schema_references FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY registry_audit_read ON lowcode.registry_audit FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY submissions_select ON lowcode.submissions FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY submissions_insert ON lowcode.submissions FOR INSERT
  WITH CHECK (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY submissions_update ON lowcode.submissions FOR UPDATE
  USING (tenant_id = (SELECT lowcode.current_tenant()))
  WITH CHECK (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY submissions_delete ON lowcode.submissions FOR DELETE
  USING (tenant_id = (SELECT lowcode.current_tenant()));

-- Versions are immutable: only the state and the soft deletion may change.
CREATE FUNCTION lowcode.schema_versions_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
BEGIN
  IF (NEW.tenant_id, NEW.subject, NEW.version, NEW.schema, NEW.fingerprint, NEW.description,
      NEW.created_at, NEW.created_by)
     IS DISTINCT FROM
     (OLD.tenant_id, OLD.subject, OLD.version, OLD.schema, OLD.fingerprint, OLD.description,
      OLD.created_at, OLD.created_by) THEN
    RAISE EXCEPTION USING ERRCODE = 'LG007',
      MESSAGE = format('version %s of subject %s is immutable', OLD.version, OLD.subject),
      HINT = 'Register a new version instead.';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER schema_versions_immutable BEFORE UPDATE ON lowcode.schema_versions
  FOR EACH ROW EXECUTE FUNCTION lowcode.schema_versions_immutable();

-----------------------------------------------------------------------------
-- Audit and events
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.registry_record(tenant uuid, action text, subject text, version integer,
                                        details jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  INSERT INTO lowcode.registry_audit (tenant_id, actor_role, actor_sub, action, subject, version, details, trace_id)
  VALUES (tenant, lowcode.registry_actor_role(), lowcode.registry_actor_sub(), action, subject, version,
          coalesce(details, '{}'), lowcode.registry_trace_id());
  PERFORM lowcode.emit_event(tenant, 'registry.' || action,
                             jsonb_build_object('subject', subject, 'version', version) || coalesce(details, '{}'));
END
$$;
REVOKE ALL ON FUNCTION lowcode.registry_record(uuid, text, text, integer, jsonb) FROM PUBLIC;

-----------------------------------------------------------------------------
-- Resolution
-----------------------------------------------------------------------------

-- The owner of the subject a scope sees under this name: the scope itself,
-- else the global scope; NULL when it sees none.
CREATE FUNCTION lowcode.registry_owner(scope uuid, subject text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  SELECT s.tenant_id FROM lowcode.subjects s
   WHERE s.name = subject AND s.tenant_id IN (scope, lowcode.registry_global())
   ORDER BY s.tenant_id = scope DESC
   LIMIT 1
$$;
REVOKE ALL ON FUNCTION lowcode.registry_owner(uuid, text) FROM PUBLIC;

-- One version as a scope sees it: the latest enabled one when version is NULL,
-- else that number (soft-deleted versions stay resolvable by number).
CREATE FUNCTION lowcode.registry_lookup(scope uuid, subject text, version integer)
RETURNS lowcode.schema_versions
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  SELECT v.* FROM lowcode.schema_versions v
   WHERE v.tenant_id = lowcode.registry_owner(scope, subject) AND v.subject = registry_lookup.subject
     AND CASE WHEN registry_lookup.version IS NULL THEN v.state = 'enabled' AND v.deleted_at IS NULL
              ELSE v.version = registry_lookup.version END
   ORDER BY v.version DESC
   LIMIT 1
$$;
REVOKE ALL ON FUNCTION lowcode.registry_lookup(uuid, text, integer) FROM PUBLIC;

-- Reference URIs: lowcode:<subject> (latest enabled version) or lowcode:<subject>/<version>.
CREATE FUNCTION lowcode.registry_parse_uri(uri text, OUT subject text, OUT version integer)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT m[1], m[2]::integer
    FROM regexp_match(uri, '^lowcode:([A-Za-z][A-Za-z0-9_.-]{0,127})(?:/([1-9][0-9]{0,8}))?$') m
$$;

-- The document store's loader (src/registry/registry_store.c) resolves
-- lowcode: URIs through this, as the caller sees subjects: its tenant's
-- first, then global ones; NULL when it sees none.
CREATE FUNCTION lowcode.registry_load_document(uri text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  SELECT (lowcode.registry_lookup(coalesce(lowcode.current_tenant(), lowcode.registry_global()), p.subject, p.version)).schema
    FROM lowcode.registry_parse_uri(uri) p
   WHERE p.subject IS NOT NULL
$$;

-- The lowcode: URIs (without fragment) a schema's "$ref"s name.
CREATE FUNCTION lowcode.registry_ref_uris(schema jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
  SELECT coalesce(array_agg(DISTINCT split_part(r #>> '{}', '#', 1)), '{}')
    FROM jsonb_path_query(schema, 'strict $.**."$ref"') r
   WHERE jsonb_typeof(r) = 'string' AND r #>> '{}' LIKE 'lowcode:%'
$$;

-- Every document the schemas reach through lowcode: references, transitively,
-- as the scope sees them: {"lowcode:address": {...}, ...}.  Unresolvable ones are left out.
CREATE FUNCTION lowcode.registry_collect_refs(scope uuid, schemas jsonb[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  WITH RECURSIVE r(uri, schema) AS (
    SELECT u, (lowcode.registry_lookup(scope, p.subject, p.version)).schema
      FROM unnest(schemas) s, unnest(lowcode.registry_ref_uris(s)) u, lowcode.registry_parse_uri(u) p
    UNION
    SELECT u, (lowcode.registry_lookup(scope, p.subject, p.version)).schema
      FROM r, unnest(lowcode.registry_ref_uris(r.schema)) u, lowcode.registry_parse_uri(u) p
     WHERE r.schema IS NOT NULL
  )
  SELECT coalesce(jsonb_object_agg(uri, schema) FILTER (WHERE schema IS NOT NULL), '{}') FROM r
$$;
REVOKE ALL ON FUNCTION lowcode.registry_collect_refs(uuid, jsonb[]) FROM PUBLIC;


-----------------------------------------------------------------------------
-- Compatibility
-----------------------------------------------------------------------------

-- The mode of a subject: its own, else its tenant's, else the platform's, else BACKWARD.
CREATE FUNCTION lowcode.registry_mode(owner uuid, subject text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
  SELECT coalesce(
    (SELECT s.compatibility FROM lowcode.subjects s WHERE s.tenant_id = owner AND s.name = subject),
    (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = owner),
    (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = lowcode.registry_global()),
    'BACKWARD')
$$;
REVOKE ALL ON FUNCTION lowcode.registry_mode(uuid, text) FROM PUBLIC;

-- The compatibility report of a candidate schema for a subject of the scope.
CREATE FUNCTION lowcode.registry_compatibility(scope uuid, subject text, schema jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  mode text := lowcode.registry_mode(scope, subject);
  transitive boolean := mode LIKE '%_TRANSITIVE';
  refs jsonb;
  changes jsonb := '[]';
  v record;
BEGIN
  refs := lowcode.registry_collect_refs(scope,
            ARRAY[schema] || ARRAY(SELECT x.schema FROM lowcode.schema_versions x
                                    WHERE x.tenant_id = scope AND x.subject = registry_compatibility.subject
                                      AND x.deleted_at IS NULL));
  FOR v IN
    SELECT x.version, x.schema FROM lowcode.schema_versions x
     WHERE x.tenant_id = scope AND x.subject = registry_compatibility.subject AND x.deleted_at IS NULL
     ORDER BY x.version DESC
  LOOP
    changes := changes || coalesce((
      SELECT jsonb_agg(jsonb_build_object(
               'type', c ->> 'type', 'path', c ->> 'path',
               'compatible', CASE
                  WHEN mode = 'NONE' THEN true
                  WHEN mode LIKE 'BACKWARD%' THEN (c -> 'backward')::boolean
                  WHEN mode LIKE 'FORWARD%' THEN (c -> 'forward')::boolean
                  ELSE (c -> 'backward')::boolean AND (c -> 'forward')::boolean END,
               'against_version', v.version) ORDER BY ord)
        FROM jsonb_array_elements(lowcode.schema_diff(v.schema, schema, refs)) WITH ORDINALITY AS d(c, ord)), '[]');
    EXIT WHEN NOT transitive;
  END LOOP;
  RETURN jsonb_build_object(
    'compatible', NOT EXISTS (SELECT 1 FROM jsonb_array_elements(changes) c WHERE NOT (c -> 'compatible')::boolean),
    'mode', mode,
    'changes', changes);
END
$$;
REVOKE ALL ON FUNCTION lowcode.registry_compatibility(uuid, text, jsonb) FROM PUBLIC;

CREATE FUNCTION lowcode.check_compatibility(subject text, schema jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  IF schema IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LG011', MESSAGE = 'the schema must not be NULL';
  END IF;
  RETURN lowcode.registry_compatibility(scope, subject, schema);
END
$$;
COMMENT ON FUNCTION lowcode.check_compatibility(text, jsonb) IS
  'Would this schema be accepted as a new version of the subject? {"compatible","mode","changes":[{"type","path","compatible","against_version"}]}; registers nothing.';

-----------------------------------------------------------------------------
-- Registering and managing versions
-----------------------------------------------------------------------------

-- The subject of the caller's own scope, locked for a change; NULL when it has none.
CREATE FUNCTION lowcode.registry_lock_subject(scope uuid, subject text, create_missing boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
BEGIN
  PERFORM 1 FROM lowcode.subjects s WHERE s.tenant_id = scope AND s.name = subject FOR UPDATE;
  IF FOUND THEN
    RETURN true;
  END IF;
  IF NOT create_missing THEN
    RETURN false;
  END IF;
  -- a tenant cannot take the name of a global subject (every tenant sees those, so this reveals nothing)
  IF scope <> lowcode.registry_global()
     AND EXISTS (SELECT 1 FROM lowcode.subjects s WHERE s.tenant_id = lowcode.registry_global() AND s.name = subject) THEN
    RAISE EXCEPTION USING ERRCODE = 'LG014',
      MESSAGE = format('subject %s is a global subject', subject),
      HINT = 'Global subjects are managed by the platform operator; choose another name for your own subject.';
  END IF;
  INSERT INTO lowcode.subjects (tenant_id, name, created_by)
  VALUES (scope, subject, lowcode.registry_actor()) ON CONFLICT DO NOTHING;
  PERFORM 1 FROM lowcode.subjects s WHERE s.tenant_id = scope AND s.name = subject FOR UPDATE;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION lowcode.registry_lock_subject(uuid, text, boolean) FROM PUBLIC;

CREATE FUNCTION lowcode.registry_not_found(subject text, version integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
BEGIN
  IF version IS NULL THEN
    PERFORM lowcode.registry_raise(404, 'LG002', format('subject %s not found', subject), NULL,
                                   'The subject does not exist or has no enabled version.');
  ELSE
    PERFORM lowcode.registry_raise(404, 'LG003', format('version %s of subject %s not found', version, subject));
  END IF;
END
$$;

CREATE FUNCTION lowcode.register_schema(subject text, schema jsonb, description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
  fp text;
  existing integer;
  report jsonb;
  check_result jsonb;
  new_version integer;
  u text;
  p record;
  target lowcode.schema_versions;
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  IF schema IS NULL OR jsonb_typeof(schema) NOT IN ('object', 'boolean') THEN
    PERFORM lowcode.registry_raise(422, 'LG011', format('the schema of subject %s must be a JSON object or boolean', subject));
  END IF;
  IF description IS NOT NULL AND length(description) > 10000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LG011', MESSAGE = 'a version description is at most 10000 characters';
  END IF;
  PERFORM lowcode.registry_lock_subject(scope, subject, true);

  -- identical content registers once
  fp := encode(sha256(convert_to(schema::text, 'UTF8')), 'hex');
  SELECT v.version INTO existing FROM lowcode.schema_versions v
   WHERE v.tenant_id = scope AND v.subject = register_schema.subject AND v.fingerprint = fp AND v.deleted_at IS NULL;
  IF FOUND THEN
    RETURN existing;
  END IF;

  -- every lowcode: reference must resolve (another tenant's subject does not)
  FOREACH u IN ARRAY lowcode.registry_ref_uris(schema) LOOP
    SELECT * INTO p FROM lowcode.registry_parse_uri(u);
    IF p.subject IS NULL THEN
      PERFORM lowcode.registry_raise(422, 'LG011', format('invalid registry reference %s in the schema of subject %s', u, subject),
        NULL, 'References to registry subjects are lowcode:<subject> or lowcode:<subject>/<version>.');
    END IF;
    target := lowcode.registry_lookup(scope, p.subject, p.version);
    IF target.version IS NULL OR (p.version IS NOT NULL AND target.deleted_at IS NOT NULL) THEN
      PERFORM lowcode.registry_raise(422, 'LG011', format('the schema of subject %s references %s, which does not exist', subject, u),
        NULL, 'Register the referenced subject first.');
    END IF;
  END LOOP;

  -- the schema itself must be valid (against its draft's metaschema, with its references)
  -- (its lowcode: references are resolved by the registry's document store loader,
  -- as the caller sees subjects)
  -- at most 100 errors in the details: an unbounded list for a schema with 100,000 bad
  -- properties exceeds jsonb's size limit (54000) instead of answering LG011
  check_result := lowcode.jsonschema_check(schema, '{"max_errors": 100}');
  IF NOT (check_result ->> 'valid')::boolean THEN
    PERFORM lowcode.registry_raise(422, 'LG011', format('the schema of subject %s is not a valid JSON Schema', subject),
      check_result -> 'errors');
  END IF;
  PERFORM lowcode.registry_check_rules(schema, subject);

  report := lowcode.registry_compatibility(scope, subject, schema);
  IF NOT (report ->> 'compatible')::boolean THEN
    PERFORM lowcode.registry_raise(409, 'LG004',
      format('schema is incompatible with subject %s (mode %s)', subject, report ->> 'mode'),
      (SELECT jsonb_agg(c) FROM jsonb_array_elements(report -> 'changes') c WHERE NOT (c -> 'compatible')::boolean),
      'Make the change compatible, or change the subject''s mode with lowcode.set_compatibility().');
  END IF;

  SELECT coalesce(max(v.version), 0) + 1 INTO new_version FROM lowcode.schema_versions v
   WHERE v.tenant_id = scope AND v.subject = register_schema.subject;
  INSERT INTO lowcode.schema_versions (tenant_id, subject, version, schema, fingerprint, description, created_by)
  VALUES (scope, subject, new_version, schema, fp, description, lowcode.registry_actor());

  FOREACH u IN ARRAY lowcode.registry_ref_uris(schema) LOOP
    SELECT * INTO p FROM lowcode.registry_parse_uri(u);
    INSERT INTO lowcode.schema_references (tenant_id, subject, version, uri, ref_tenant_id, ref_subject, ref_version)
    VALUES (scope, subject, new_version, u, lowcode.registry_owner(scope, p.subject), p.subject, p.version);
  END LOOP;

  PERFORM lowcode.registry_record(scope, 'schema_registered', subject, new_version,
                                  jsonb_build_object('fingerprint', fp));
  PERFORM lowcode.registry_invalidate();
  RETURN new_version;
END
$$;
COMMENT ON FUNCTION lowcode.register_schema(text, jsonb, text) IS
  'Register a schema as the next version of a subject of the caller''s scope (or return the version with identical content). Incompatible schemas are refused (HTTP 409).';

CREATE FUNCTION lowcode.get_schema(subject text, version integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  v lowcode.schema_versions;
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  v := lowcode.registry_lookup(lowcode.registry_scope(), subject, version);
  IF v.version IS NULL THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  RETURN v.schema;
END
$$;
COMMENT ON FUNCTION lowcode.get_schema(text, integer) IS
  'The schema of a version of a subject (own or global): the latest enabled one when version is NULL.';

CREATE FUNCTION lowcode.set_compatibility(subject text, mode text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
  m text := CASE WHEN mode IS NULL THEN NULL ELSE lowcode.registry_check_mode(mode) END;
BEGIN
  IF subject IS NULL THEN
    -- the tenant's mode (or, for an operator without a tenant, the platform's)
    IF m IS NULL THEN
      DELETE FROM lowcode.registry_settings WHERE tenant_id = scope;
    ELSE
      INSERT INTO lowcode.registry_settings (tenant_id, compatibility, updated_by)
      VALUES (scope, m, lowcode.registry_actor())
      ON CONFLICT (tenant_id) DO UPDATE SET compatibility = EXCLUDED.compatibility,
        updated_at = now(), updated_by = EXCLUDED.updated_by;
    END IF;
  ELSE
    PERFORM lowcode.registry_check_subject_name(subject);
    PERFORM lowcode.registry_lock_subject(scope, subject, true);
    UPDATE lowcode.subjects s SET compatibility = m WHERE s.tenant_id = scope AND s.name = subject;
  END IF;
  PERFORM lowcode.registry_record(scope, 'compatibility_set', subject, NULL, jsonb_build_object('mode', m));
END
$$;
COMMENT ON FUNCTION lowcode.set_compatibility(text, text) IS
  'Set the compatibility mode of a subject, or with a NULL subject of the tenant (of the platform for an operator without tenant); a NULL mode inherits.';

CREATE FUNCTION lowcode.registry_own_version(scope uuid, subject text, version integer)
RETURNS lowcode.schema_versions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  v lowcode.schema_versions;
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  IF version IS NULL THEN
    -- registry_not_found(subject, NULL) would say "subject not found" of a subject that exists
    PERFORM lowcode.registry_raise(404, 'LG003', format('version NULL of subject %s not found', subject), NULL,
                                   'Name the version: this function does not default to the latest.');
  END IF;
  IF NOT lowcode.registry_lock_subject(scope, subject, false) THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  SELECT * INTO v FROM lowcode.schema_versions x
   WHERE x.tenant_id = scope AND x.subject = registry_own_version.subject AND x.version = registry_own_version.version
   FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  RETURN v;
END
$$;
REVOKE ALL ON FUNCTION lowcode.registry_own_version(uuid, text, integer) FROM PUBLIC;

CREATE FUNCTION lowcode.set_schema_state(subject text, version integer, state text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
  v lowcode.schema_versions;
BEGIN
  IF state IS NULL OR state NOT IN ('enabled', 'deprecated', 'disabled') THEN
    RAISE EXCEPTION USING ERRCODE = 'LG016', MESSAGE = format('invalid version state %s', coalesce(quote_literal(state), 'NULL')),
      HINT = 'One of enabled, deprecated, disabled.';
  END IF;
  v := lowcode.registry_own_version(scope, subject, version);
  IF v.deleted_at IS NOT NULL THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  IF v.state = state THEN
    RETURN;
  END IF;
  UPDATE lowcode.schema_versions x SET state = set_schema_state.state
   WHERE x.tenant_id = scope AND x.subject = set_schema_state.subject AND x.version = set_schema_state.version;
  PERFORM lowcode.registry_record(scope, CASE state WHEN 'enabled' THEN 'schema_enabled'
                                                    WHEN 'deprecated' THEN 'schema_deprecated'
                                                    ELSE 'schema_disabled' END,
                                  subject, version, jsonb_build_object('previous_state', v.state));
  PERFORM lowcode.registry_invalidate();
END
$$;
COMMENT ON FUNCTION lowcode.set_schema_state(text, integer, text) IS
  'Enable, deprecate or disable a version. Deprecated versions still validate when asked for by number; disabled ones do not.';

CREATE FUNCTION lowcode.deprecate_schema(subject text, version integer) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, lowcode AS $$
  SELECT lowcode.set_schema_state(subject, version, 'deprecated')
$$;
COMMENT ON FUNCTION lowcode.deprecate_schema(text, integer) IS
  'Deprecate a version: no longer the latest for new submissions; still valid by number.';

CREATE FUNCTION lowcode.delete_schema(subject text, version integer, permanent boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
  v lowcode.schema_versions;
  referrer record;
BEGIN
  v := lowcode.registry_own_version(scope, subject, version);

  -- referenced by number, or by lowcode:<subject> while it is the last version left
  SELECT r.tenant_id, r.subject, r.version, r.uri INTO referrer
    FROM lowcode.schema_references r
    JOIN lowcode.schema_versions rv ON (rv.tenant_id, rv.subject, rv.version) = (r.tenant_id, r.subject, r.version)
   WHERE r.ref_tenant_id = scope AND r.ref_subject = delete_schema.subject AND rv.deleted_at IS NULL
     AND (r.ref_version = delete_schema.version
          OR (r.ref_version IS NULL AND v.deleted_at IS NULL AND v.state = 'enabled' AND NOT EXISTS (
                SELECT 1 FROM lowcode.schema_versions o
                 WHERE o.tenant_id = scope AND o.subject = delete_schema.subject
                   AND o.version <> delete_schema.version AND o.state = 'enabled' AND o.deleted_at IS NULL)))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LG008',
      MESSAGE = format('version %s of subject %s is referenced by another schema', version, subject),
      -- a tenant's schemas that reference a global subject stay private
      DETAIL = CASE WHEN referrer.tenant_id = scope
                    THEN format('Version %s of subject %s references it as %s.', referrer.version, referrer.subject, referrer.uri)
                    ELSE 'A schema of another scope references it.' END,
      HINT = 'Delete or replace the referencing versions first.';
  END IF;

  IF NOT permanent THEN
    IF v.deleted_at IS NULL THEN
      UPDATE lowcode.schema_versions x SET deleted_at = now(), deleted_by = lowcode.registry_actor()
       WHERE x.tenant_id = scope AND x.subject = delete_schema.subject AND x.version = delete_schema.version;
      PERFORM lowcode.registry_record(scope, 'schema_deleted', subject, version, '{"permanent": false}');
      PERFORM lowcode.registry_invalidate();
    END IF;
    RETURN;
  END IF;

  IF v.deleted_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LG009',
      MESSAGE = format('version %s of subject %s must be deleted softly before it is deleted permanently', version, subject),
      HINT = 'Call lowcode.delete_schema(subject, version) first.';
  END IF;
  IF EXISTS (SELECT 1 FROM lowcode.submissions s
              WHERE s.tenant_id = scope AND s.subject = delete_schema.subject AND s.version = delete_schema.version) THEN
    RAISE EXCEPTION USING ERRCODE = 'LG008',
      MESSAGE = format('version %s of subject %s is pinned by submissions', version, subject),
      HINT = 'Submissions keep the version they were validated against; delete them first.';
  END IF;
  DELETE FROM lowcode.schema_versions x
   WHERE x.tenant_id = scope AND x.subject = delete_schema.subject AND x.version = delete_schema.version;
  PERFORM lowcode.registry_record(scope, 'schema_deleted', subject, version, '{"permanent": true}');
  PERFORM lowcode.registry_invalidate();
END
$$;
COMMENT ON FUNCTION lowcode.delete_schema(text, integer, boolean) IS
  'Soft-delete a version (hidden, still resolvable by number), or permanently delete a soft-deleted one. Referenced versions cannot be deleted.';

-----------------------------------------------------------------------------
-- Validation
-----------------------------------------------------------------------------

-- Cross-field rules: "x-rules": [{"rule": "<CEL>", "message": "...", "path": "/end_date"}]
-- at the root of a schema or of subschemas reached through "properties".
CREATE FUNCTION lowcode.registry_check_rules(schema jsonb, subject text, base text DEFAULT '') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
DECLARE
  r jsonb;
  i integer := 0;
  k text;
  s jsonb;
  chk jsonb;
BEGIN
  IF jsonb_typeof(schema) <> 'object' THEN
    RETURN;
  END IF;
  IF schema ? 'x-rules' THEN
    IF jsonb_typeof(schema -> 'x-rules') <> 'array' THEN
      PERFORM lowcode.registry_raise(422, 'LG011', format('x-rules of subject %s at %s must be an array', subject, base || '/x-rules'));
    END IF;
    FOR r IN SELECT * FROM jsonb_array_elements(schema -> 'x-rules') LOOP
      IF jsonb_typeof(r) <> 'object' OR jsonb_typeof(r -> 'rule') IS DISTINCT FROM 'string'
         OR (r ? 'message' AND jsonb_typeof(r -> 'message') <> 'string')
         OR (r ? 'path' AND (jsonb_typeof(r -> 'path') <> 'string' OR (r ->> 'path') !~ '^(/.*)?$')) THEN
        PERFORM lowcode.registry_raise(422, 'LG011',
          format('x-rules item %s of subject %s must be {"rule": <CEL text>, "message": <text>, "path": <JSON Pointer>}', base || '/x-rules/' || i, subject));
      END IF;
      chk := lowcode.rule_check(r ->> 'rule');
      IF NOT (chk ->> 'valid')::boolean THEN
        PERFORM lowcode.registry_raise(422, 'LG011',
          format('x-rules item %s of subject %s is not a valid CEL expression', base || '/x-rules/' || i, subject),
          chk -> 'errors');
      END IF;
      i := i + 1;
    END LOOP;
  END IF;
  IF jsonb_typeof(schema -> 'properties') = 'object' THEN
    FOR k, s IN SELECT * FROM jsonb_each(schema -> 'properties') LOOP
      PERFORM lowcode.registry_check_rules(s, subject, base || '/properties/' || replace(replace(k, '~', '~0'), '/', '~1'));
    END LOOP;
  END IF;
END
$$;

-- The version a new validation or submission uses (latest enabled when NULL); errors when unusable.
CREATE FUNCTION lowcode.registry_usable_version(scope uuid, subject text, version integer)
RETURNS lowcode.schema_versions
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  v lowcode.schema_versions;
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  v := lowcode.registry_lookup(scope, subject, version);
  IF v.version IS NULL OR v.deleted_at IS NOT NULL THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  IF v.state = 'disabled' THEN
    PERFORM lowcode.registry_raise(409, 'LG013', format('version %s of subject %s is disabled', v.version, subject));
  END IF;
  RETURN v;
END
$$;
REVOKE ALL ON FUNCTION lowcode.registry_usable_version(uuid, text, integer) FROM PUBLIC;

-- What the C validator (src/registry/registry_validate.c) compiles and caches
-- for a subject: the version, its schema, and the schema again when it has x-rules.
CREATE FUNCTION lowcode.registry_validation_target(subject text, requested integer,
                                                   OUT version integer, OUT schema jsonb, OUT rules_schema jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  scope uuid := lowcode.registry_scope();
  v lowcode.schema_versions := lowcode.registry_usable_version(scope, subject, requested);
BEGIN
  version := v.version;
  schema := v.schema;
  rules_schema := CASE WHEN v.schema::text LIKE '%"x-rules"%' THEN v.schema END;
END
$$;

CREATE FUNCTION lowcode.registry_validate_c(subject text, instance jsonb, version integer, with_version boolean)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_registry_validate'
LANGUAGE C STABLE;
COMMENT ON FUNCTION lowcode.registry_validate_c(text, jsonb, integer, boolean) IS
  'lowcode.validate() in C, with the backend cache of compiled versions; with_version adds "version" to the result.';

CREATE FUNCTION lowcode.registry_cache_stats() RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_registry_cache_stats'
LANGUAGE C STABLE;

CREATE FUNCTION lowcode.validate(subject text, instance jsonb, version integer DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_registry_validate'
LANGUAGE C STABLE;
COMMENT ON FUNCTION lowcode.validate(text, jsonb, integer) IS
  'Validate an instance against a version of a subject (latest enabled when NULL): {"valid","errors"} as jsonschema_validate, x-rules included.';

-----------------------------------------------------------------------------
-- Submissions
-----------------------------------------------------------------------------
-- The validation trigger (C, src/registry/registry_validate.c): for
-- lowcode.submissions ('submissions': tenant check first, stamps, version pinning,
-- validation) and for columns under attach_validation ('column', col, subject).
-- Invalid data raises LG012 (HTTP 422) with the full error list.
CREATE FUNCTION lowcode.registry_validate_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_registry_validate_trigger'
LANGUAGE C;

CREATE TRIGGER submissions_validate BEFORE INSERT OR UPDATE ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.registry_validate_trigger('submissions');

-- Audit rows and events of submissions, written once per statement for all its
-- rows (the same rows and NOTIFYs as lowcode.registry_record/emit_event would write).
CREATE FUNCTION lowcode.submissions_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  action text := CASE TG_OP WHEN 'INSERT' THEN 'submission_created' ELSE 'submission_updated' END;
  role text := lowcode.registry_actor_role();
  sub text := lowcode.registry_actor_sub();
  trace text := lowcode.registry_trace_id();
  notified bigint;
BEGIN
  -- rows written by a superuser without a tenant context (pg_restore) are not new submissions
  IF lowcode.current_tenant() IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO lowcode.registry_audit (tenant_id, actor_role, actor_sub, action, subject, version, details, trace_id)
  SELECT n.tenant_id, role, sub, action, n.subject, n.version, jsonb_build_object('id', n.id, 'status', n.status), trace
    FROM new_rows n ORDER BY n.id;
  WITH ins AS (
    INSERT INTO lowcode.events (tenant_id, type, payload, trace_id)
    SELECT n.tenant_id, 'registry.' || action,
           jsonb_build_object('subject', n.subject, 'version', n.version, 'id', n.id, 'status', n.status), trace
      FROM new_rows n ORDER BY n.id
    RETURNING tenant_id, id, type)
  SELECT count(pg_notify('lowcode_events', json_build_object('tenant_id', e.tenant_id, 'id', e.id, 'type', e.type)::text))
    INTO notified
    FROM (SELECT * FROM ins ORDER BY id) e;
  RETURN NULL;
END
$$;
CREATE TRIGGER submissions_record_insert AFTER INSERT ON lowcode.submissions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lowcode.submissions_record();
CREATE TRIGGER submissions_record_update AFTER UPDATE ON lowcode.submissions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lowcode.submissions_record();

CREATE FUNCTION lowcode.submit(subject text, data jsonb, version integer DEFAULT NULL) RETURNS jsonb
LANGUAGE sql SET search_path = pg_catalog, lowcode AS $$
  INSERT INTO lowcode.submissions (subject, version, data) VALUES (subject, version, data)
  RETURNING jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status,
                               'created_at', created_at)
$$;
COMMENT ON FUNCTION lowcode.submit(text, jsonb, integer) IS
  'Submit form data: validated against the subject''s latest enabled version (or the given one); HTTP 422 with every error when invalid.';

CREATE FUNCTION lowcode.attach_validation(tbl regclass, col name, subject text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
DECLARE
  typ regtype;
  trg text;
BEGIN
  IF tbl IS NULL OR col IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LG015', MESSAGE = 'attach_validation: the table and the column must not be NULL';
  END IF;
  PERFORM lowcode.registry_check_subject_name(subject);
  SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LG015', MESSAGE = format('attach_validation: %s has no column %I', tbl, col);
  END IF;
  IF typ <> 'jsonb'::regtype THEN
    RAISE EXCEPTION USING ERRCODE = 'LG015',
      MESSAGE = format('attach_validation: column %I of %s is of type %s, not jsonb', col, tbl, typ);
  END IF;
  trg := left('lowcode_validate_' || col, 63);
  IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = trg) THEN
    EXECUTE format('DROP TRIGGER %I ON %s', trg, tbl);
  END IF;
  EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %s FOR EACH ROW '
                 'EXECUTE FUNCTION lowcode.registry_validate_trigger(%L, %L, %L)', trg, col, tbl, 'column', col, subject);
END
$$;
COMMENT ON FUNCTION lowcode.attach_validation(regclass, name, text) IS
  'Validate a jsonb column of a table against the latest enabled version of a registry subject on INSERT and UPDATE (HTTP 422 when invalid).';

-----------------------------------------------------------------------------
-- Views for PostgREST (security_invoker: the caller's policies apply)
-----------------------------------------------------------------------------
CREATE VIEW lowcode.forms WITH (security_invoker = true) AS
  SELECT s.name AS subject,
         s.tenant_id = lowcode.registry_global() AS global,
         l.version AS latest_version,
         l.description,
         l.schema,
         l.created_at AS updated_at,
         (SELECT count(*) FROM lowcode.schema_versions c
           WHERE c.tenant_id = s.tenant_id AND c.subject = s.name AND c.deleted_at IS NULL)::integer AS versions,
         coalesce(s.compatibility,
                  (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = s.tenant_id),
                  (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = lowcode.registry_global()),
                  'BACKWARD') AS compatibility,
         s.created_at
    FROM lowcode.subjects s
    JOIN LATERAL (SELECT v.version, v.description, v.schema, v.created_at FROM lowcode.schema_versions v
                   WHERE v.tenant_id = s.tenant_id AND v.subject = s.name AND v.state = 'enabled'
                     AND v.deleted_at IS NULL
                   ORDER BY v.version DESC LIMIT 1) l ON true;
COMMENT ON VIEW lowcode.forms IS
  'The subjects a tenant sees (its own and the global ones) with their latest enabled version.';

CREATE VIEW lowcode.form_versions WITH (security_invoker = true) AS
  SELECT v.subject, v.tenant_id = lowcode.registry_global() AS global, v.version, v.state, v.description,
         v.fingerprint, v.schema, v.created_at, v.created_by
    FROM lowcode.schema_versions v
   WHERE v.deleted_at IS NULL;
COMMENT ON VIEW lowcode.form_versions IS 'Versions not deleted of the subjects a tenant sees.';

-----------------------------------------------------------------------------
-- Privileges
-----------------------------------------------------------------------------
GRANT SELECT ON lowcode.registry_settings, lowcode.subjects, lowcode.schema_versions, lowcode.schema_references,
  lowcode.registry_audit, lowcode.submissions, lowcode.forms, lowcode.form_versions TO lowcode_operator;
-- registry_validation_target (answers what get_schema answers) stays callable by
-- everyone: the C validator calls it as the caller.
REVOKE ALL ON FUNCTION lowcode.registry_raise(int, text, text, jsonb, text),
  lowcode.registry_check_rules(jsonb, text, text),
  lowcode.registry_scope(), lowcode.registry_not_found(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.registry_raise(int, text, text, jsonb, text),
  lowcode.registry_check_rules(jsonb, text, text),
  lowcode.registry_scope(), lowcode.registry_not_found(text, integer) TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.check_compatibility(text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.register_schema(text, jsonb, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.get_schema(text, integer)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.set_compatibility(text, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.set_schema_state(text, integer, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.deprecate_schema(text, integer)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.delete_schema(text, integer, boolean)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.validate(text, jsonb, integer)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.submit(text, jsonb, integer)', 'EXECUTE'),
  ('TABLE', 'lowcode.subjects', 'SELECT'),
  ('TABLE', 'lowcode.schema_versions', 'SELECT'),
  ('TABLE', 'lowcode.schema_references', 'SELECT'),
  ('TABLE', 'lowcode.registry_settings', 'SELECT'),
  ('TABLE', 'lowcode.registry_audit', 'SELECT'),
  ('TABLE', 'lowcode.submissions', 'SELECT, INSERT, UPDATE, DELETE'),
  ('TABLE', 'lowcode.forms', 'SELECT'),
  ('TABLE', 'lowcode.form_versions', 'SELECT');
-- pg_lowcode install script, part 70: quota triggers on tables of other components.
-- Runs after the parts that create lowcode.sessions (40) and lowcode.submissions (60);
-- each trigger is attached only when its table exists, so this part installs
-- with or without them.

-- Session limit: an insert of an active session past the tenant's
-- max_sessions fails with HTTP 403.  A per-tenant advisory lock serialises
-- concurrent session creations of one tenant, so the limit is exact.
-- Sessions past their expiry count until the worker marks them expired
-- (at most one sweep interval).
CREATE FUNCTION lowcode.quota_session_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  lim bigint;
  n bigint;
BEGIN
  IF coalesce(to_jsonb(NEW) ->> 'state', 'active') <> 'active' THEN
    RETURN NEW;
  END IF;
  SELECT l.max_sessions INTO lim FROM lowcode.quota_effective_limits(NEW.tenant_id) l;
  IF lim IS NULL THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('lowcode.sessions'), hashtext(NEW.tenant_id::text));
  SELECT count(*) INTO n FROM lowcode.sessions s WHERE s.tenant_id = NEW.tenant_id AND s.state = 'active';
  IF n >= lim THEN
    PERFORM lowcode.quota_count_rejection(NEW.tenant_id, 'sessions');
    PERFORM lowcode.raise_http(403, 'LQ433', 'session limit reached',
      format('the tenant may have at most %s active sessions', lim),
      'Sign out of other sessions, or ask the platform operator for a higher max_sessions limit.');
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lowcode.quota_session_trigger() IS
  'Enforces max_sessions on lowcode.sessions (attached when the sessions component is installed).';

DO $$
BEGIN
  IF to_regclass('lowcode.sessions') IS NOT NULL THEN
    CREATE TRIGGER lowcode_quota_sessions BEFORE INSERT ON lowcode.sessions
      FOR EACH ROW EXECUTE FUNCTION lowcode.quota_session_trigger();
  END IF;
  IF to_regclass('lowcode.submissions') IS NOT NULL THEN
    PERFORM lowcode.attach_quota_trigger('lowcode.submissions');
  END IF;
END
$$;
-- pg_lowcode install script, part 90: what spans components.

-- Functions are callable by PUBLIC unless their part revoked it; the pure
-- functions (validation, rules) are meant to be usable by anyone, including
-- in CHECK constraints of users' tables.  raise_http is harmless (it only raises).
-- current_tenant() and pre_request() stay callable: they only read the
-- caller's own context.
