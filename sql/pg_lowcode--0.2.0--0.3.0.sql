-- pg_lowcode 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_lowcode UPDATE).
--
-- Every change to sql/NN_*.sql since 0.2.0 goes here too, in the order of the
-- parts; test/t/003_extension_upgrade.pl compares an upgraded database with a
-- fresh install object by object (scripts/upgrade_diff.py lists what differs
-- between two install scripts).
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-----------------------------------------------------------------------------
-- issue 13: security (tenant-escape and privilege paths)
-----------------------------------------------------------------------------
-- Every function of the extension with a fixed search_path gets pg_temp last:
-- otherwise pg_temp is searched first for relations and types, and a caller's
-- temporary table or type could shadow a name a SECURITY DEFINER function uses.
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS sig, substr(cfg, length('search_path=') + 1) AS path
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_lowcode'
      CROSS JOIN LATERAL pg_catalog.unnest(p.proconfig) cfg
     WHERE cfg IN ('search_path=pg_catalog, lowcode', 'search_path=pg_catalog')
  LOOP
    EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %s, pg_temp', f.sig, f.path);
  END LOOP;
END
$$;

-- The tenant context lives in the leader process: parallel workers must not
-- evaluate current_tenant() (policies call it as an InitPlan, run by the leader).
ALTER FUNCTION lowcode.current_tenant() PARALLEL RESTRICTED;

-- The one SQL function without a SET clause (policies inline it): its type qualified.
CREATE OR REPLACE FUNCTION lowcode.registry_global() RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '00000000-0000-0000-0000-000000000000'::pg_catalog.uuid $$;




CREATE OR REPLACE FUNCTION lowcode.tenant_policy_expr() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'tenant_id = (SELECT lowcode.current_tenant())'::text
$$;

CREATE OR REPLACE FUNCTION lowcode.tenant_tree(tbl regclass) RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT tbl
  UNION
  SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t
$$;

CREATE OR REPLACE FUNCTION lowcode.open_policies(tbl regclass)
RETURNS TABLE (polname name, relname text, expr text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT p.polname, p.polrelid::regclass::text,
         coalesce(pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), 'true')
    FROM lowcode.tenant_tree(tbl) r JOIN pg_policy p ON p.polrelid = r.relid
   WHERE p.polpermissive AND p.polname NOT LIKE 'lowcode\_tenant\_%'
     AND coalesce(pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), '')
         !~ '(current_tenant\(\)|pg_has_role\([^)]*''lowcode_operator''::name)'
   ORDER BY 2, 1
$$;

CREATE OR REPLACE FUNCTION lowcode.tenant_secure_relation(rel regclass, recreate boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  p record;
  e constant text := lowcode.tenant_policy_expr();
BEGIN
  IF recreate THEN
    FOR p IN SELECT pol.polname FROM pg_policy pol
              WHERE pol.polrelid = rel AND pol.polname LIKE 'lowcode\_tenant\_%'
    LOOP
      EXECUTE format('DROP POLICY %I ON %s', p.polname, rel);
    END LOOP;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = rel AND pol.polname = 'lowcode_tenant_select') THEN
    EXECUTE format('CREATE POLICY lowcode_tenant_select ON %s FOR SELECT USING (%s)', rel, e);
    EXECUTE format('CREATE POLICY lowcode_tenant_insert ON %s FOR INSERT WITH CHECK (%s)', rel, e);
    -- WITH CHECK on UPDATE: a row cannot be moved to another tenant.
    EXECUTE format('CREATE POLICY lowcode_tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', rel, e, e);
    EXECUTE format('CREATE POLICY lowcode_tenant_delete ON %s FOR DELETE USING (%s)', rel, e);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = rel AND c.relrowsecurity AND c.relforcerowsecurity) THEN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', rel);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION lowcode.tenant_partitions_guard() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  root regclass;
  r record;
BEGIN
  FOR root IN
    SELECT DISTINCT coalesce(pg_partition_root(c.objid), c.objid)::regclass
      FROM pg_event_trigger_ddl_commands() c
     WHERE c.classid = 'pg_catalog.pg_class'::regclass AND c.objsubid = 0
       AND EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = c.objid AND (k.relispartition OR k.relkind = 'p'))
  LOOP
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = root AND pol.polname = 'lowcode_tenant_select');
    FOR r IN SELECT t.relid FROM lowcode.tenant_tree(root) t WHERE t.relid <> root LOOP
      PERFORM lowcode.tenant_secure_relation(r.relid, false);
    END LOOP;
  END LOOP;
END
$$;

CREATE EVENT TRIGGER lowcode_tenant_partitions ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
  EXECUTE FUNCTION lowcode.tenant_partitions_guard();

CREATE OR REPLACE FUNCTION lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  rel       record;
  att       record;
  has_rows  boolean;
  con       record;
  tenant_attnum int2;
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
      HINT = 'Call it for the partitioned table: it secures every partition, present and future.';
  END IF;
  IF rel.nspname IN ('lowcode', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: %s is in a system or extension schema', qualified);
  END IF;

  -- A permissive policy that does not restrict rows to the current tenant
  -- opens the table (permissive policies are OR-ed): refuse before changing
  -- anything rather than leave it in force (issue 13).
  FOR con IN SELECT * FROM lowcode.open_policies(tbl) LOOP
    RAISE EXCEPTION USING ERRCODE = 'LT011',
      MESSAGE = format('make_tenant_table: policy %I on %s would open the table to every tenant', con.polname, con.relname),
      DETAIL = format('It is permissive and does not compare tenant_id with lowcode.current_tenant(): %s', con.expr),
      HINT = format('Drop it (DROP POLICY %I ON %s) or make it restrictive (AS RESTRICTIVE), then call make_tenant_table again.', con.polname, con.relname);
  END LOOP;

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

  -- Row security on the table and on every partition: a partition is a
  -- table of its own, reachable directly (GRANT ... ON ALL TABLES IN SCHEMA),
  -- and the parent's policies do not apply there (issue 13).  Partitions
  -- created or attached later get the same through lowcode.tenant_partitions_guard.
  FOR con IN SELECT r.relid FROM lowcode.tenant_tree(tbl) r LOOP
    PERFORM lowcode.tenant_secure_relation(con.relid, true);
  END LOOP;
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

CREATE OR REPLACE FUNCTION lowcode.isolation_report()
RETURNS TABLE (severity text, problem text, object_type text, object_name text, detail text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
  WITH tenant_tables AS (
    -- partitions too: each is a table of its own, reachable directly (issue 13)
    SELECT c.oid, c.relname, n.nspname, c.relrowsecurity, c.relforcerowsecurity, a.attnum AS tenant_attnum,
           c.relkind, c.relispartition
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
  ),
  api AS (
    SELECT r.oid, r.rolname FROM pg_roles r JOIN lowcode.api_roles a ON a.role_name = r.rolname
  )
  SELECT 'error', 'rls_disabled', 'table', format('%I.%I', t.nspname, t.relname),
         CASE WHEN t.relispartition THEN 'partition of a tenant table without row level security: it is readable directly'
              ELSE 'tenant table without row level security' END,
         CASE WHEN t.relispartition THEN 'Call lowcode.make_tenant_table() on the partitioned table: it secures every partition.'
              ELSE 'Call lowcode.make_tenant_table() on it.' END
    FROM tenant_tables t WHERE NOT t.relrowsecurity
  UNION ALL
  SELECT 'error', 'partition_without_tenant_policies', 'table', format('%I.%I', t.nspname, t.relname),
         'partition of a tenant table without the tenant policies lowcode_tenant_*: the partitioned table''s policies do not apply to it when it is queried directly',
         'Call lowcode.make_tenant_table() on the partitioned table: it secures every partition.'
    FROM tenant_tables t
   WHERE t.relispartition
     AND EXISTS (SELECT 1 FROM pg_policy rp WHERE rp.polrelid = pg_partition_root(t.oid) AND rp.polname = 'lowcode_tenant_select')
     AND NOT EXISTS (SELECT 1 FROM pg_policy pp WHERE pp.polrelid = t.oid AND pp.polname = 'lowcode_tenant_select')
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
   WHERE con.contype IN ('p', 'u') AND NOT (t.tenant_attnum = ANY (con.conkey)) AND NOT t.relispartition
  UNION ALL
  SELECT 'warning', 'unique_index_without_tenant', 'index', format('%I.%I', t.nspname, ic.relname),
         'a unique index of a tenant table does not include tenant_id', 'Recreate it with tenant_id as its first column.'
    FROM tenant_tables t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
   WHERE i.indisunique AND NOT (t.tenant_attnum = ANY (i.indkey::int2[])) AND NOT t.relispartition
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
  -- pg_temp is searched first for relations and types unless the path names it (last) (issue 13)
  SELECT 'warning', 'security_definer_search_path_temp_first', 'function', p.oid::regprocedure::text,
         'SECURITY DEFINER function whose search_path does not end with pg_temp: a caller''s temporary table or type is found before the schemas it names',
         format('ALTER FUNCTION %s SET search_path = %s, pg_temp', p.oid::regprocedure,
                (SELECT substr(cfg, 13) FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%' LIMIT 1))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%' AND cfg !~ 'pg_temp"?\s*$')
  UNION ALL
  -- the tenant context lives in the leader: a wrapper declared PARALLEL SAFE may run in a worker (issue 13)
  SELECT 'error', 'parallel_safe_wrapper_of_current_tenant', 'function', p.oid::regprocedure::text,
         'a function declared PARALLEL SAFE calls lowcode.current_tenant(): in a parallel worker it raises LT010',
         format('ALTER FUNCTION %s PARALLEL RESTRICTED', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.proparallel = 's' AND p.prosrc ~ 'current_tenant\s*\('
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'lowcode')
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
  -- Large objects have no tenant: every tenant of one API role shares them (issue 13).
  SELECT 'error', 'api_role_can_create_large_objects', 'database', current_database()::text,
         format('API role %I may create large objects: they belong to the role, not to a tenant, so every tenant of the role can read and change them', a.rolname),
         'REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea), '
         || 'pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC (then GRANT them to the roles that need them)'
    FROM api a
   WHERE has_function_privilege(a.oid, 'pg_catalog.lo_create(oid)', 'EXECUTE')
      OR has_function_privilege(a.oid, 'pg_catalog.lo_creat(integer)', 'EXECUTE')
      OR has_function_privilege(a.oid, 'pg_catalog.lo_from_bytea(oid, bytea)', 'EXECUTE')
  UNION ALL
  SELECT 'error', 'api_role_has_large_object', 'large object', m.oid::text,
         format('API role %I owns or may read this large object: every tenant of the role can', a.rolname),
         format('SELECT pg_catalog.lo_unlink(%s) (after moving its content into a tenant table)', m.oid)
    FROM pg_largeobject_metadata m CROSS JOIN api a
   WHERE pg_has_role(a.oid, m.lomowner, 'MEMBER')
      OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) x
                  WHERE (x.grantee = 0 OR pg_has_role(a.oid, x.grantee, 'MEMBER')) AND x.privilege_type IN ('SELECT', 'UPDATE'))
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

CREATE OR REPLACE FUNCTION lowcode.session_proof(token text) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_session_proof'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.session_proof(text) IS
  'The value of the JWT claim "sid_proof" for the session of this token (a session id alone proves nothing).';

CREATE OR REPLACE FUNCTION lowcode.registry_scope() RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t uuid := lowcode.current_tenant();
BEGIN
  IF pg_catalog.current_setting('lowcode.registry_scope', true) = 'global' THEN
    IF lowcode.registry_is_operator() THEN
      RETURN lowcode.registry_global();
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LG006', MESSAGE = 'only platform operators may use the global registry scope',
      DETAIL = 'lowcode.registry_scope is global and the caller is not a member of lowcode_operator.',
      HINT = 'RESET lowcode.registry_scope to work in the tenant of the request.';
  END IF;
  IF t IS NOT NULL THEN
    RETURN t;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LG006', MESSAGE = 'the schema registry needs a tenant context',
    DETAIL = 'lowcode.current_tenant() is NULL: there is no tenant of the request (outside pre_request(), or after the transaction that ran it ended).',
    HINT = 'Call it in a request with a tenant (pre_request() in the same transaction); for a global subject, an operator runs SET LOCAL lowcode.registry_scope = global first.';
END
$$;

-- lowcode.submit() without a tenant context raises LG006: in C since issue 21 (below).

CREATE OR REPLACE FUNCTION lowcode.quota_session_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
  -- Serialise on the tenant's row, not on an advisory lock: advisory locks
  -- have no privileges, so any role could take the key and block the
  -- tenant's sign-ins; this row lock needs UPDATE on lowcode.tenants, which
  -- only operators have (NO KEY UPDATE does not wait for the KEY SHARE
  -- locks of foreign-key checks) (issue 13).
  PERFORM 1 FROM lowcode.tenants t WHERE t.id = NEW.tenant_id FOR NO KEY UPDATE;
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

-- Session proofs: token_hash becomes SHA-256 of the proof (SHA-256 of the
-- token), so that a copy of the table still proves nothing; existing
-- sessions keep working (their tokens hash the same way now).
CREATE OR REPLACE FUNCTION lowcode.session_token_hash(token text) RETURNS bytea
AS 'MODULE_PATHNAME', 'lowcode_session_token_hash_v2'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
UPDATE lowcode.sessions SET token_hash = pg_catalog.sha256(token_hash);

-- issue 21 / 13.7: event notifications handed to the database worker (no NOTIFY per
-- transaction), per-tenant channels named by a secret, time-ordered ids instead of the
-- shared identity sequences of events, registry_audit and submissions.
-- The secret that names the event channels (a channel name is the capability to LISTEN).
CREATE TABLE lowcode.event_secret (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  key bytea NOT NULL CHECK (length(key) = 32)
);
INSERT INTO lowcode.event_secret (key)
SELECT pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) || pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
REVOKE ALL ON lowcode.event_secret FROM PUBLIC;
-- A restore (the dumped row arrives after CREATE EXTENSION made a new one) keeps the dumped
-- key, so that channel names survive a dump and restore.
CREATE FUNCTION lowcode.event_secret_replace() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  DELETE FROM lowcode.event_secret;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION lowcode.event_secret_replace() FROM PUBLIC;
CREATE TRIGGER event_secret_replace BEFORE INSERT ON lowcode.event_secret
  FOR EACH ROW EXECUTE FUNCTION lowcode.event_secret_replace();
SELECT pg_catalog.pg_extension_config_dump('lowcode.event_secret', '');
COMMENT ON TABLE lowcode.event_secret IS
  'The key of the event channel names (lowcode.event_channel). Readable by no API role.';

-- new: lowcode.new_id()
CREATE OR REPLACE FUNCTION lowcode.new_id() RETURNS bigint
AS 'MODULE_PATHNAME', 'lowcode_new_id'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.new_id() IS
  'A new time-ordered id (events, audit rows, submissions): reveals nothing about other tenants'' volume.';

-- new: lowcode.event_queue(tenant uuid, id bigint, type text)
CREATE OR REPLACE FUNCTION lowcode.event_queue(tenant uuid, id bigint, type text) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_event_queue'
LANGUAGE C VOLATILE;

-- new: lowcode.event_channel()
CREATE OR REPLACE FUNCTION lowcode.event_channel() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel() IS
  'The current tenant''s event channel: LISTEN on it to hear of its own events only.';

-- new: lowcode.event_channel(tenant uuid)
CREATE OR REPLACE FUNCTION lowcode.event_channel(tenant uuid) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel_of'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel(uuid) IS
  'Operators: the event channel of a tenant, or with NULL the channel of every tenant''s events.';

-- new: lowcode.event_queue_stats(OUT worker_attached boolean, OUT queued bigint, OUT delivered bigint, OUT reserved bigint)
CREATE OR REPLACE FUNCTION lowcode.event_queue_stats(OUT worker_attached boolean, OUT queued bigint,
                                          OUT delivered bigint, OUT reserved bigint)
AS 'MODULE_PATHNAME', 'lowcode_event_queue_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.event_queue_stats() IS
  'This database''s event notification queue: worker attached, waiting, delivered since start, reserved.';

-- changed: lowcode.emit_event(tenant uuid, type text, payload jsonb, retention interval)
CREATE OR REPLACE FUNCTION lowcode.emit_event(tenant uuid, type text, payload jsonb DEFAULT '{}',
                                   retention interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
  PERFORM lowcode.event_queue(tenant, new_id, emit_event.type);
  RETURN new_id;
END
$$;


REVOKE ALL ON FUNCTION lowcode.event_queue(uuid, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION lowcode.event_channel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_channel(uuid) TO lowcode_operator;
REVOKE ALL ON FUNCTION lowcode.event_queue_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_queue_stats() TO lowcode_operator;

-- the identity sequences go (their rows keep their ids; new ids are larger: time-ordered)
DO $$
DECLARE
  t text;
  seq regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'registry_audit', 'submissions'] LOOP
    seq := pg_catalog.pg_get_serial_sequence(format('lowcode.%I', t), 'id')::regclass;
    EXECUTE format('ALTER TABLE lowcode.%I ALTER COLUMN id DROP IDENTITY', t);
    EXECUTE format('ALTER TABLE lowcode.%I ALTER COLUMN id SET DEFAULT lowcode.new_id()', t);
    -- and from the extension's dump list
    UPDATE pg_catalog.pg_extension
       SET extconfig = pg_catalog.array_remove(extconfig, seq::oid),
           extcondition = extcondition[1:pg_catalog.array_position(extconfig, seq::oid) - 1]
                          || extcondition[pg_catalog.array_position(extconfig, seq::oid) + 1:]
     WHERE extname = 'pg_lowcode' AND seq::oid = ANY (extconfig);
  END LOOP;
END
$$;

-- issue 21: submit in C, from a plan saved per backend (same INSERT, same result; CREATE OR
-- REPLACE keeps the EXECUTE privileges grant_api_role gave)
-- In C (src/registry/registry_record.c, issue 21): the INSERT below from a plan saved per
-- backend, as the caller; a LANGUAGE sql function planned it again in every statement.
--   INSERT INTO lowcode.submissions (subject, data, version) VALUES (subject, data, version)
--   RETURNING jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status,
--                                'created_at', created_at)
CREATE OR REPLACE FUNCTION lowcode.submit(subject text, data jsonb, version integer DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_submit'
LANGUAGE C VOLATILE;

-- issue 21: the audit row and event of a submission by a C row trigger
DROP TRIGGER submissions_record_insert ON lowcode.submissions;
DROP TRIGGER submissions_record_update ON lowcode.submissions;
DROP FUNCTION lowcode.submissions_record();
-- The audit row and the event of each submission (C, src/registry/registry_record.c):
-- in the submitting transaction, one saved plan per row, the notification queued for
-- the commit (issue 21: the PL/pgSQL statement trigger cost ~250 us per submission).
CREATE FUNCTION lowcode.submissions_record() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_submissions_record_row'
LANGUAGE C;
CREATE TRIGGER submissions_record AFTER INSERT OR UPDATE ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.submissions_record();

-- issue 21: the outbox's deadline index is BRIN (no hot rightmost btree page)
DROP INDEX lowcode.events_deadline_idx;
CREATE INDEX events_deadline_idx ON lowcode.events USING brin (deadline) WITH (autosummarize = on);

-- issue 20: per-tenant metrics for Prometheus (sql/75_metrics.sql)

-- One row per sample: metric name as Prometheus spells it, its type, the tenant label
-- (NULL for metrics that have none), the other labels, and the value.  At most top_n
-- tenants per series (NULL: lowcode.metrics_top_n; 0: all); the others are summed under
-- tenant 'other'.  Needs pg_lowcode in shared_preload_libraries (55000 otherwise).
CREATE FUNCTION lowcode.metrics_rows(top_n integer DEFAULT NULL,
                                     OUT metric text, OUT type text, OUT tenant text,
                                     OUT labels jsonb, OUT value double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lowcode_metrics_rows'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_rows(integer) IS
  'The per-tenant metrics, one row per Prometheus sample, top_n tenants per series (others summed as tenant "other").';

CREATE VIEW lowcode.metrics AS SELECT * FROM lowcode.metrics_rows();
COMMENT ON VIEW lowcode.metrics IS
  'The per-tenant metrics, one row per metric and labels (lowcode.metrics_top_n tenants per series).';

-- The same samples in the Prometheus text exposition format (version 0.0.4).
CREATE FUNCTION lowcode.metrics_prometheus(top_n integer DEFAULT NULL) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_metrics_prometheus'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_prometheus(integer) IS
  'The per-tenant metrics in the Prometheus text format.';

CREATE FUNCTION lowcode.metrics_count(tenant uuid, metric text, n bigint DEFAULT 1) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_metrics_count'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_count(uuid, text, bigint) IS
  'Add n to a per-tenant counter (short names: requests_admitted, sessions_created, ...).';

CREATE FUNCTION lowcode.metrics_reset() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_metrics_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_reset() IS 'Forget every metric (counters start again at zero).';

-- Sessions created, expired and revoked, per tenant.
CREATE FUNCTION lowcode.metrics_session_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_metrics_session_trigger'
LANGUAGE C;
CREATE TRIGGER sessions_metrics_insert AFTER INSERT ON lowcode.sessions
  FOR EACH ROW EXECUTE FUNCTION lowcode.metrics_session_trigger();
CREATE TRIGGER sessions_metrics_update AFTER UPDATE OF state ON lowcode.sessions
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION lowcode.metrics_session_trigger();

-- Every tenant's traffic: operators and monitoring roles only.
REVOKE ALL ON FUNCTION lowcode.metrics_rows(integer), lowcode.metrics_prometheus(integer),
  lowcode.metrics_count(uuid, text, bigint), lowcode.metrics_reset(),
  lowcode.metrics_session_trigger() FROM PUBLIC;
REVOKE ALL ON lowcode.metrics FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.metrics_rows(integer), lowcode.metrics_prometheus(integer)
  TO lowcode_operator, pg_monitor;
GRANT SELECT ON lowcode.metrics TO lowcode_operator, pg_monitor;
GRANT EXECUTE ON FUNCTION lowcode.metrics_count(uuid, text, bigint), lowcode.metrics_reset() TO lowcode_operator;

-- issue 20: lowcode.current_trace_id() in C (src/lc/lc_trace.c), the trace id of audit rows, events and HTTP errors
CREATE OR REPLACE FUNCTION lowcode.current_trace_id() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_current_trace_id'
LANGUAGE C STABLE PARALLEL SAFE;

-- issue 19: workflows (sql/80_workflow.sql), and the two workflow limits of the tiers (sql/10_tenancy.sql,
-- sql/50_quota.sql)

ALTER TABLE lowcode.tiers
  ADD COLUMN max_workflow_instances bigint CHECK (max_workflow_instances >= 0),
  ADD COLUMN max_workflow_timers bigint CHECK (max_workflow_timers >= 0);

CREATE OR REPLACE FUNCTION lowcode.tiers_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  IF pg_trigger_depth() = 1 AND EXISTS (SELECT 1 FROM lowcode.tiers WHERE name = NEW.name) THEN
    UPDATE lowcode.tiers t SET
      description = NEW.description, session_idle_timeout = NEW.session_idle_timeout,
      session_absolute_lifetime = NEW.session_absolute_lifetime,
      requests_per_second = NEW.requests_per_second, request_burst = NEW.request_burst,
      max_rows = NEW.max_rows, max_storage_bytes = NEW.max_storage_bytes,
      max_sessions = NEW.max_sessions, statement_timeout = NEW.statement_timeout,
      work_mem_kb = NEW.work_mem_kb, builtin = t.builtin OR NEW.builtin,
      max_workflow_instances = NEW.max_workflow_instances, max_workflow_timers = NEW.max_workflow_timers
    WHERE t.name = NEW.name;
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;

UPDATE lowcode.tiers SET max_workflow_instances = 10000, max_workflow_timers = 10000 WHERE name = 'free';
UPDATE lowcode.tiers SET max_workflow_instances = 1000000, max_workflow_timers = 2000000 WHERE name = 'pro';

CREATE OR REPLACE FUNCTION lowcode.limit_names()
RETURNS TABLE (ord int, name text, nullable boolean, min_value bigint, description text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  VALUES (1, 'requests_per_second', false, 1::bigint, 'requests admitted per second (token bucket refill rate)'),
         (2, 'request_burst',       false, 1, 'requests admitted at once (token bucket size)'),
         (3, 'max_rows',            true,  0, 'rows in the tenant''s tables, all tables together'),
         (4, 'max_storage_bytes',   true,  0, 'bytes of the tenant''s rows, all tables together'),
         (5, 'max_sessions',        true,  0, 'active sessions'),
         (6, 'statement_timeout_ms', false, 0, 'statement_timeout of each request, in milliseconds (0: none)'),
         (7, 'work_mem_kb',         false, 64, 'work_mem of each request, in kB'),
         (8, 'max_workflow_instances', true, 0, 'records governed by a workflow (docs/workflows.md)'),
         (9, 'max_workflow_timers', true,  0, 'pending workflow timers')
$$;

CREATE OR REPLACE FUNCTION lowcode.tenant_limits_of(tenant uuid)
RETURNS TABLE (name text, value bigint, source text, tier_value bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
         (7, 'work_mem_kb', r.work_mem_kb::bigint),
         (8, 'max_workflow_instances', r.max_workflow_instances),
         (9, 'max_workflow_timers', r.max_workflow_timers)) AS d(ord, name, tier_value)
    LEFT JOIN lowcode.tenant_limits o ON o.tenant_id = t.id AND o.name = d.name
   WHERE t.id = tenant
   ORDER BY d.ord
$$;

-- sql/80_workflow.sql
-----------------------------------------------------------------------------
-- Helpers
-----------------------------------------------------------------------------

-- The scope the caller acts in: its tenant, or the global scope for an
-- operator without one (global definitions, readable by every tenant).
CREATE FUNCTION lowcode.workflow_scope() RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  RETURN lowcode.registry_scope();        -- the same rule as the registry's, with the workflow's error
EXCEPTION WHEN SQLSTATE 'LG006' THEN
  RAISE EXCEPTION USING ERRCODE = 'LW006', MESSAGE = 'workflows need a tenant context',
    DETAIL = 'lowcode.current_tenant() is NULL and the caller is not a platform operator.',
    HINT = 'Call it through PostgREST with a tenant_id claim, or as a member of lowcode_operator.';
END
$$;

CREATE FUNCTION lowcode.workflow_check_name(name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF name IS NULL OR name !~ '^[A-Za-z][A-Za-z0-9_.-]{0,127}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LW001',
      MESSAGE = format('invalid workflow name %s', coalesce(quote_literal(left(name, 200)), 'NULL')),
      DETAIL = 'A workflow name is 1 to 128 characters: an ASCII letter, then letters, digits, "_", "." or "-".',
      HINT = 'For example: leave-approval';
  END IF;
END
$$;

-- Who acts, as guards see it: {"role", "principal", "claims"} (C, src/workflow/workflow_fire.c: claims
-- that are not a JSON object are none).
CREATE FUNCTION lowcode.workflow_actor() RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_workflow_actor'
LANGUAGE C STABLE;

-- A CEL duration ("48h", "1h30m", "90s") or a number of milliseconds (XState's
-- delays) as an interval; NULL when it is neither or not positive.
CREATE FUNCTION lowcode.workflow_duration(d jsonb) RETURNS interval
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  s text;
  secs numeric;
BEGIN
  IF jsonb_typeof(d) = 'number' THEN
    secs := (d #>> '{}')::numeric / 1000;
  ELSIF jsonb_typeof(d) = 'string' AND (d #>> '{}') ~ '^[0-9]+$' THEN
    secs := (d #>> '{}')::numeric / 1000;
  ELSIF jsonb_typeof(d) = 'string' THEN
    BEGIN
      s := lowcode.rule_eval('duration(d)', jsonb_build_object('d', d)) #>> '{}';
    EXCEPTION WHEN SQLSTATE 'LR000' THEN
      RETURN NULL;
    END;
    secs := rtrim(s, 's')::numeric;
  ELSE
    RETURN NULL;
  END IF;
  IF secs <= 0 OR secs > 315576000 THEN      -- at most 10 years
    RETURN NULL;
  END IF;
  RETURN make_interval(secs => secs::double precision);
END
$$;

-- Raise an HTTP error (PGRST form) with a JSON details text.
CREATE FUNCTION lowcode.workflow_raise(status int, code text, message text, details jsonb DEFAULT NULL,
                                       hint text DEFAULT NULL)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.raise_http(status, code, message, details::text, hint, NULL)
$$;

-----------------------------------------------------------------------------
-- Tables
-----------------------------------------------------------------------------
CREATE TABLE lowcode.workflows (
  tenant_id  uuid NOT NULL,
  name       text NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,127}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE lowcode.workflows IS
  'Workflow names of each tenant (the nil uuid: global workflows of the operator).';

CREATE TABLE lowcode.workflow_versions (
  tenant_id   uuid NOT NULL,
  name        text NOT NULL,
  version     integer NOT NULL CHECK (version > 0),
  definition  jsonb NOT NULL,
  fingerprint text NOT NULL,
  initial     text NOT NULL,
  migration   jsonb,              -- {"old state": "new state"} from the previous version
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  PRIMARY KEY (tenant_id, name, version),
  UNIQUE (tenant_id, name, fingerprint),
  FOREIGN KEY (tenant_id, name) REFERENCES lowcode.workflows (tenant_id, name)
);
COMMENT ON TABLE lowcode.workflow_versions IS
  'Immutable versions of workflow definitions, as registered (definition) and compiled (workflow_states, workflow_transitions).';

-- The compiled form of a version: one row per state and one per transition,
-- so that an event is one index lookup.
CREATE TABLE lowcode.workflow_states (
  tenant_id uuid NOT NULL,
  name      text NOT NULL,
  version   integer NOT NULL,
  state     text NOT NULL,
  final     boolean NOT NULL,
  entry     jsonb NOT NULL DEFAULT '[]',     -- normalised actions
  exit      jsonb NOT NULL DEFAULT '[]',
  timers    jsonb NOT NULL DEFAULT '[]',     -- [{"id", "seconds" | "at", "event", "payload"}]
  schema    jsonb,                           -- a registry subject name (string) or a JSON Schema
  PRIMARY KEY (tenant_id, name, version, state),
  FOREIGN KEY (tenant_id, name, version) REFERENCES lowcode.workflow_versions (tenant_id, name, version)
);

CREATE TABLE lowcode.workflow_transitions (
  tenant_id uuid NOT NULL,
  name      text NOT NULL,
  version   integer NOT NULL,
  state     text NOT NULL,
  event     text NOT NULL,
  ord       integer NOT NULL,                -- candidates of one event are tried in order
  target    text,                            -- NULL: a targetless transition (actions only, no exit/entry)
  guard     text,                            -- CEL
  message   text,                            -- the error message when the guard refuses
  actions   jsonb NOT NULL DEFAULT '[]',
  PRIMARY KEY (tenant_id, name, version, state, event, ord),
  FOREIGN KEY (tenant_id, name, version, state) REFERENCES lowcode.workflow_states (tenant_id, name, version, state)
);

-- Tables governed by a workflow (attach_workflow).  lowcode.submissions is
-- governed too, its workflow chosen per subject (workflow_subjects): see
-- workflow_table().
CREATE TABLE lowcode.workflow_tables (
  rel         regclass PRIMARY KEY,
  workflow    text,                          -- NULL for lowcode.submissions
  state_col   name NOT NULL,
  key_col     name NOT NULL,
  key_type    text NOT NULL,
  has_tenant  boolean NOT NULL,              -- the table has a tenant_id column
  set_columns name[] NOT NULL,               -- the columns "set" actions may write
  attached_at timestamptz NOT NULL DEFAULT now(),
  attached_by text NOT NULL
);
COMMENT ON TABLE lowcode.workflow_tables IS
  'Tables whose rows are workflow instances: the state column, the key and the columns actions may set.';

CREATE TABLE lowcode.workflow_subjects (
  tenant_id   uuid NOT NULL,
  subject     text NOT NULL,
  workflow    text NOT NULL,
  attached_at timestamptz NOT NULL DEFAULT now(),
  attached_by text NOT NULL,
  PRIMARY KEY (tenant_id, subject)
);
COMMENT ON TABLE lowcode.workflow_subjects IS
  'Registry subjects whose submissions are workflow instances (the status column is the state).';

CREATE TABLE lowcode.workflow_instances (
  tenant_id   uuid NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  rel         regclass NOT NULL,
  record_key  text NOT NULL,
  workflow    text NOT NULL,
  wf_tenant   uuid NOT NULL,                 -- owner of the definition: the tenant, or the nil uuid
  version     integer NOT NULL,
  state       text NOT NULL,
  snapshot    jsonb NOT NULL,                -- the record as the last transition left it (oldSelf)
  transitions integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, rel, record_key)
) WITH (fillfactor = 80);
COMMENT ON TABLE lowcode.workflow_instances IS
  'One row per record governed by a workflow: its definition version and current state.';

CREATE TABLE lowcode.workflow_timers (
  tenant_id   uuid NOT NULL,
  instance_id bigint NOT NULL,
  timer       text NOT NULL,
  state       text,                          -- the state that armed it (cancelled on exit); NULL: an action's timer
  event       text NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}',
  due_at      timestamptz NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, instance_id, timer)
);
CREATE INDEX workflow_timers_due_idx ON lowcode.workflow_timers (due_at);
CREATE INDEX workflow_timers_tenant_due_idx ON lowcode.workflow_timers (tenant_id, due_at);
COMMENT ON TABLE lowcode.workflow_timers IS
  'Pending workflow timers; the database worker fires each once, in the transaction that deletes it.';

CREATE TABLE lowcode.workflow_history (
  tenant_id   uuid NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY,
  instance_id bigint NOT NULL,
  workflow    text NOT NULL,
  version     integer NOT NULL,
  event       text,                          -- NULL for the creation of an instance
  from_state  text,
  to_state    text,
  outcome     text NOT NULL CHECK (outcome IN ('created', 'transition', 'migrated', 'refused', 'ignored', 'failed')),
  message     text,
  payload     jsonb NOT NULL DEFAULT '{}',
  actor_role  text NOT NULL,
  actor_principal text,
  trace_id    text,
  rel         regclass,                      -- the record: its table and key
  record_key  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX workflow_history_instance_idx ON lowcode.workflow_history (tenant_id, instance_id, id);
COMMENT ON TABLE lowcode.workflow_history IS
  'Every step of every instance: creation, transitions, migrations, and timer events that were refused or ignored.';

-- Instances and pending timers per tenant, for the quotas.  Sharded by
-- backend so that concurrent transitions of one tenant do not queue on one row.
CREATE TABLE lowcode.workflow_counters (
  tenant_id uuid NOT NULL,
  shard     smallint NOT NULL,
  instances bigint NOT NULL DEFAULT 0,
  timers    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, shard)
);

-- SQL functions the "call" action may call (operator only).
CREATE TABLE lowcode.workflow_functions (
  name          text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.]{0,62}$'),
  fn            regprocedure NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  registered_by text NOT NULL
);
COMMENT ON TABLE lowcode.workflow_functions IS
  'Functions (jsonb) -> jsonb that workflow actions of type "call" may call, registered by the operator.';

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['workflows', 'workflow_versions', 'workflow_states', 'workflow_transitions',
                           'workflow_tables', 'workflow_subjects', 'workflow_instances', 'workflow_timers',
                           'workflow_history', 'workflow_counters', 'workflow_functions'] LOOP
    EXECUTE format('ALTER TABLE lowcode.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE lowcode.%I FORCE ROW LEVEL SECURITY', t);
    PERFORM pg_catalog.pg_extension_config_dump(format('lowcode.%I', t)::regclass, '');
  END LOOP;
  FOREACH t IN ARRAY ARRAY['workflow_instances', 'workflow_history'] LOOP
    PERFORM pg_catalog.pg_extension_config_dump(
      pg_catalog.pg_get_serial_sequence(format('lowcode.%I', t), 'id')::regclass, '');
  END LOOP;
END
$$;

-- Tenants read their own rows (and the global definitions); they write
-- nothing directly: the functions below do.
CREATE POLICY workflows_read ON lowcode.workflows FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY workflow_versions_read ON lowcode.workflow_versions FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY workflow_states_read ON lowcode.workflow_states FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY workflow_transitions_read ON lowcode.workflow_transitions FOR SELECT
  USING (tenant_id IN ((SELECT lowcode.current_tenant()), lowcode.registry_global()));
CREATE POLICY workflow_tables_read ON lowcode.workflow_tables FOR SELECT USING (true);
CREATE POLICY workflow_subjects_read ON lowcode.workflow_subjects FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY workflow_instances_read ON lowcode.workflow_instances FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY workflow_timers_read ON lowcode.workflow_timers FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY workflow_history_read ON lowcode.workflow_history FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY workflow_counters_read ON lowcode.workflow_counters FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
CREATE POLICY workflow_functions_read ON lowcode.workflow_functions FOR SELECT USING (true);

-- Versions are immutable.
CREATE FUNCTION lowcode.workflow_versions_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'LW005',
    MESSAGE = format('version %s of workflow %s is immutable', OLD.version, OLD.name),
    HINT = 'Register a new version instead.';
END
$$;
CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON lowcode.workflow_versions
  FOR EACH ROW EXECUTE FUNCTION lowcode.workflow_versions_immutable();

-----------------------------------------------------------------------------
-- Quotas: max_workflow_instances, max_workflow_timers (docs/quotas.md)
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.workflow_limit(tenant uuid, lim text) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT CASE WHEN o.tenant_id IS NOT NULL THEN o.value
              WHEN lim = 'max_workflow_instances' THEN r.max_workflow_instances
              ELSE r.max_workflow_timers END
    FROM lowcode.tenants t
    JOIN lowcode.tiers r ON r.name = t.tier
    LEFT JOIN lowcode.tenant_limits o ON o.tenant_id = t.id AND o.name = lim
   WHERE t.id = tenant
$$;

-- Count instances and timers a transaction adds (or removes) for a tenant;
-- refuse additions past the tenant's limits (HTTP 403).  The check takes no
-- lock: concurrent transactions may each add one past the limit.
CREATE FUNCTION lowcode.workflow_count(tenant uuid, d_instances bigint, d_timers bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  lim bigint;
  n bigint;
  which text;
BEGIN
  IF d_instances = 0 AND d_timers = 0 THEN
    RETURN;
  END IF;
  FOR which IN SELECT unnest(ARRAY['instances', 'timers']) LOOP
    CONTINUE WHEN (CASE which WHEN 'instances' THEN d_instances ELSE d_timers END) <= 0;
    lim := lowcode.workflow_limit(tenant, 'max_workflow_' || which);
    CONTINUE WHEN lim IS NULL;
    SELECT coalesce(sum(CASE which WHEN 'instances' THEN c.instances ELSE c.timers END), 0) INTO n
      FROM lowcode.workflow_counters c WHERE c.tenant_id = tenant;
    IF n + (CASE which WHEN 'instances' THEN d_instances ELSE d_timers END) > lim THEN
      PERFORM lowcode.quota_count_rejection(tenant, 'rows');
      IF which = 'instances' THEN
        PERFORM lowcode.raise_http(403, 'LQ436', 'workflow instance limit reached',
          format('the tenant may have at most %s workflow instances', lim),
          'Delete finished records, or ask the platform operator for a higher max_workflow_instances limit.');
      END IF;
      PERFORM lowcode.raise_http(403, 'LQ435', 'workflow timer limit reached',
        format('the tenant may have at most %s pending workflow timers', lim),
        'Ask the platform operator for a higher max_workflow_timers limit.');
    END IF;
  END LOOP;
  INSERT INTO lowcode.workflow_counters AS c (tenant_id, shard, instances, timers)
  VALUES (tenant, (pg_backend_pid() % 8)::smallint, d_instances, d_timers)
  ON CONFLICT ON CONSTRAINT workflow_counters_pkey
  DO UPDATE SET instances = c.instances + excluded.instances, timers = c.timers + excluded.timers;
END
$$;

-----------------------------------------------------------------------------
-- Definitions: checking and compiling
-----------------------------------------------------------------------------

-- Check an expression: NULL when it is a valid CEL string, else an error object.
CREATE FUNCTION lowcode.workflow_check_cel(expr jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  chk jsonb;
BEGIN
  IF jsonb_typeof(expr) IS DISTINCT FROM 'string' THEN
    RETURN jsonb_build_object('path', path, 'message', 'must be a CEL expression (a string)');
  END IF;
  BEGIN
    chk := lowcode.rule_check(expr #>> '{}');
  EXCEPTION WHEN SQLSTATE 'LR000' THEN
    RETURN jsonb_build_object('path', path, 'message', 'is not a valid CEL expression: ' || SQLERRM);
  END;
  IF NOT (chk ->> 'valid')::boolean THEN
    RETURN jsonb_build_object('path', path, 'message', 'is not a valid CEL expression',
                              'errors', chk -> 'errors');
  END IF;
  RETURN NULL;
END
$$;

-- Normalise a list of actions (XState: an action or an array of them).
-- Returns {"actions": [...], "errors": [...]}.
CREATE FUNCTION lowcode.workflow_compile_actions(acts jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  out jsonb := '[]';
  errs jsonb := '[]';
  a jsonb;
  i int := 0;
  p text;
  e jsonb;
  k text;
  v jsonb;
  d interval;
BEGIN
  IF acts IS NULL OR acts = 'null' THEN
    RETURN jsonb_build_object('actions', out, 'errors', errs);
  END IF;
  IF jsonb_typeof(acts) = 'object' THEN
    acts := jsonb_build_array(acts);
  END IF;
  IF jsonb_typeof(acts) <> 'array' THEN
    RETURN jsonb_build_object('actions', out, 'errors',
      jsonb_build_array(jsonb_build_object('path', path, 'message', 'must be an action object or an array of them')));
  END IF;
  IF jsonb_array_length(acts) > 32 THEN
    RETURN jsonb_build_object('actions', out, 'errors',
      jsonb_build_array(jsonb_build_object('path', path, 'message', 'at most 32 actions')));
  END IF;
  FOR a IN SELECT x FROM jsonb_array_elements(acts) x LOOP
    p := path || '/' || i;
    i := i + 1;
    IF jsonb_typeof(a) <> 'object' OR jsonb_typeof(a -> 'type') IS DISTINCT FROM 'string' THEN
      errs := errs || jsonb_build_object('path', p, 'message',
        'an action is an object with a "type": set, emit, startTimer, cancelTimer or call');
      CONTINUE;
    END IF;
    CASE a ->> 'type'
    WHEN 'set' THEN
      IF jsonb_typeof(a -> 'fields') IS DISTINCT FROM 'object' OR a -> 'fields' = '{}' THEN
        errs := errs || jsonb_build_object('path', p || '/fields', 'message',
          'a set action has "fields": {"column": "<CEL expression>", ...}');
        CONTINUE;
      END IF;
      FOR k, v IN SELECT * FROM jsonb_each(a -> 'fields') LOOP
        IF k !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
          errs := errs || jsonb_build_object('path', p || '/fields/' || k, 'message', 'is not a column name');
        END IF;
        e := lowcode.workflow_check_cel(v, p || '/fields/' || k);
        IF e IS NOT NULL THEN errs := errs || e; END IF;
      END LOOP;
      out := out || jsonb_build_object('type', 'set', 'fields', a -> 'fields');
    WHEN 'emit' THEN
      IF jsonb_typeof(a -> 'event') IS DISTINCT FROM 'string'
         OR (a ->> 'event') !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' THEN
        errs := errs || jsonb_build_object('path', p || '/event', 'message',
          'an emit action has "event": dot-separated lowercase words, for example "leave.approved"');
        CONTINUE;
      END IF;
      IF a ? 'payload' THEN
        e := lowcode.workflow_check_cel(a -> 'payload', p || '/payload');
        IF e IS NOT NULL THEN errs := errs || e; CONTINUE; END IF;
      END IF;
      out := out || jsonb_build_object('type', 'emit', 'event', a -> 'event', 'payload', a -> 'payload');
    WHEN 'startTimer' THEN
      e := lowcode.workflow_compile_timer(a, p);
      IF e ? 'errors' THEN
        errs := errs || (e -> 'errors');
      ELSE
        out := out || (jsonb_build_object('type', 'startTimer') || e);
      END IF;
    WHEN 'cancelTimer' THEN
      IF jsonb_typeof(a -> 'id') IS DISTINCT FROM 'string' OR (a ->> 'id') !~ '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$' THEN
        errs := errs || jsonb_build_object('path', p || '/id', 'message', 'a cancelTimer action names the timer: "id"');
        CONTINUE;
      END IF;
      out := out || jsonb_build_object('type', 'cancelTimer', 'id', a -> 'id');
    WHEN 'call' THEN
      IF jsonb_typeof(a -> 'function') IS DISTINCT FROM 'string'
         OR NOT EXISTS (SELECT 1 FROM lowcode.workflow_functions f WHERE f.name = a ->> 'function') THEN
        errs := errs || jsonb_build_object('path', p || '/function', 'message',
          format('no workflow function %s (see lowcode.register_workflow_function)',
                 coalesce(quote_literal(left(a ->> 'function', 100)), 'given')));
        CONTINUE;
      END IF;
      IF a ? 'args' THEN
        e := lowcode.workflow_check_cel(a -> 'args', p || '/args');
        IF e IS NOT NULL THEN errs := errs || e; CONTINUE; END IF;
      END IF;
      out := out || jsonb_build_object('type', 'call', 'function', a -> 'function', 'args', a -> 'args');
    ELSE
      errs := errs || jsonb_build_object('path', p || '/type', 'message',
        format('unknown action type %s: set, emit, startTimer, cancelTimer or call', quote_literal(left(a ->> 'type', 100))));
    END CASE;
  END LOOP;
  RETURN jsonb_build_object('actions', out, 'errors', errs);
END
$$;

-- A timer: {"id", "after": "48h" | <ms>, or "at": "<CEL timestamp>", "event", "payload"?}.
-- Returns its normal form, or {"errors": [...]}.
CREATE FUNCTION lowcode.workflow_compile_timer(t jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  errs jsonb := '[]';
  d interval;
  e jsonb;
BEGIN
  IF jsonb_typeof(t) <> 'object' THEN
    RETURN jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('path', path, 'message', 'a timer is an object')));
  END IF;
  IF jsonb_typeof(t -> 'id') IS DISTINCT FROM 'string' OR (t ->> 'id') !~ '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$' THEN
    errs := errs || jsonb_build_object('path', path || '/id', 'message',
      'a timer has an "id": a letter or "_", then up to 62 letters, digits, "_", "." or "-"');
  END IF;
  IF jsonb_typeof(t -> 'event') IS DISTINCT FROM 'string' OR (t ->> 'event') !~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' THEN
    errs := errs || jsonb_build_object('path', path || '/event', 'message', 'a timer has the "event" it fires');
  END IF;
  IF (t ? 'after') = (t ? 'at') THEN
    errs := errs || jsonb_build_object('path', path, 'message', 'a timer has either "after" (a duration) or "at" (a CEL timestamp)');
  ELSIF t ? 'after' THEN
    d := lowcode.workflow_duration(t -> 'after');
    IF d IS NULL THEN
      errs := errs || jsonb_build_object('path', path || '/after', 'message',
        'must be a positive duration of at most 10 years: "48h", "1h30m", "90s", or a number of milliseconds');
    END IF;
  ELSE
    e := lowcode.workflow_check_cel(t -> 'at', path || '/at');
    IF e IS NOT NULL THEN errs := errs || e; END IF;
  END IF;
  IF t ? 'payload' AND jsonb_typeof(t -> 'payload') <> 'object' THEN
    errs := errs || jsonb_build_object('path', path || '/payload', 'message', 'must be an object');
  END IF;
  IF errs <> '[]' THEN
    RETURN jsonb_build_object('errors', errs);
  END IF;
  RETURN jsonb_strip_nulls(jsonb_build_object('id', t -> 'id', 'event', t -> 'event',
    'seconds', CASE WHEN d IS NOT NULL THEN to_jsonb(extract(epoch FROM d)) END,
    'at', t -> 'at')) || jsonb_build_object('payload', coalesce(t -> 'payload', '{}'));
END
$$;

-- Check a definition and compile it.  Returns {"errors": [...]} or
-- {"initial", "states": [...], "transitions": [...], "migration"}.
CREATE FUNCTION lowcode.workflow_compile(def jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  errs jsonb := '[]';
  states jsonb := '[]';
  trans jsonb := '[]';
  s text;
  sd jsonb;
  sp text;
  k text;
  v jsonb;
  ev text;
  cands jsonb;
  c jsonb;
  ci int;
  ord int;
  r jsonb;
  e jsonb;
  timers jsonb;
  tm jsonb;
  ti int;
  d interval;
  final boolean;
  guard text;
  msg text;
  names text[];
  chk jsonb;
  mig jsonb;
BEGIN
  IF def IS NULL OR jsonb_typeof(def) <> 'object' THEN
    RETURN jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('path', '',
      'message', 'a workflow definition is a JSON object with "initial" and "states"')));
  END IF;
  IF octet_length(def::text) > 262144 THEN
    RETURN jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('path', '',
      'message', 'a workflow definition is at most 256 kB')));
  END IF;
  FOR k IN SELECT jsonb_object_keys(def) LOOP
    IF k NOT IN ('id', 'initial', 'states', 'description', 'meta', 'version', 'migrate', '$schema') THEN
      errs := errs || jsonb_build_object('path', '/' || k, 'message',
        CASE k WHEN 'type' THEN 'parallel machines are not supported'
               WHEN 'context' THEN '"context" is not supported: the record is the context'
               ELSE 'unknown key' END);
    END IF;
  END LOOP;
  IF jsonb_typeof(def -> 'states') IS DISTINCT FROM 'object' OR def -> 'states' = '{}' THEN
    RETURN jsonb_build_object('errors', errs || jsonb_build_object('path', '/states',
      'message', '"states" is an object with at least one state'));
  END IF;
  SELECT array_agg(x ORDER BY x) INTO names FROM jsonb_object_keys(def -> 'states') x;
  IF cardinality(names) > 200 THEN
    RETURN jsonb_build_object('errors', errs || jsonb_build_object('path', '/states', 'message', 'at most 200 states'));
  END IF;
  IF jsonb_typeof(def -> 'initial') IS DISTINCT FROM 'string' OR NOT (def ->> 'initial') = ANY (names) THEN
    errs := errs || jsonb_build_object('path', '/initial', 'message', '"initial" names one of the states');
  END IF;

  FOREACH s IN ARRAY names LOOP
    sd := def -> 'states' -> s;
    sp := '/states/' || replace(replace(s, '~', '~0'), '/', '~1');
    IF s !~ '^[A-Za-z][A-Za-z0-9_-]{0,62}$' THEN
      errs := errs || jsonb_build_object('path', sp, 'message',
        'a state name is a letter, then up to 62 letters, digits, "_" or "-"');
      CONTINUE;
    END IF;
    IF jsonb_typeof(sd) <> 'object' THEN
      errs := errs || jsonb_build_object('path', sp, 'message', 'a state is an object');
      CONTINUE;
    END IF;
    FOR k IN SELECT jsonb_object_keys(sd) LOOP
      IF k NOT IN ('type', 'on', 'entry', 'exit', 'after', 'timers', 'schema', 'description', 'meta', 'tags') THEN
        errs := errs || jsonb_build_object('path', sp || '/' || k, 'message',
          CASE k WHEN 'states' THEN 'nested states are not supported'
                 WHEN 'initial' THEN 'nested states are not supported'
                 WHEN 'invoke' THEN 'invoked actors are not supported'
                 WHEN 'always' THEN 'eventless ("always") transitions are not supported'
                 ELSE 'unknown key' END);
      END IF;
    END LOOP;
    IF sd ? 'type' AND (sd ->> 'type') IS DISTINCT FROM 'final' AND (sd ->> 'type') IS DISTINCT FROM 'atomic' THEN
      errs := errs || jsonb_build_object('path', sp || '/type', 'message', '"type" is "final" or "atomic"');
    END IF;
    final := (sd ->> 'type') IS NOT DISTINCT FROM 'final';
    IF final AND (sd ? 'on' OR sd ? 'after' OR sd ? 'timers') THEN
      errs := errs || jsonb_build_object('path', sp, 'message', 'a final state has no transitions and no timers');
    END IF;

    -- timers: "timers" (at or after) and XState's "after" shorthand
    timers := '[]';
    IF sd ? 'timers' THEN
      IF jsonb_typeof(sd -> 'timers') <> 'array' OR jsonb_array_length(sd -> 'timers') > 16 THEN
        errs := errs || jsonb_build_object('path', sp || '/timers', 'message', 'an array of at most 16 timers');
      ELSE
        ti := 0;
        FOR tm IN SELECT x FROM jsonb_array_elements(sd -> 'timers') x LOOP
          e := lowcode.workflow_compile_timer(tm, sp || '/timers/' || ti);
          IF e ? 'errors' THEN errs := errs || (e -> 'errors'); ELSE timers := timers || e; END IF;
          ti := ti + 1;
        END LOOP;
      END IF;
    END IF;

    -- transitions: "on" {event: target | transition | [transition...]} and "after" {delay: ...}
    cands := '[]';
    IF sd ? 'on' THEN
      IF jsonb_typeof(sd -> 'on') <> 'object' THEN
        errs := errs || jsonb_build_object('path', sp || '/on', 'message', '"on" maps events to transitions');
      ELSE
        FOR ev, v IN SELECT * FROM jsonb_each(sd -> 'on') LOOP
          IF ev !~ '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$' THEN
            errs := errs || jsonb_build_object('path', sp || '/on/' || ev, 'message',
              'an event name is a letter or "_", then up to 127 letters, digits, "_", ".", ":" or "-"');
            CONTINUE;
          END IF;
          cands := cands || jsonb_build_object('event', ev, 'def', v, 'path', sp || '/on/' || ev);
        END LOOP;
      END IF;
    END IF;
    IF sd ? 'after' THEN
      IF jsonb_typeof(sd -> 'after') <> 'object' THEN
        errs := errs || jsonb_build_object('path', sp || '/after', 'message', '"after" maps delays to transitions');
      ELSE
        FOR k, v IN SELECT * FROM jsonb_each(sd -> 'after') LOOP
          d := lowcode.workflow_duration(to_jsonb(k));
          IF d IS NULL THEN
            errs := errs || jsonb_build_object('path', sp || '/after/' || k, 'message',
              'a delay is a positive duration of at most 10 years: "48h", "1h30m", "90s", or milliseconds');
            CONTINUE;
          END IF;
          timers := timers || jsonb_build_object('id', 'after.' || k, 'event', 'after.' || k,
                                                 'seconds', extract(epoch FROM d), 'payload', '{}'::jsonb);
          cands := cands || jsonb_build_object('event', 'after.' || k, 'def', v, 'path', sp || '/after/' || k);
        END LOOP;
      END IF;
    END IF;
    IF (SELECT count(DISTINCT x ->> 'id') <> count(*) FROM jsonb_array_elements(timers) x) THEN
      errs := errs || jsonb_build_object('path', sp || '/timers', 'message', 'timer ids must be unique in a state');
    END IF;
    FOR c IN SELECT x FROM jsonb_array_elements(cands) x LOOP
      v := c -> 'def';
      IF jsonb_typeof(v) <> 'array' THEN
        v := jsonb_build_array(v);
      END IF;
      IF jsonb_array_length(v) = 0 OR jsonb_array_length(v) > 16 THEN
        errs := errs || jsonb_build_object('path', c ->> 'path', 'message', '1 to 16 transitions per event');
        CONTINUE;
      END IF;
      ord := 0;
      FOR r IN SELECT x FROM jsonb_array_elements(v) x LOOP
        sp := (c ->> 'path') || CASE WHEN jsonb_typeof(c -> 'def') = 'array' THEN '/' || ord ELSE '' END;
        IF jsonb_typeof(r) = 'string' THEN
          r := jsonb_build_object('target', r);
        END IF;
        IF jsonb_typeof(r) <> 'object' THEN
          errs := errs || jsonb_build_object('path', sp, 'message', 'a transition is a target state name or an object');
          ord := ord + 1;
          CONTINUE;
        END IF;
        FOR k IN SELECT jsonb_object_keys(r) LOOP
          IF k NOT IN ('target', 'guard', 'actions', 'description', 'meta') THEN
            errs := errs || jsonb_build_object('path', sp || '/' || k, 'message',
              CASE k WHEN 'cond' THEN 'XState 4''s "cond" is "guard" here' ELSE 'unknown key' END);
          END IF;
        END LOOP;
        IF r ? 'target' AND (jsonb_typeof(r -> 'target') <> 'string' OR NOT (r ->> 'target') = ANY (names)) THEN
          errs := errs || jsonb_build_object('path', sp || '/target', 'message',
            format('%s is not a state of this workflow', coalesce(left(r ->> 'target', 100), 'the target')));
        END IF;
        guard := NULL;
        msg := NULL;
        IF r ? 'guard' THEN
          IF jsonb_typeof(r -> 'guard') = 'object' THEN
            e := lowcode.workflow_check_cel(r -> 'guard' -> 'rule', sp || '/guard/rule');
            guard := r -> 'guard' ->> 'rule';
            IF (r -> 'guard') ? 'message' AND jsonb_typeof(r -> 'guard' -> 'message') <> 'string' THEN
              errs := errs || jsonb_build_object('path', sp || '/guard/message', 'message', 'must be a string');
            END IF;
            msg := r -> 'guard' ->> 'message';
          ELSE
            e := lowcode.workflow_check_cel(r -> 'guard', sp || '/guard');
            guard := r ->> 'guard';
          END IF;
          IF e IS NOT NULL THEN errs := errs || e; END IF;
        END IF;
        e := lowcode.workflow_compile_actions(r -> 'actions', sp || '/actions');
        errs := errs || (e -> 'errors');
        trans := trans || jsonb_build_object('state', s, 'event', c ->> 'event', 'ord', ord,
          'target', r -> 'target', 'guard', guard, 'message', msg, 'actions', e -> 'actions');
        ord := ord + 1;
      END LOOP;
    END LOOP;
    IF jsonb_array_length(trans) > 2000 THEN
      RETURN jsonb_build_object('errors', errs || jsonb_build_object('path', '/states', 'message', 'at most 2000 transitions'));
    END IF;

    sp := '/states/' || replace(replace(s, '~', '~0'), '/', '~1');
    e := lowcode.workflow_compile_actions(sd -> 'entry', sp || '/entry');
    errs := errs || (e -> 'errors');
    r := lowcode.workflow_compile_actions(sd -> 'exit', sp || '/exit');
    errs := errs || (r -> 'errors');
    IF sd ? 'schema' THEN
      IF jsonb_typeof(sd -> 'schema') = 'string' THEN
        BEGIN
          PERFORM lowcode.get_schema(sd ->> 'schema');
        EXCEPTION WHEN OTHERS THEN
          errs := errs || jsonb_build_object('path', sp || '/schema', 'message',
            format('no registry subject %s', quote_literal(left(sd ->> 'schema', 128))));
        END;
      ELSIF jsonb_typeof(sd -> 'schema') IN ('object', 'boolean') THEN
        chk := lowcode.jsonschema_check(sd -> 'schema');
        IF NOT (chk ->> 'valid')::boolean THEN
          errs := errs || jsonb_build_object('path', sp || '/schema', 'message', 'is not a valid JSON Schema',
                                             'errors', chk -> 'errors');
        END IF;
      ELSE
        errs := errs || jsonb_build_object('path', sp || '/schema', 'message',
          'a registry subject name or a JSON Schema');
      END IF;
    END IF;
    states := states || jsonb_build_object('state', s, 'final', final, 'entry', e -> 'actions',
      'exit', r -> 'actions', 'timers', timers, 'schema', sd -> 'schema');
  END LOOP;

  -- "migrate": {"states": {"old state": "new state"}} from the previous version
  mig := NULL;
  IF def ? 'migrate' THEN
    IF jsonb_typeof(def -> 'migrate') <> 'object' OR jsonb_typeof(def -> 'migrate' -> 'states') IS DISTINCT FROM 'object' THEN
      errs := errs || jsonb_build_object('path', '/migrate', 'message', '"migrate" is {"states": {"old state": "new state"}}');
    ELSE
      FOR k, v IN SELECT * FROM jsonb_each(def -> 'migrate' -> 'states') LOOP
        IF jsonb_typeof(v) <> 'string' OR NOT (v #>> '{}') = ANY (names) THEN
          errs := errs || jsonb_build_object('path', '/migrate/states/' || k, 'message', 'maps to a state of this version');
        END IF;
      END LOOP;
      mig := def -> 'migrate' -> 'states';
    END IF;
  END IF;

  IF errs <> '[]' THEN
    RETURN jsonb_build_object('errors', (SELECT jsonb_agg(x) FROM (SELECT x FROM jsonb_array_elements(errs) x LIMIT 100) y));
  END IF;
  RETURN jsonb_build_object('initial', def -> 'initial', 'states', states, 'transitions', trans, 'migration', mig);
END
$$;

-- The version a scope sees (its own workflow, else the global one): latest when version is NULL.
CREATE FUNCTION lowcode.workflow_lookup(scope uuid, name text, version integer DEFAULT NULL)
RETURNS lowcode.workflow_versions
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT v.* FROM lowcode.workflow_versions v
   WHERE v.tenant_id = (SELECT w.tenant_id FROM lowcode.workflows w
                         WHERE w.name = workflow_lookup.name AND w.tenant_id IN (scope, lowcode.registry_global())
                         ORDER BY w.tenant_id = scope DESC LIMIT 1)
     AND v.name = workflow_lookup.name
     AND (workflow_lookup.version IS NULL OR v.version = workflow_lookup.version)
   ORDER BY v.version DESC LIMIT 1
$$;
REVOKE ALL ON FUNCTION lowcode.workflow_lookup(uuid, text, integer) FROM PUBLIC;

CREATE FUNCTION lowcode.workflow_not_found(name text, version integer DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  IF version IS NULL THEN
    PERFORM lowcode.workflow_raise(404, 'LW002', format('workflow %s not found', quote_literal(name)));
  ELSE
    PERFORM lowcode.workflow_raise(404, 'LW003', format('version %s of workflow %s not found', version, quote_literal(name)));
  END IF;
END
$$;

-- Compare a compiled candidate with a version: states of the old version that
-- in-flight instances may be in must exist in the new one or be mapped by "migrate".
CREATE FUNCTION lowcode.workflow_compat(old lowcode.workflow_versions, compiled jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  changes jsonb := '[]';
  st record;
  newnames text[];
  oldnames text[];
  mig jsonb := coalesce(compiled -> 'migration', '{}');
BEGIN
  SELECT array_agg(x ->> 'state') INTO newnames FROM jsonb_array_elements(compiled -> 'states') x;
  SELECT array_agg(s.state) INTO oldnames FROM lowcode.workflow_states s
   WHERE s.tenant_id = old.tenant_id AND s.name = old.name AND s.version = old.version;
  FOR st IN SELECT s.state, s.final FROM lowcode.workflow_states s
             WHERE s.tenant_id = old.tenant_id AND s.name = old.name AND s.version = old.version ORDER BY s.state LOOP
    IF mig ? st.state THEN
      changes := changes || jsonb_build_object('type', 'state_migrated', 'state', st.state, 'to', mig -> st.state,
                                               'compatible', true, 'against_version', old.version);
    ELSIF NOT st.state = ANY (newnames) THEN
      changes := changes || jsonb_build_object('type', 'state_removed', 'state', st.state,
                                               'compatible', false, 'against_version', old.version);
    END IF;
  END LOOP;
  changes := changes || coalesce((SELECT jsonb_agg(jsonb_build_object('type', 'state_added', 'state', n,
                                                   'compatible', true, 'against_version', old.version) ORDER BY n)
                                    FROM unnest(newnames) n WHERE NOT n = ANY (oldnames)), '[]');
  IF old.initial IS DISTINCT FROM compiled ->> 'initial' THEN
    changes := changes || jsonb_build_object('type', 'initial_changed', 'state', compiled -> 'initial',
                                             'compatible', true, 'against_version', old.version);
  END IF;
  RETURN jsonb_build_object('compatible', NOT changes @> '[{"compatible": false}]', 'changes', changes);
END
$$;
REVOKE ALL ON FUNCTION lowcode.workflow_compat(lowcode.workflow_versions, jsonb) FROM PUBLIC;

CREATE FUNCTION lowcode.check_workflow_compatibility(name text, definition jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  scope uuid := lowcode.workflow_scope();
  compiled jsonb;
  old lowcode.workflow_versions;
BEGIN
  PERFORM lowcode.workflow_check_name(name);
  compiled := lowcode.workflow_compile(definition);
  IF compiled ? 'errors' THEN
    PERFORM lowcode.workflow_raise(422, 'LW011', format('invalid definition of workflow %s', quote_literal(name)),
                                   compiled -> 'errors');
  END IF;
  SELECT v.* INTO old FROM lowcode.workflow_versions v
   WHERE v.tenant_id = scope AND v.name = check_workflow_compatibility.name ORDER BY v.version DESC LIMIT 1;
  IF old.version IS NULL THEN
    RETURN jsonb_build_object('compatible', true, 'changes', '[]'::jsonb);
  END IF;
  RETURN lowcode.workflow_compat(old, compiled);
END
$$;
COMMENT ON FUNCTION lowcode.check_workflow_compatibility(text, jsonb) IS
  'Compare a definition with the latest version of the workflow: {"compatible", "changes"}; registers nothing.';

CREATE FUNCTION lowcode.register_workflow(name text, definition jsonb, description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  scope uuid := lowcode.workflow_scope();
  compiled jsonb;
  fp text;
  existing integer;
  old lowcode.workflow_versions;
  cmp jsonb;
  newv integer;
BEGIN
  PERFORM lowcode.workflow_check_name(name);
  IF octet_length(description) > 10000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = 'a workflow description is at most 10,000 bytes';
  END IF;
  IF scope <> lowcode.registry_global()
     AND EXISTS (SELECT 1 FROM lowcode.workflows w WHERE w.tenant_id = lowcode.registry_global()
                                                     AND w.name = register_workflow.name) THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('workflow %s is a global workflow', quote_literal(name)),
      HINT = 'Choose another name.';
  END IF;
  compiled := lowcode.workflow_compile(definition);
  IF compiled ? 'errors' THEN
    PERFORM lowcode.workflow_raise(422, 'LW011', format('invalid definition of workflow %s', quote_literal(name)),
                                   compiled -> 'errors');
  END IF;
  -- one registration of a name at a time (version numbers, compatibility)
  PERFORM pg_advisory_xact_lock(hashtext('lowcode.workflows'), hashtext(scope::text || '/' || name));
  fp := encode(sha256(convert_to(definition::text, 'UTF8')), 'hex');
  SELECT v.version INTO existing FROM lowcode.workflow_versions v
   WHERE v.tenant_id = scope AND v.name = register_workflow.name AND v.fingerprint = fp;
  IF existing IS NOT NULL THEN
    RETURN existing;
  END IF;
  SELECT v.* INTO old FROM lowcode.workflow_versions v
   WHERE v.tenant_id = scope AND v.name = register_workflow.name ORDER BY v.version DESC LIMIT 1;
  IF old.version IS NOT NULL THEN
    cmp := lowcode.workflow_compat(old, compiled);
    IF NOT (cmp ->> 'compatible')::boolean THEN
      PERFORM lowcode.workflow_raise(409, 'LW004',
        format('the definition is incompatible with version %s of workflow %s', old.version, quote_literal(name)),
        (SELECT jsonb_agg(c) FROM jsonb_array_elements(cmp -> 'changes') c WHERE NOT (c ->> 'compatible')::boolean),
        'Keep the states instances may be in, or map them to new states with "migrate": {"states": {...}}.');
    END IF;
  ELSE
    IF compiled -> 'migration' IS NOT NULL AND compiled -> 'migration' <> 'null' THEN
      PERFORM lowcode.workflow_raise(422, 'LW011', format('invalid definition of workflow %s', quote_literal(name)),
        jsonb_build_array(jsonb_build_object('path', '/migrate', 'message', 'the first version has nothing to migrate from')));
    END IF;
    INSERT INTO lowcode.workflows (tenant_id, name, created_by) VALUES (scope, name, lowcode.registry_actor());
  END IF;
  newv := coalesce(old.version, 0) + 1;
  INSERT INTO lowcode.workflow_versions (tenant_id, name, version, definition, fingerprint, initial, migration,
                                         description, created_by)
  VALUES (scope, name, newv, definition, fp, compiled ->> 'initial', nullif(compiled -> 'migration', 'null'),
          description, lowcode.registry_actor());
  INSERT INTO lowcode.workflow_states (tenant_id, name, version, state, final, entry, exit, timers, schema)
  SELECT scope, name, newv, x ->> 'state', (x ->> 'final')::boolean, x -> 'entry', x -> 'exit', x -> 'timers',
         nullif(x -> 'schema', 'null')
    FROM jsonb_array_elements(compiled -> 'states') x;
  INSERT INTO lowcode.workflow_transitions (tenant_id, name, version, state, event, ord, target, guard, message, actions)
  SELECT scope, name, newv, x ->> 'state', x ->> 'event', (x ->> 'ord')::int, x ->> 'target', x ->> 'guard',
         x ->> 'message', x -> 'actions'
    FROM jsonb_array_elements(compiled -> 'transitions') x;
  PERFORM lowcode.registry_record(scope, 'workflow_registered', name, newv, jsonb_build_object('fingerprint', fp));
  RETURN newv;
END
$$;
COMMENT ON FUNCTION lowcode.register_workflow(text, jsonb, text) IS
  'Register a version of a workflow definition (XState-style JSON, see docs/workflows.md); returns the version.';

CREATE FUNCTION lowcode.get_workflow(name text, version integer DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  v lowcode.workflow_versions;
BEGIN
  PERFORM lowcode.workflow_check_name(name);
  v := lowcode.workflow_lookup(lowcode.workflow_scope(), name, version);
  IF v.version IS NULL THEN
    PERFORM lowcode.workflow_not_found(name, version);
  END IF;
  RETURN v.definition;
END
$$;
COMMENT ON FUNCTION lowcode.get_workflow(text, integer) IS 'A version of a workflow definition (the latest when NULL).';

CREATE FUNCTION lowcode.register_workflow_function(name text, fn regprocedure) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  p pg_catalog.pg_proc;
BEGIN
  IF NOT lowcode.registry_is_operator() AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
    RAISE EXCEPTION 'only the operator may register workflow functions'
      USING ERRCODE = '42501', HINT = 'Ask a member of lowcode_operator.';
  END IF;
  IF name IS NULL OR fn IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_.]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('register_workflow_function: invalid name %s or function', coalesce(quote_literal(left(name, 100)), 'NULL')),
      HINT = 'A name is a letter or "_", then up to 62 letters, digits, "_" or "."; the function takes and returns jsonb.';
  END IF;
  SELECT * INTO p FROM pg_proc WHERE oid = fn;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = format('register_workflow_function: no function with oid %s', fn::oid);
  END IF;
  IF p.prokind <> 'f' OR p.proretset OR p.pronargs <> 1 OR p.proargtypes[0] <> 'jsonb'::regtype
     OR p.prorettype <> 'jsonb'::regtype THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('register_workflow_function: %s must be a function (jsonb) returning jsonb', fn::oid::regprocedure);
  END IF;
  INSERT INTO lowcode.workflow_functions AS f (name, fn, registered_by) VALUES (name, fn, lowcode.registry_actor())
  ON CONFLICT ON CONSTRAINT workflow_functions_pkey DO UPDATE SET fn = excluded.fn, registered_at = now(),
    registered_by = excluded.registered_by;
END
$$;
COMMENT ON FUNCTION lowcode.register_workflow_function(text, regprocedure) IS
  'Operator only: let workflow actions {"type": "call", "function": name} call fn(jsonb) RETURNS jsonb.';
REVOKE ALL ON FUNCTION lowcode.register_workflow_function(text, regprocedure) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.register_workflow_function(text, regprocedure) TO lowcode_operator;

-----------------------------------------------------------------------------
-- Running: evaluating guards and actions, applying a step
-----------------------------------------------------------------------------

-- How a governed table is attached: its row of workflow_tables, or for
-- lowcode.submissions the fixed description of that table (status is the state).
CREATE FUNCTION lowcode.workflow_table(tbl regclass) RETURNS lowcode.workflow_tables
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT t.* FROM lowcode.workflow_tables t WHERE t.rel = tbl
  UNION ALL
  SELECT 'lowcode.submissions'::regclass, NULL, 'status', 'id', 'bigint', true, '{data}', '-infinity', 'pg_lowcode'
   WHERE tbl = 'lowcode.submissions'::regclass
$$;
REVOKE ALL ON FUNCTION lowcode.workflow_table(regclass) FROM PUBLIC;

-- Evaluate a list of normalised actions into the plan of a step, without
-- writing anything: "set" fields (self is updated as they go, so later
-- expressions see the new values), events to emit, timers to start or
-- cancel, functions to call.  A CEL error raises LW424 (HTTP 422).
CREATE FUNCTION lowcode.workflow_eval_actions(acts jsonb, plan jsonb, tbl lowcode.workflow_tables, path text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  a jsonb;
  i int := 0;
  k text;
  v jsonb;
  val jsonb;
  cur text;
  due timestamptz;
BEGIN
  IF acts = '[]' THEN
    RETURN plan;
  END IF;
  BEGIN
    FOR a IN SELECT x FROM jsonb_array_elements(acts) x LOOP
      cur := path || '/' || i;
      i := i + 1;
      CASE a ->> 'type'
      WHEN 'set' THEN
        FOR k, v IN SELECT * FROM jsonb_each(a -> 'fields') LOOP
          cur := path || '/' || (i - 1) || '/fields/' || k;
          IF NOT k = ANY (tbl.set_columns) THEN
            PERFORM lowcode.workflow_raise(422, 'LW424', format('action %s: column %s of %s cannot be set by a workflow', cur, k, tbl.rel),
              jsonb_build_object('action', cur, 'columns', to_jsonb(tbl.set_columns)));
          END IF;
          val := lowcode.rule_eval(v #>> '{}', plan -> 'vars');
          plan := jsonb_set(plan, '{changes}', (plan -> 'changes') || jsonb_build_object(k, val));
          plan := jsonb_set(plan, '{vars,self}', (plan -> 'vars' -> 'self') || jsonb_build_object(k, val));
        END LOOP;
      WHEN 'emit' THEN
        val := CASE WHEN a ? 'payload' AND a -> 'payload' <> 'null'
                    THEN lowcode.rule_eval(a ->> 'payload', plan -> 'vars') ELSE '{}' END;
        IF jsonb_typeof(val) <> 'object' THEN
          PERFORM lowcode.workflow_raise(422, 'LW424', format('action %s: the payload of an emit action must be a map', cur));
        END IF;
        plan := jsonb_set(plan, '{emits}', (plan -> 'emits') || jsonb_build_object('type', a -> 'event', 'payload', val));
      WHEN 'startTimer' THEN
        IF a ? 'seconds' THEN
          due := now() + make_interval(secs => (a ->> 'seconds')::double precision);
        ELSE
          val := lowcode.rule_eval(a ->> 'at', plan -> 'vars');
          BEGIN
            due := (val #>> '{}')::timestamptz;
          EXCEPTION WHEN OTHERS THEN
            due := NULL;
          END;
          IF due IS NULL OR jsonb_typeof(val) <> 'string' THEN
            PERFORM lowcode.workflow_raise(422, 'LW424', format('action %s: "at" must give a timestamp, not %s', cur, left(val::text, 100)));
          END IF;
        END IF;
        plan := jsonb_set(plan, '{starts}', (plan -> 'starts') || jsonb_build_object('timer', a -> 'id',
          'event', a -> 'event', 'payload', a -> 'payload', 'due_at', due, 'state', plan -> 'scope'));
      WHEN 'cancelTimer' THEN
        plan := jsonb_set(plan, '{cancels}', (plan -> 'cancels') || (a -> 'id'));
      WHEN 'call' THEN
        val := CASE WHEN a ? 'args' AND a -> 'args' <> 'null' THEN lowcode.rule_eval(a ->> 'args', plan -> 'vars') END;
        plan := jsonb_set(plan, '{calls}', (plan -> 'calls') || jsonb_build_object('function', a -> 'function', 'args', val));
      END CASE;
    END LOOP;
  EXCEPTION WHEN SQLSTATE 'LR000' THEN
    PERFORM lowcode.workflow_raise(422, 'LW424', format('action %s failed: %s', cur, SQLERRM),
                                   jsonb_build_object('action', cur, 'sqlstate', SQLSTATE, 'error', SQLERRM));
  END;
  RETURN plan;
END
$$;

-- The timers a state arms on entry, into the plan.
CREATE FUNCTION lowcode.workflow_eval_state_timers(timers jsonb, state text, plan jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t jsonb;
  val jsonb;
  due timestamptz;
BEGIN
  FOR t IN SELECT x FROM jsonb_array_elements(timers) x LOOP
    IF t ? 'seconds' THEN
      due := now() + make_interval(secs => (t ->> 'seconds')::double precision);
    ELSE
      BEGIN
        val := lowcode.rule_eval(t ->> 'at', plan -> 'vars');
        due := (val #>> '{}')::timestamptz;
      EXCEPTION WHEN OTHERS THEN
        PERFORM lowcode.workflow_raise(422, 'LW424', format('timer %s of state %s: "at" did not give a timestamp: %s',
                                                            t ->> 'id', state, SQLERRM));
      END;
    END IF;
    plan := jsonb_set(plan, '{starts}', (plan -> 'starts') || jsonb_build_object('timer', t -> 'id',
      'event', t -> 'event', 'payload', t -> 'payload', 'due_at', due, 'state', state));
  END LOOP;
  RETURN plan;
END
$$;

-- Does a record satisfy the state's form schema?  Raises LW423 (HTTP 422) when not.
CREATE FUNCTION lowcode.workflow_check_state_schema(schema jsonb, state text, doc jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  res jsonb;
BEGIN
  IF schema IS NULL THEN
    RETURN;
  END IF;
  IF jsonb_typeof(schema) = 'string' THEN
    res := lowcode.validate(schema #>> '{}', doc);
  ELSE
    res := lowcode.jsonschema_validate(schema, doc);
  END IF;
  IF NOT (res ->> 'valid')::boolean THEN
    PERFORM lowcode.workflow_raise(422, 'LW423', format('the record does not satisfy the form schema of state %s', state),
                                   res -> 'errors');
  END IF;
END
$$;

-- Read and lock the record of an instance: its row as jsonb.
CREATE FUNCTION lowcode.workflow_read_record(tbl lowcode.workflow_tables, tenant uuid, record_key text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  rec jsonb;
BEGIN
  EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE t.%I = $1::%s%s FOR NO KEY UPDATE',
                 tbl.rel, tbl.key_col, tbl.key_type, CASE WHEN tbl.has_tenant THEN ' AND t.tenant_id = $2' ELSE '' END)
    INTO rec USING record_key, tenant;
  RETURN rec;
END
$$;

-- Write changed columns (and the state) of an instance's record.
CREATE FUNCTION lowcode.workflow_write_record(tbl lowcode.workflow_tables, tenant uuid, record_key text, changes jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  cols text;
  rcols text;
BEGIN
  SELECT string_agg(format('%I', k), ', ' ORDER BY k), string_agg(format('r.%I', k), ', ' ORDER BY k)
    INTO cols, rcols FROM jsonb_object_keys(changes) k;
  EXECUTE format('UPDATE %s t SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, $1) r) WHERE t.%I = $2::%s%s',
                 tbl.rel, cols, rcols, tbl.rel, tbl.key_col, tbl.key_type,
                 CASE WHEN tbl.has_tenant THEN ' AND t.tenant_id = $3' ELSE '' END)
    USING changes, record_key, tenant;
END
$$;

-- Apply the writes of a plan: timers, calls, events (the record and the
-- instance are written by the caller).
CREATE FUNCTION lowcode.workflow_apply_plan(inst lowcode.workflow_instances, plan jsonb, exit_state text,
                                            leave_all boolean)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  d_timers bigint := 0;
  n bigint;
  c jsonb;
  e jsonb;
  fn regprocedure;
  ctx jsonb;
BEGIN
  -- timers: those of the state left, those cancelled, all of them in a final state
  IF leave_all THEN
    DELETE FROM lowcode.workflow_timers w WHERE w.tenant_id = inst.tenant_id AND w.instance_id = inst.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    d_timers := d_timers - n;
  ELSE
    IF exit_state IS NOT NULL THEN
      DELETE FROM lowcode.workflow_timers w
       WHERE w.tenant_id = inst.tenant_id AND w.instance_id = inst.id AND w.state = exit_state;
      GET DIAGNOSTICS n = ROW_COUNT;
      d_timers := d_timers - n;
    END IF;
    IF plan -> 'cancels' <> '[]' THEN
      DELETE FROM lowcode.workflow_timers w
       WHERE w.tenant_id = inst.tenant_id AND w.instance_id = inst.id
         AND w.timer IN (SELECT jsonb_array_elements_text(plan -> 'cancels'));
      GET DIAGNOSTICS n = ROW_COUNT;
      d_timers := d_timers - n;
    END IF;
    IF plan -> 'starts' <> '[]' THEN
      -- a timer started again replaces the pending one of the same id
      DELETE FROM lowcode.workflow_timers w
       WHERE w.tenant_id = inst.tenant_id AND w.instance_id = inst.id
         AND w.timer IN (SELECT x ->> 'timer' FROM jsonb_array_elements(plan -> 'starts') x);
      GET DIAGNOSTICS n = ROW_COUNT;
      d_timers := d_timers - n;
      INSERT INTO lowcode.workflow_timers (tenant_id, instance_id, timer, state, event, payload, due_at)
      SELECT DISTINCT ON (x ->> 'timer') inst.tenant_id, inst.id, x ->> 'timer', x ->> 'state', x ->> 'event',
             coalesce(x -> 'payload', '{}'), (x ->> 'due_at')::timestamptz
        FROM jsonb_array_elements(plan -> 'starts') WITH ORDINALITY AS s(x, o)
       ORDER BY x ->> 'timer', o DESC;
      GET DIAGNOSTICS n = ROW_COUNT;
      d_timers := d_timers + n;
      -- due before the worker looks again: wake it at commit
      IF (SELECT min((x ->> 'due_at')::timestamptz) FROM jsonb_array_elements(plan -> 'starts') x)
         < now() + coalesce(current_setting('lowcode.sweep_interval', true), '1s')::interval THEN
        PERFORM lowcode.workflow_wake_worker();
      END IF;
    END IF;
  END IF;
  PERFORM lowcode.workflow_count(inst.tenant_id, 0, d_timers);

  FOR c IN SELECT x FROM jsonb_array_elements(plan -> 'calls') x LOOP
    SELECT f.fn INTO fn FROM lowcode.workflow_functions f WHERE f.name = c ->> 'function';
    IF fn IS NULL THEN
      PERFORM lowcode.workflow_raise(422, 'LW424', format('workflow function %s is not registered', c ->> 'function'));
    END IF;
    ctx := jsonb_build_object('tenant_id', inst.tenant_id, 'instance', inst.id, 'workflow', inst.workflow,
             'version', inst.version, 'record', plan -> 'vars' -> 'self', 'event', plan -> 'vars' -> 'event',
             'payload', plan -> 'vars' -> 'payload', 'actor', plan -> 'vars' -> 'actor',
             'from', plan -> 'vars' -> 'state', 'to', plan -> 'target', 'args', c -> 'args');
    EXECUTE format('SELECT %s($1)', fn::oid::regproc) USING ctx;
  END LOOP;
  FOR e IN SELECT x FROM jsonb_array_elements(plan -> 'emits') x LOOP
    PERFORM lowcode.emit_event(inst.tenant_id, e ->> 'type', e -> 'payload');
  END LOOP;
END
$$;

-- One event on one locked instance: the core of fire() and of the timers, in C
-- (src/workflow/workflow_fire.c: the definition compiled once per backend, saved
-- plans per governed table, guards evaluated by the CEL engine directly).
-- Raises LW409 (no transition), LW422 (guards refused), LW423 (form schema),
-- LW424 (an action failed); otherwise writes everything and returns the result.
CREATE FUNCTION lowcode.workflow_step(inst lowcode.workflow_instances, event text, payload jsonb, actor jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_workflow_step'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.workflow_step(lowcode.workflow_instances, text, jsonb, jsonb) FROM PUBLIC;

-- fire() after the record reference is resolved (SECURITY DEFINER: writes the
-- workflow tables; filters by the caller's tenant), in C.
CREATE FUNCTION lowcode.workflow_fire_record(rel regclass, record_key text, instance bigint, event text,
                                             payload jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_workflow_fire_record'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp;

-- Runs as the caller, so that a table name resolves in the caller's search_path (C).
CREATE FUNCTION lowcode.fire(record jsonb, event text, payload jsonb DEFAULT '{}') RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_fire'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.fire(jsonb, text, jsonb) IS
  'Fire an event on a record governed by a workflow: one atomic transition (guards, actions, state, history, event) or an error (HTTP 404/409/422).';

-- The compiled definitions and table plans fire() keeps per backend: any change
-- to the definitions or to workflow_tables drops them in every backend (a
-- relcache invalidation of the changed table, C).
CREATE FUNCTION lowcode.workflow_cache_inval() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_workflow_cache_inval'
LANGUAGE C;
REVOKE ALL ON FUNCTION lowcode.workflow_cache_inval() FROM PUBLIC;
CREATE TRIGGER workflow_versions_cache_inval AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.workflow_versions
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.workflow_cache_inval();
CREATE TRIGGER workflow_states_cache_inval AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.workflow_states
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.workflow_cache_inval();
CREATE TRIGGER workflow_transitions_cache_inval AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.workflow_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.workflow_cache_inval();
CREATE TRIGGER workflow_tables_cache_inval AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.workflow_tables
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.workflow_cache_inval();

-- This backend's cache: {"definitions", "tables", "table_plans"} (tests, operators).
CREATE FUNCTION lowcode.workflow_cache_stats() RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_workflow_cache_stats'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.workflow_cache_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.workflow_cache_stats() TO lowcode_operator;

-----------------------------------------------------------------------------
-- Instances: attaching, and the triggers on governed tables
-----------------------------------------------------------------------------

-- Start an instance for a new record: returns the columns to set on it
-- (the initial state and the initial state's entry "set" actions).
CREATE FUNCTION lowcode.workflow_start(tbl lowcode.workflow_tables, tenant uuid, workflow text, rec jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  v lowcode.workflow_versions;
  st lowcode.workflow_states;
  inst lowcode.workflow_instances;
  plan jsonb;
  key text := rec ->> tbl.key_col;
  actor jsonb := lowcode.workflow_actor();
BEGIN
  IF key IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = format('the key column %I of %s is NULL', tbl.key_col, tbl.rel);
  END IF;
  v := lowcode.workflow_lookup(tenant, workflow);
  IF v.version IS NULL THEN
    PERFORM lowcode.workflow_not_found(workflow);
  END IF;
  SELECT * INTO st FROM lowcode.workflow_states s
   WHERE s.tenant_id = v.tenant_id AND s.name = v.name AND s.version = v.version AND s.state = v.initial;
  plan := jsonb_build_object('vars', jsonb_build_object('self', rec, 'oldSelf', NULL, 'payload', '{}'::jsonb,
                               'actor', actor, 'event', NULL, 'state', NULL, 'now', now(),
                               'workflow', jsonb_build_object('name', v.name, 'version', v.version)),
                             'changes', '{}'::jsonb, 'emits', '[]'::jsonb, 'starts', '[]'::jsonb,
                             'cancels', '[]'::jsonb, 'calls', '[]'::jsonb, 'scope', to_jsonb(v.initial),
                             'target', to_jsonb(v.initial));
  plan := lowcode.workflow_eval_actions(st.entry, plan, tbl, format('/states/%s/entry', v.initial));
  plan := lowcode.workflow_eval_state_timers(st.timers, v.initial, plan);
  plan := jsonb_set(plan, '{changes}', (plan -> 'changes') || jsonb_build_object(tbl.state_col, v.initial));
  plan := jsonb_set(plan, '{vars,self}', (plan -> 'vars' -> 'self') || jsonb_build_object(tbl.state_col, v.initial));
  PERFORM lowcode.workflow_check_state_schema(st.schema, v.initial,
    CASE WHEN tbl.rel = 'lowcode.submissions'::regclass THEN plan -> 'vars' -> 'self' -> 'data' ELSE plan -> 'vars' -> 'self' END);
  PERFORM lowcode.workflow_count(tenant, 1, 0);
  INSERT INTO lowcode.workflow_instances (tenant_id, rel, record_key, workflow, wf_tenant, version, state, snapshot)
  VALUES (tenant, tbl.rel, key, v.name, v.tenant_id, v.version, v.initial, plan -> 'vars' -> 'self')
  RETURNING * INTO inst;
  PERFORM lowcode.workflow_apply_plan(inst, plan, NULL, st.final);
  INSERT INTO lowcode.workflow_history (tenant_id, instance_id, workflow, version, event, from_state, to_state, outcome,
                                        actor_role, actor_principal, trace_id, rel, record_key)
  VALUES (tenant, inst.id, v.name, v.version, NULL, NULL, v.initial, 'created', actor ->> 'role',
          actor ->> 'principal', lowcode.registry_trace_id(), tbl.rel, key);
  PERFORM lowcode.emit_event(tenant, 'workflow.started',
    jsonb_build_object('instance', inst.id, 'workflow', v.name, 'version', v.version, 'table', tbl.rel::text,
                       'key', key, 'state', v.initial));
  RETURN plan -> 'changes';
END
$$;
REVOKE ALL ON FUNCTION lowcode.workflow_start(lowcode.workflow_tables, uuid, text, jsonb) FROM PUBLIC;

-- The trigger of governed tables (and of lowcode.submissions): INSERT starts
-- an instance, UPDATE of the state (or key) column is refused unless fire()
-- moved the instance there, DELETE ends the instance.
CREATE FUNCTION lowcode.workflow_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  tbl lowcode.workflow_tables;
  rec jsonb;
  old_rec jsonb;
  tenant uuid;
  wf text;
  inst lowcode.workflow_instances;
  changes jsonb;
  n bigint;
BEGIN
  -- rows written by a superuser without a tenant context (pg_restore, data repair) are written as given
  IF lowcode.current_tenant() IS NULL AND (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user) THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  tbl := lowcode.workflow_table(TG_RELID);
  IF tbl.rel IS NULL THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;

  IF TG_OP = 'INSERT' THEN
    rec := to_jsonb(NEW);
    tenant := CASE WHEN tbl.has_tenant THEN (rec ->> 'tenant_id')::uuid ELSE lowcode.current_tenant() END;
    IF tenant IS NULL THEN
      PERFORM lowcode.workflow_scope();     -- raises LW006
    END IF;
    IF tbl.workflow IS NULL THEN
      SELECT s.workflow INTO wf FROM lowcode.workflow_subjects s WHERE s.tenant_id = tenant AND s.subject = rec ->> 'subject';
      IF wf IS NULL THEN
        RETURN NEW;                         -- a submission of a subject without a workflow
      END IF;
    ELSE
      wf := tbl.workflow;
      IF rec ->> tbl.state_col IS NOT NULL THEN
        -- the state of a new record is the initial state; checked against the definition in workflow_start
        NULL;
      END IF;
    END IF;
    changes := lowcode.workflow_start(tbl, tenant, wf, rec);
    IF tbl.workflow IS NOT NULL AND rec ->> tbl.state_col IS NOT NULL
       AND rec ->> tbl.state_col IS DISTINCT FROM changes ->> tbl.state_col THEN
      RAISE EXCEPTION USING ERRCODE = 'LW007',
        MESSAGE = format('a new record of %s starts in state %s, not %s', tbl.rel, changes ->> tbl.state_col,
                         rec ->> tbl.state_col),
        HINT = 'Leave the state column out (or NULL) on INSERT; change it with lowcode.fire().';
    END IF;
    NEW := jsonb_populate_record(NEW, changes);
    RETURN NEW;
  END IF;

  IF TG_OP = 'UPDATE' THEN
    rec := to_jsonb(NEW);
    old_rec := to_jsonb(OLD);
    IF rec -> tbl.state_col IS NOT DISTINCT FROM old_rec -> tbl.state_col
       AND rec -> tbl.key_col IS NOT DISTINCT FROM old_rec -> tbl.key_col THEN
      RETURN NEW;
    END IF;
    tenant := CASE WHEN tbl.has_tenant THEN (old_rec ->> 'tenant_id')::uuid ELSE lowcode.current_tenant() END;
    SELECT * INTO inst FROM lowcode.workflow_instances i
     WHERE i.tenant_id = tenant AND i.rel = tbl.rel AND i.record_key = old_rec ->> tbl.key_col;
    IF inst.id IS NULL AND tbl.workflow IS NULL THEN
      RETURN NEW;                           -- a submission outside any workflow
    END IF;
    IF rec -> tbl.key_col IS DISTINCT FROM old_rec -> tbl.key_col THEN
      RAISE EXCEPTION USING ERRCODE = 'LW007',
        MESSAGE = format('the key %I of a record of %s governed by a workflow cannot change', tbl.key_col, tbl.rel);
    END IF;
    IF inst.id IS NULL OR inst.state IS DISTINCT FROM rec ->> tbl.state_col THEN
      RAISE EXCEPTION USING ERRCODE = 'LW007',
        MESSAGE = format('the state column %I of %s changes only through lowcode.fire()', tbl.state_col, tbl.rel),
        HINT = 'Fire the event that leads to that state: SELECT lowcode.fire(record, event, payload).';
    END IF;
    RETURN NEW;
  END IF;

  -- DELETE: the instance ends; its history stays
  old_rec := to_jsonb(OLD);
  tenant := CASE WHEN tbl.has_tenant THEN (old_rec ->> 'tenant_id')::uuid ELSE lowcode.current_tenant() END;
  DELETE FROM lowcode.workflow_instances i
   WHERE i.tenant_id = tenant AND i.rel = tbl.rel AND i.record_key = old_rec ->> tbl.key_col
  RETURNING * INTO inst;
  IF inst.id IS NOT NULL THEN
    DELETE FROM lowcode.workflow_timers w WHERE w.tenant_id = tenant AND w.instance_id = inst.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM lowcode.workflow_count(tenant, -1, -n);
  END IF;
  RETURN OLD;
END
$$;

CREATE FUNCTION lowcode.attach_workflow(tbl regclass, workflow text, state_col name DEFAULT 'state',
                                        key_col name DEFAULT 'id')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  rel record;
  st_type regtype;
  key_att record;
  tenant_att int2;
  cols name[];
  caller text := lowcode.registry_actor_role();
  trg text;
BEGIN
  IF tbl IS NULL OR state_col IS NULL OR key_col IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = 'attach_workflow: the table, the state column and the key column must not be NULL';
  END IF;
  PERFORM lowcode.workflow_check_name(workflow);
  SELECT c.relkind, c.relname, c.relowner, n.nspname INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = format('attach_workflow: no relation with oid %s', tbl::oid);
  END IF;
  IF rel.relkind NOT IN ('r', 'p') OR rel.nspname IN ('lowcode', 'pg_catalog', 'information_schema', 'pg_toast') THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('attach_workflow: %I.%I is not a table of an application schema', rel.nspname, rel.relname);
  END IF;
  IF NOT pg_has_role(caller, rel.relowner, 'USAGE') THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format('attach_workflow: must be the owner of %s', tbl);
  END IF;
  SELECT a.atttypid::regtype INTO st_type FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = state_col AND a.attnum > 0 AND NOT a.attisdropped;
  IF st_type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = format('attach_workflow: %s has no column %I', tbl, state_col);
  END IF;
  IF st_type NOT IN ('text'::regtype, 'character varying'::regtype) THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('attach_workflow: the state column %I of %s is of type %s, not text', state_col, tbl, st_type);
  END IF;
  SELECT a.attnum, format_type(a.atttypid, NULL) AS typ INTO key_att FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = key_col AND a.attnum > 0 AND NOT a.attisdropped;
  IF key_att.attnum IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = format('attach_workflow: %s has no column %I', tbl, key_col);
  END IF;
  IF key_col = state_col THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = 'attach_workflow: the key and the state column must differ';
  END IF;
  -- the key must identify a row (alone, or with tenant_id)
  SELECT a.attnum INTO tenant_att FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;
  IF NOT EXISTS (SELECT 1 FROM pg_index i
                  WHERE i.indrelid = tbl AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
                    AND (SELECT array_agg(x ORDER BY x) FROM unnest(i.indkey::int2[]) x)
                        IN (ARRAY[key_att.attnum]::int2[],
                            (SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY[key_att.attnum, tenant_att]::int2[]) x))) THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('attach_workflow: the key column %I of %s is not unique', key_col, tbl),
      HINT = 'Use a column with a primary key or unique index, alone or with tenant_id.';
  END IF;
  SELECT coalesce(array_agg(a.attname ORDER BY a.attnum), '{}') INTO cols FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> 'a' AND a.attgenerated = ''
     AND a.attname NOT IN (state_col, key_col, 'tenant_id');
  INSERT INTO lowcode.workflow_tables AS w (rel, workflow, state_col, key_col, key_type, has_tenant, set_columns, attached_by)
  VALUES (tbl, workflow, state_col, key_col, key_att.typ,
          EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped
                     AND a.atttypid = 'uuid'::regtype),
          cols, lowcode.registry_actor())
  ON CONFLICT ON CONSTRAINT workflow_tables_pkey DO UPDATE
    SET workflow = excluded.workflow, state_col = excluded.state_col, key_col = excluded.key_col,
        key_type = excluded.key_type, has_tenant = excluded.has_tenant, set_columns = excluded.set_columns,
        attached_at = now(), attached_by = excluded.attached_by;
  FOREACH trg IN ARRAY ARRAY['lowcode_workflow_insert', 'lowcode_workflow_update', 'lowcode_workflow_delete'] LOOP
    IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = trg) THEN
      EXECUTE format('DROP TRIGGER %I ON %s', trg, tbl);
    END IF;
  END LOOP;
  EXECUTE format('CREATE TRIGGER lowcode_workflow_insert BEFORE INSERT ON %s FOR EACH ROW '
                 'EXECUTE FUNCTION lowcode.workflow_trigger()', tbl);
  EXECUTE format('CREATE TRIGGER lowcode_workflow_update BEFORE UPDATE OF %I, %I ON %s FOR EACH ROW '
                 'WHEN (OLD.%I IS DISTINCT FROM NEW.%I OR OLD.%I IS DISTINCT FROM NEW.%I) '
                 'EXECUTE FUNCTION lowcode.workflow_trigger()', state_col, key_col, tbl,
                 state_col, state_col, key_col, key_col);
  EXECUTE format('CREATE TRIGGER lowcode_workflow_delete AFTER DELETE ON %s FOR EACH ROW '
                 'EXECUTE FUNCTION lowcode.workflow_trigger()', tbl);
END
$$;
COMMENT ON FUNCTION lowcode.attach_workflow(regclass, text, name, name) IS
  'Govern a table by a workflow (by the table''s owner): each new row starts an instance in the initial state; the state column changes only through lowcode.fire().';

CREATE FUNCTION lowcode.attach_workflow_subject(subject text, workflow text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  tenant uuid := lowcode.current_tenant();
  v lowcode.workflow_versions;
  bad text;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW006', MESSAGE = 'attach_workflow_subject needs a tenant context',
      HINT = 'Submissions belong to a tenant; call it through PostgREST with a tenant_id claim.';
  END IF;
  PERFORM lowcode.registry_check_subject_name(subject);
  IF workflow IS NULL THEN
    DELETE FROM lowcode.workflow_subjects s WHERE s.tenant_id = tenant AND s.subject = attach_workflow_subject.subject;
    RETURN;
  END IF;
  PERFORM lowcode.workflow_check_name(workflow);
  v := lowcode.workflow_lookup(tenant, workflow);
  IF v.version IS NULL THEN
    PERFORM lowcode.workflow_not_found(workflow);
  END IF;
  -- the state is stored in submissions.status
  SELECT string_agg(s.state, ', ') INTO bad FROM lowcode.workflow_states s
   WHERE s.tenant_id = v.tenant_id AND s.name = v.name AND s.state !~ '^[a-z][a-z0-9_]{0,62}$';
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('attach_workflow_subject: states %s of workflow %s cannot be a submission status', bad, workflow),
      HINT = 'A submission status is a lowercase letter, then lowercase letters, digits or "_".';
  END IF;
  INSERT INTO lowcode.workflow_subjects AS s (tenant_id, subject, workflow, attached_by)
  VALUES (tenant, subject, workflow, lowcode.registry_actor())
  ON CONFLICT ON CONSTRAINT workflow_subjects_pkey DO UPDATE
    SET workflow = excluded.workflow, attached_at = now(), attached_by = excluded.attached_by;
END
$$;
COMMENT ON FUNCTION lowcode.attach_workflow_subject(text, text) IS
  'Govern the tenant''s new submissions of a subject by a workflow (NULL: detach); the status column is the state.';

CREATE TRIGGER submissions_workflow_insert BEFORE INSERT ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.workflow_trigger();
CREATE TRIGGER submissions_workflow_update BEFORE UPDATE OF status, id ON lowcode.submissions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION lowcode.workflow_trigger();
CREATE TRIGGER submissions_workflow_delete AFTER DELETE ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.workflow_trigger();

-----------------------------------------------------------------------------
-- Timers (run by the database worker, src/workflow/workflow_worker.c)
-----------------------------------------------------------------------------

-- Fire up to batch_size due timers, fairly across tenants (each tenant with due
-- timers gets its share of the batch first), each in a subtransaction of the
-- caller's transaction: the timer row is deleted in the transaction that
-- applies its event, so a timer fires exactly once even across crashes.
-- A timer whose event is not allowed (LW409) is recorded as "ignored", one
-- whose guards refuse as "refused"; an unexpected error is retried with
-- backoff, and recorded as "failed" after 10 attempts.
CREATE FUNCTION lowcode.workflow_run_timers(batch_size integer DEFAULT 500) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  now_ts timestamptz := clock_timestamp();
  ntenants bigint;
  per bigint;
  tm lowcode.workflow_timers;
  inst lowcode.workflow_instances;
  fired integer := 0;
  st text;
  msg text;
  code text;
  outcome text;
  actor jsonb;
BEGIN
  IF batch_size IS NULL OR batch_size < 1 OR batch_size > 100000 THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = 'workflow_run_timers: batch_size is between 1 and 100000';
  END IF;
  SELECT count(*) INTO ntenants FROM lowcode.tenants t
   WHERE EXISTS (SELECT 1 FROM lowcode.workflow_timers w WHERE w.tenant_id = t.id AND w.due_at <= now_ts);
  IF ntenants = 0 THEN
    RETURN 0;
  END IF;
  per := greatest(1, ceil(batch_size::numeric / ntenants));
  FOR tm IN SELECT w.* FROM lowcode.tenants ten
             CROSS JOIN LATERAL (SELECT * FROM lowcode.workflow_timers w
                                  WHERE w.tenant_id = ten.id AND w.due_at <= now_ts
                                  ORDER BY w.due_at LIMIT per FOR UPDATE SKIP LOCKED) w
             ORDER BY w.due_at LIMIT batch_size LOOP
    SELECT * INTO inst FROM lowcode.workflow_instances i
     WHERE i.tenant_id = tm.tenant_id AND i.id = tm.instance_id FOR NO KEY UPDATE SKIP LOCKED;
    IF inst.id IS NULL THEN
      IF NOT EXISTS (SELECT 1 FROM lowcode.workflow_instances i WHERE i.tenant_id = tm.tenant_id AND i.id = tm.instance_id) THEN
        DELETE FROM lowcode.workflow_timers w
         WHERE w.tenant_id = tm.tenant_id AND w.instance_id = tm.instance_id AND w.timer = tm.timer;
        PERFORM lowcode.workflow_count(tm.tenant_id, 0, -1);
        fired := fired + 1;       -- the instance is gone: the timer is dropped
      END IF;
      CONTINUE;                 -- else an event on the instance is in flight: next round
    END IF;
    actor := jsonb_build_object('role', 'system', 'principal', 'timer:' || tm.timer, 'claims', '{}'::jsonb);
    BEGIN
      DELETE FROM lowcode.workflow_timers w
       WHERE w.tenant_id = tm.tenant_id AND w.instance_id = tm.instance_id AND w.timer = tm.timer;
      PERFORM lowcode.workflow_count(tm.tenant_id, 0, -1);
      PERFORM lowcode.workflow_step(inst, tm.event, tm.payload || jsonb_build_object('timer', tm.timer), actor);
      fired := fired + 1;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      code := NULL;
      IF st = 'PGRST' THEN
        BEGIN
          code := msg::jsonb ->> 'code';
          msg := msg::jsonb ->> 'message';
        EXCEPTION WHEN OTHERS THEN
          NULL;
        END;
      END IF;
      outcome := CASE WHEN code IN ('LW409', 'LW404') THEN 'ignored'
                      WHEN code IN ('LW422', 'LW423', 'LW424', 'LQ436', 'LQ435') THEN 'refused'
                      WHEN tm.attempts >= 9 THEN 'failed' END;
      IF outcome IS NULL THEN
        -- unexpected: try again later (1 s, 2 s, 4 s, ... at most an hour)
        UPDATE lowcode.workflow_timers w
           SET attempts = w.attempts + 1,
               due_at = clock_timestamp() + least(interval '1 hour', interval '1 second' * (2 ^ w.attempts))
         WHERE w.tenant_id = tm.tenant_id AND w.instance_id = tm.instance_id AND w.timer = tm.timer;
        RAISE LOG 'pg_lowcode: workflow timer % of instance % failed (attempt %): %: %',
          tm.timer, tm.instance_id, tm.attempts + 1, st, msg;
      ELSE
        DELETE FROM lowcode.workflow_timers w
         WHERE w.tenant_id = tm.tenant_id AND w.instance_id = tm.instance_id AND w.timer = tm.timer;
        PERFORM lowcode.workflow_count(tm.tenant_id, 0, -1);
        INSERT INTO lowcode.workflow_history (tenant_id, instance_id, workflow, version, event, from_state, to_state,
                                              outcome, message, payload, actor_role, actor_principal, rel, record_key)
        VALUES (inst.tenant_id, inst.id, inst.workflow, inst.version, tm.event, inst.state, inst.state, outcome,
                left(coalesce(code || ': ', '') || msg, 2000), tm.payload, 'system', 'timer:' || tm.timer,
                inst.rel, inst.record_key);
      END IF;
      fired := fired + 1;
    END;
  END LOOP;
  RETURN fired;
END
$$;
COMMENT ON FUNCTION lowcode.workflow_run_timers(integer) IS
  'Fire due workflow timers (what the database worker does every sweep); returns how many were handled.';
REVOKE ALL ON FUNCTION lowcode.workflow_run_timers(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.workflow_run_timers(integer) TO lowcode_operator;

-- Wake this database's worker when the transaction commits (C, src/workflow/workflow_worker.c).
CREATE FUNCTION lowcode.workflow_wake_worker() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_workflow_wake_worker'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.workflow_wake_worker() FROM PUBLIC;

-- When the next timer is due (the worker sleeps until then).
CREATE FUNCTION lowcode.workflow_next_timer() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT min(due_at) FROM lowcode.workflow_timers
$$;
REVOKE ALL ON FUNCTION lowcode.workflow_next_timer() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.workflow_next_timer() TO lowcode_operator;

-----------------------------------------------------------------------------
-- Versions: migrating instances
-----------------------------------------------------------------------------

-- Move the caller's instances of version from_version of a workflow to a
-- later version (the latest when NULL), mapping each state through the
-- "migrate" maps of the versions in between (a state that keeps its name
-- needs no entry).  No exit or entry actions run; the state timers of a
-- changed state are re-armed.  Returns {"migrated", "unmapped"}.
CREATE FUNCTION lowcode.migrate_workflow(name text, from_version integer, to_version integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  tenant uuid := lowcode.current_tenant();
  target lowcode.workflow_versions;
  src lowcode.workflow_versions;
  inst lowcode.workflow_instances;
  tbl lowcode.workflow_tables;
  s text;
  k integer;
  m jsonb;
  migrated bigint := 0;
  unmapped bigint := 0;
  st lowcode.workflow_states;
  plan jsonb;
  actor jsonb := lowcode.workflow_actor();
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW006', MESSAGE = 'migrate_workflow needs a tenant context',
      HINT = 'Instances belong to a tenant; call it through PostgREST with a tenant_id claim.';
  END IF;
  PERFORM lowcode.workflow_check_name(name);
  IF from_version IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005', MESSAGE = 'migrate_workflow: from_version must not be NULL';
  END IF;
  src := lowcode.workflow_lookup(tenant, name, from_version);
  IF src.version IS NULL THEN
    PERFORM lowcode.workflow_not_found(name, from_version);
  END IF;
  target := lowcode.workflow_lookup(tenant, name, to_version);
  IF target.version IS NULL THEN
    PERFORM lowcode.workflow_not_found(name, to_version);
  END IF;
  IF target.version <= src.version THEN
    RAISE EXCEPTION USING ERRCODE = 'LW005',
      MESSAGE = format('migrate_workflow: version %s is not after version %s', target.version, src.version);
  END IF;
  FOR inst IN SELECT * FROM lowcode.workflow_instances i
               WHERE i.tenant_id = tenant AND i.workflow = migrate_workflow.name AND i.wf_tenant = src.tenant_id
                 AND i.version = src.version
               ORDER BY i.id FOR NO KEY UPDATE LOOP
    s := inst.state;
    FOR k IN src.version + 1 .. target.version LOOP
      SELECT v.migration INTO m FROM lowcode.workflow_versions v
       WHERE v.tenant_id = src.tenant_id AND v.name = migrate_workflow.name AND v.version = k;
      IF m ? s THEN
        s := m ->> s;
      ELSIF NOT EXISTS (SELECT 1 FROM lowcode.workflow_states x
                         WHERE x.tenant_id = src.tenant_id AND x.name = migrate_workflow.name AND x.version = k AND x.state = s) THEN
        s := NULL;
        EXIT;
      END IF;
    END LOOP;
    IF s IS NULL THEN
      unmapped := unmapped + 1;
      CONTINUE;
    END IF;
    tbl := lowcode.workflow_table(inst.rel);
    UPDATE lowcode.workflow_instances i SET version = target.version, state = s, updated_at = now()
     WHERE i.tenant_id = inst.tenant_id AND i.id = inst.id;
    IF s <> inst.state THEN
      PERFORM lowcode.workflow_write_record(tbl, inst.tenant_id, inst.record_key, jsonb_build_object(tbl.state_col, s));
      SELECT * INTO st FROM lowcode.workflow_states x
       WHERE x.tenant_id = target.tenant_id AND x.name = target.name AND x.version = target.version AND x.state = s;
      plan := jsonb_build_object('vars', jsonb_build_object('self', lowcode.workflow_read_record(tbl, inst.tenant_id, inst.record_key),
                                   'oldSelf', inst.snapshot, 'payload', '{}'::jsonb, 'actor', actor, 'event', NULL,
                                   'state', s, 'now', now()),
                                 'changes', '{}'::jsonb, 'emits', '[]'::jsonb, 'starts', '[]'::jsonb,
                                 'cancels', '[]'::jsonb, 'calls', '[]'::jsonb);
      plan := lowcode.workflow_eval_state_timers(st.timers, s, plan);
      inst.version := target.version;
      PERFORM lowcode.workflow_apply_plan(inst, plan, inst.state, st.final);
    END IF;
    INSERT INTO lowcode.workflow_history (tenant_id, instance_id, workflow, version, event, from_state, to_state,
                                          outcome, message, actor_role, actor_principal, trace_id, rel, record_key)
    VALUES (inst.tenant_id, inst.id, inst.workflow, target.version, NULL, inst.state, s, 'migrated',
            format('version %s to %s', src.version, target.version), actor ->> 'role', actor ->> 'principal',
            lowcode.registry_trace_id(), inst.rel, inst.record_key);
    migrated := migrated + 1;
  END LOOP;
  IF migrated > 0 THEN
    PERFORM lowcode.emit_event(tenant, 'workflow.migrated',
      jsonb_build_object('workflow', name, 'from', src.version, 'to', target.version, 'instances', migrated));
  END IF;
  RETURN jsonb_build_object('migrated', migrated, 'unmapped', unmapped, 'from', src.version, 'to', target.version);
END
$$;
COMMENT ON FUNCTION lowcode.migrate_workflow(text, integer, integer) IS
  'Move the tenant''s instances of a version to a later one through the versions'' "migrate" maps; instances in unmapped states stay.';

-----------------------------------------------------------------------------
-- Views for PostgREST (security_invoker: the caller's policies apply)
-----------------------------------------------------------------------------
CREATE VIEW lowcode.workflow_timeline WITH (security_invoker = true) AS
  SELECT h.instance_id, h.rel::text AS table_name, h.record_key, h.id AS step, h.created_at AS at, h.event,
         h.from_state, h.to_state, h.outcome, h.message, h.workflow, h.version, h.actor_role, h.actor_principal,
         h.payload, h.trace_id
    FROM lowcode.workflow_history h;
COMMENT ON VIEW lowcode.workflow_timeline IS
  'Every step of the tenant''s workflow instances, oldest first per instance (ORDER BY instance_id, step).';

CREATE VIEW lowcode.workflow_definitions WITH (security_invoker = true) AS
  SELECT w.name, w.tenant_id = lowcode.registry_global() AS global, l.version AS latest_version, l.initial,
         l.description, l.definition, l.created_at AS updated_at,
         (SELECT count(*) FROM lowcode.workflow_versions c WHERE c.tenant_id = w.tenant_id AND c.name = w.name)::integer AS versions
    FROM lowcode.workflows w
    JOIN LATERAL (SELECT v.* FROM lowcode.workflow_versions v WHERE v.tenant_id = w.tenant_id AND v.name = w.name
                   ORDER BY v.version DESC LIMIT 1) l ON true;
COMMENT ON VIEW lowcode.workflow_definitions IS 'The workflows a tenant sees (its own and the global ones) with their latest version.';

-----------------------------------------------------------------------------
-- Privileges
-----------------------------------------------------------------------------
REVOKE ALL ON FUNCTION lowcode.workflow_raise(int, text, text, jsonb, text),
  lowcode.workflow_count(uuid, bigint, bigint), lowcode.workflow_limit(uuid, text),
  lowcode.workflow_eval_actions(jsonb, jsonb, lowcode.workflow_tables, text),
  lowcode.workflow_eval_state_timers(jsonb, text, jsonb),
  lowcode.workflow_read_record(lowcode.workflow_tables, uuid, text),
  lowcode.workflow_write_record(lowcode.workflow_tables, uuid, text, jsonb),
  lowcode.workflow_apply_plan(lowcode.workflow_instances, jsonb, text, boolean),
  lowcode.workflow_trigger() FROM PUBLIC;
GRANT SELECT ON lowcode.workflows, lowcode.workflow_versions, lowcode.workflow_states, lowcode.workflow_transitions,
  lowcode.workflow_tables, lowcode.workflow_subjects, lowcode.workflow_instances, lowcode.workflow_timers,
  lowcode.workflow_history, lowcode.workflow_counters, lowcode.workflow_functions, lowcode.workflow_timeline,
  lowcode.workflow_definitions TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.fire(jsonb, text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.workflow_fire_record(regclass, text, bigint, text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.register_workflow(text, jsonb, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.get_workflow(text, integer)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.check_workflow_compatibility(text, jsonb)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.attach_workflow_subject(text, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.migrate_workflow(text, integer, integer)', 'EXECUTE'),
  ('TABLE', 'lowcode.workflows', 'SELECT'),
  ('TABLE', 'lowcode.workflow_versions', 'SELECT'),
  ('TABLE', 'lowcode.workflow_states', 'SELECT'),
  ('TABLE', 'lowcode.workflow_transitions', 'SELECT'),
  ('TABLE', 'lowcode.workflow_subjects', 'SELECT'),
  ('TABLE', 'lowcode.workflow_instances', 'SELECT'),
  ('TABLE', 'lowcode.workflow_timers', 'SELECT'),
  ('TABLE', 'lowcode.workflow_history', 'SELECT'),
  ('TABLE', 'lowcode.workflow_timeline', 'SELECT'),
  ('TABLE', 'lowcode.workflow_definitions', 'SELECT');
-- end of issue 19

-- issue 15: forms: x-rules at any level (self, oldSelf, has(), messages, severity), checked in C
CREATE OR REPLACE FUNCTION lowcode.registry_check_rules(schema jsonb, subject text, base text DEFAULT '') RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_registry_check_rules'
LANGUAGE C STABLE;

-- issue 15: forms keep their author's field order (schema_versions.schema_json, register_form, get_form, views)
ALTER TABLE lowcode.schema_versions ADD COLUMN schema_json json;
CREATE OR REPLACE FUNCTION lowcode.schema_versions_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  IF (NEW.tenant_id, NEW.subject, NEW.version, NEW.schema, NEW.fingerprint, NEW.description,
      NEW.created_at, NEW.created_by)
     IS DISTINCT FROM
     (OLD.tenant_id, OLD.subject, OLD.version, OLD.schema, OLD.fingerprint, OLD.description,
      OLD.created_at, OLD.created_by)
     OR (NEW.schema_json::text IS DISTINCT FROM OLD.schema_json::text
         AND (OLD.schema_json IS NOT NULL OR NEW.schema_json::jsonb IS DISTINCT FROM NEW.schema)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LG007',
      MESSAGE = format('version %s of subject %s is immutable', OLD.version, OLD.subject),
      HINT = 'Register a new version instead.';
  END IF;
  RETURN NEW;
END
$$;
CREATE FUNCTION lowcode.register_form(subject text, schema json, description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  v integer;
BEGIN
  IF schema IS NULL THEN
    PERFORM lowcode.registry_raise(422, 'LG011', format('the schema of subject %s must be a JSON object or boolean', subject));
  END IF;
  v := lowcode.register_schema(subject, schema::jsonb, description);
  -- identical content registered before keeps the text it was first given
  UPDATE lowcode.schema_versions sv SET schema_json = register_form.schema
   WHERE sv.tenant_id = lowcode.registry_scope() AND sv.subject = register_form.subject AND sv.version = v
     AND sv.schema_json IS NULL;
  RETURN v;
END
$$;
COMMENT ON FUNCTION lowcode.register_form(text, json, text) IS
  'register_schema, keeping the schema''s text as written (key order: the order a form shows its fields), which get_form and the views'' schema_json return.';

CREATE FUNCTION lowcode.get_form(subject text, version integer DEFAULT NULL) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  v lowcode.schema_versions;
BEGIN
  PERFORM lowcode.registry_check_subject_name(subject);
  v := lowcode.registry_lookup(lowcode.registry_scope(), subject, version);
  IF v.version IS NULL THEN
    PERFORM lowcode.registry_not_found(subject, version);
  END IF;
  RETURN coalesce(v.schema_json, v.schema::json);
END
$$;
COMMENT ON FUNCTION lowcode.get_form(text, integer) IS
  'get_schema in the author''s key order (the text given to register_form; jsonb''s order for versions registered with register_schema).';
CREATE OR REPLACE VIEW lowcode.forms WITH (security_invoker = true) AS
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
         s.created_at,
         coalesce(l.schema_json, l.schema::json) AS schema_json
    FROM lowcode.subjects s
    JOIN LATERAL (SELECT v.version, v.description, v.schema, v.created_at, v.schema_json FROM lowcode.schema_versions v
                   WHERE v.tenant_id = s.tenant_id AND v.subject = s.name AND v.state = 'enabled'
                     AND v.deleted_at IS NULL
                   ORDER BY v.version DESC LIMIT 1) l ON true;
CREATE OR REPLACE VIEW lowcode.form_versions WITH (security_invoker = true) AS
  SELECT v.subject, v.tenant_id = lowcode.registry_global() AS global, v.version, v.state, v.description,
         v.fingerprint, v.schema, v.created_at, v.created_by,
         coalesce(v.schema_json, v.schema::json) AS schema_json
    FROM lowcode.schema_versions v
   WHERE v.deleted_at IS NULL;
INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.register_form(text, json, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.get_form(text, integer)', 'EXECUTE');

-- issue 12: the benchmark-only functions leave the shipped API (they are in
-- sql/bench/pg_lowcode_bench.sql, schema lowcode_bench, built with LOWCODE_BENCH=1)
DROP FUNCTION lowcode.quota_check_cost(uuid, int);
DROP FUNCTION lowcode.quota_check_cost(uuid[], int);
-- issue 15: a tenant's default language of messages (settings ->> 'locale', read by
-- the registry's validation when the request has no supported Accept-Language).
-- The supported locales are those of the validator's messages (src/jsonschema,
-- ajv-i18n's texts); a tag is taken by its primary subtag, as Accept-Language
-- is (de-CH is de, pt-PT pt-BR), and stored in its canonical form.
CREATE FUNCTION lowcode.tenant_locale_canonical(locale text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c text;
BEGIN
  IF locale ~ '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,7}$' THEN
    c := CASE lower(split_part(replace(locale, '_', '-'), '-', 1))
           WHEN 'en' THEN 'en' WHEN 'zh' THEN 'zh-CN' WHEN 'de' THEN 'de' WHEN 'es' THEN 'es'
           WHEN 'fr' THEN 'fr' WHEN 'ja' THEN 'ja' WHEN 'pt' THEN 'pt-BR' END;
  END IF;
  IF c IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT009',
      MESSAGE = format('unsupported locale %s', CASE WHEN length(locale) > 40 THEN quote_literal(left(locale, 40)) || '...'
                                                     ELSE quote_literal(locale) END),
      DETAIL = 'The messages exist in en, zh-CN, de, es, fr, ja and pt-BR (a language tag such as de-CH counts as its language).',
      HINT = 'Give one of them, or NULL to remove the tenant''s default (messages then follow the setting lowcode.locale).';
  END IF;
  RETURN c;
END
$$;

CREATE FUNCTION lowcode.tenant_locale_store(tenant uuid, locale text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  c text := CASE WHEN locale IS NULL THEN NULL ELSE lowcode.tenant_locale_canonical(locale) END;
BEGIN
  UPDATE lowcode.tenants t
     SET settings = CASE WHEN c IS NULL THEN t.settings - 'locale' ELSE t.settings || jsonb_build_object('locale', c) END
   WHERE t.id = tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LT004', MESSAGE = format('no tenant with id %s', coalesce(tenant::text, 'NULL'));
  END IF;
  RETURN c;
END
$$;

-- An operator, for any tenant.
CREATE FUNCTION lowcode.set_tenant_locale(tenant uuid, locale text) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.tenant_locale_store(tenant, locale)
$$;
COMMENT ON FUNCTION lowcode.set_tenant_locale(uuid, text) IS
  'Operators: set a tenant''s default language of messages (en, zh-CN, de, es, fr, ja, pt-BR; NULL removes it); returns the stored locale.';

-- The tenant itself, in its request (as it sets its registry's compatibility mode).
CREATE FUNCTION lowcode.set_tenant_locale(locale text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t uuid := lowcode.current_tenant();
BEGIN
  IF t IS NULL THEN
    PERFORM lowcode.raise_http(401, 'LT401', 'no tenant for this request',
      'lowcode.set_tenant_locale(locale) sets the current tenant''s default language, and there is no tenant context',
      'Call it in a request (after lowcode.pre_request()), or as an operator call set_tenant_locale(tenant, locale).');
  END IF;
  RETURN lowcode.tenant_locale_store(t, locale);
END
$$;
COMMENT ON FUNCTION lowcode.set_tenant_locale(text) IS
  'The current tenant''s default language of messages (en, zh-CN, de, es, fr, ja, pt-BR; NULL removes it), used when a request has no supported Accept-Language; returns the stored locale.';

REVOKE ALL ON FUNCTION lowcode.tenant_locale_store(uuid, text), lowcode.set_tenant_locale(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.set_tenant_locale(uuid, text) TO lowcode_operator;
INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.set_tenant_locale(text)', 'EXECUTE');
-----------------------------------------------------------------------------
-- issue 17: scale-out on Citus: policies in the form Citus accepts on distributed tables,
-- lowcode.citus_distribution, make_tenant_table in either order with distribution,
-- quota triggers on shards, lowcode.distribute / distribute_all (sql/11_tenancy_rls.sql,
-- sql/50_quota.sql, sql/85_scaleout.sql); the signed tenant context is in C (src/tenancy/tenancy_context.c)
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.tenant_policy_expr(distributed boolean) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN distributed THEN 'tenant_id = lowcode.current_tenant()'::text
              ELSE lowcode.tenant_policy_expr() END
$$;

CREATE FUNCTION lowcode.citus_distribution(rel regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  d text;
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RETURN NULL;
  END IF;
  EXECUTE 'SELECT CASE WHEN p.partkey IS NULL THEN ''reference'' '
          '            ELSE pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END '
          '  FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1'
    INTO d USING rel;
  RETURN d;
END
$$;

CREATE FUNCTION lowcode.tenant_secure_relation(rel regclass, recreate boolean, distributed boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  p record;
  e constant text := lowcode.tenant_policy_expr(distributed);
BEGIN
  IF recreate THEN
    FOR p IN SELECT pol.polname FROM pg_policy pol
              WHERE pol.polrelid = rel AND pol.polname LIKE 'lowcode\_tenant\_%'
    LOOP
      EXECUTE format('DROP POLICY %I ON %s', p.polname, rel);
    END LOOP;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = rel AND pol.polname = 'lowcode_tenant_select') THEN
    EXECUTE format('CREATE POLICY lowcode_tenant_select ON %s FOR SELECT USING (%s)', rel, e);
    EXECUTE format('CREATE POLICY lowcode_tenant_insert ON %s FOR INSERT WITH CHECK (%s)', rel, e);
    -- WITH CHECK on UPDATE: a row cannot be moved to another tenant.
    EXECUTE format('CREATE POLICY lowcode_tenant_update ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', rel, e, e);
    EXECUTE format('CREATE POLICY lowcode_tenant_delete ON %s FOR DELETE USING (%s)', rel, e);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = rel AND c.relrowsecurity AND c.relforcerowsecurity) THEN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', rel);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION lowcode.tenant_secure_relation(rel regclass, recreate boolean) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.tenant_secure_relation(rel, recreate,
           lowcode.citus_distribution(coalesce(pg_catalog.pg_partition_root(rel), rel)) IS NOT NULL)
$$;

CREATE OR REPLACE FUNCTION lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  rel       record;
  att       record;
  has_rows  boolean;
  con       record;
  tenant_attnum int2;
  qualified text;
  redistribute boolean := false;
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
      HINT = 'Call it for the partitioned table: it secures every partition, present and future.';
  END IF;
  IF rel.nspname IN ('lowcode', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('make_tenant_table: %s is in a system or extension schema', qualified);
  END IF;

  -- Citus refuses ALTER TABLE on the distribution column: a table it
  -- already distributes by tenant_id whose column needs NOT NULL or the
  -- default is undistributed (a new table: a new oid), made a tenant table
  -- and distributed again by lowcode.distribute (issue 17).
  IF lowcode.citus_distribution(tbl) = 'tenant_id' AND NOT EXISTS (
       SELECT 1 FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND a.attnotnull
          AND pg_get_expr(d.adbin, d.adrelid) = 'lowcode.current_tenant()') THEN
    PERFORM pg_catalog.undistribute_table(tbl);
    tbl := qualified::regclass;
    redistribute := true;
  END IF;

  -- A permissive policy that does not restrict rows to the current tenant
  -- opens the table (permissive policies are OR-ed): refuse before changing
  -- anything rather than leave it in force (issue 13).
  FOR con IN SELECT * FROM lowcode.open_policies(tbl) LOOP
    RAISE EXCEPTION USING ERRCODE = 'LT011',
      MESSAGE = format('make_tenant_table: policy %I on %s would open the table to every tenant', con.polname, con.relname),
      DETAIL = format('It is permissive and does not compare tenant_id with lowcode.current_tenant(): %s', con.expr),
      HINT = format('Drop it (DROP POLICY %I ON %s) or make it restrictive (AS RESTRICTIVE), then call make_tenant_table again.', con.polname, con.relname);
  END LOOP;

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
    IF pg_get_expr((SELECT d.adbin FROM pg_attrdef d WHERE d.adrelid = tbl AND d.adnum = att.attnum), tbl)
       IS DISTINCT FROM 'lowcode.current_tenant()' THEN
      EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT lowcode.current_tenant()', qualified);
    END IF;
  END IF;

  SELECT a.attnum INTO tenant_attnum FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;

  -- An index led by tenant_id, unless one exists already.
  IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tbl AND i.indkey[0] = tenant_attnum) THEN
    EXECUTE format('CREATE INDEX %I ON %s (tenant_id)', left(rel.relname, 48) || '_tenant_id_idx', qualified);
  END IF;

  -- Row security on the table and on every partition: a partition is a
  -- table of its own, reachable directly (GRANT ... ON ALL TABLES IN SCHEMA),
  -- and the parent's policies do not apply there (issue 13).  Partitions
  -- created or attached later get the same through lowcode.tenant_partitions_guard.
  FOR con IN SELECT r.relid FROM lowcode.tenant_tree(tbl) r LOOP
    PERFORM lowcode.tenant_secure_relation(con.relid, true);
  END LOOP;
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
  IF redistribute THEN
    PERFORM lowcode.distribute(tbl);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION lowcode.attach_quota_trigger(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  has_rows boolean;
BEGIN
  -- NULL or a regclass made from a number that names no relation: say so (format() would build bad SQL)
  IF tbl IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = tbl) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT005',
      MESSAGE = format('attach_quota_trigger: no table %s', coalesce(tbl::oid::text, 'NULL'));
  END IF;
  -- Citus creates triggers on a distributed table's shards only when told
  -- that they are safe there: these count the shard's rows on its node (issue 17)
  IF lowcode.citus_distribution(tbl) IS NOT NULL THEN
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
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

-- LT013 unless Citus is installed in this database (the caller names itself).
CREATE FUNCTION lowcode.citus_require(caller text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013', MESSAGE = format('%s: Citus is not installed in this database', caller),
      HINT = 'Preload citus and CREATE EXTENSION citus on every node first (docs/scale-out.md).';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION lowcode.citus_require(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.citus_require(text) TO lowcode_operator;

CREATE FUNCTION lowcode.distribute(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  rel       record;
  qualified text;
  dist      text;
  tenant_attnum int2;
  idx       record;
  colocate  regclass;
  r         record;
  reenable  text[] := '{}';
  cmd       text;
BEGIN
  PERFORM lowcode.citus_require('distribute');
  IF tbl IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013', MESSAGE = 'distribute: the table must not be NULL';
  END IF;
  SELECT c.relkind, c.relname, n.nspname, c.relispartition
    INTO rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013', MESSAGE = format('distribute: no relation with oid %s', tbl::oid);
  END IF;
  qualified := format('%I.%I', rel.nspname, rel.relname);
  IF rel.relkind NOT IN ('r', 'p') OR rel.relispartition OR rel.nspname IN ('lowcode', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013',
      MESSAGE = format('distribute: %s is not a tenant table that can be distributed', qualified),
      DETAIL = 'Only tables (not partitions; call it for the partitioned table) outside the system and extension schemas are distributed.';
  END IF;
  dist := lowcode.citus_distribution(tbl);
  IF dist IS NOT NULL AND dist <> 'tenant_id' THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013',
      MESSAGE = format('distribute: %s is a Citus table distributed by %s, not by tenant_id', qualified, dist),
      HINT = format('SELECT undistribute_table(%L), then call lowcode.distribute again.', qualified);
  END IF;

  -- Unique keys must lead with tenant_id: Citus needs the distribution
  -- column in them, and a key without it lets a tenant learn that a value
  -- exists in another tenant.  Checked before anything changes.
  SELECT a.attnum INTO tenant_attnum FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = 'tenant_id' AND NOT a.attisdropped;
  FOR idx IN
    SELECT i.indexrelid::regclass AS name, i.indkey[0] AS lead FROM pg_index i
     WHERE i.indrelid = tbl AND i.indisunique
  LOOP
    IF tenant_attnum IS NULL OR idx.lead <> tenant_attnum THEN
      RAISE EXCEPTION USING ERRCODE = 'LT013',
        MESSAGE = format('distribute: unique index %s on %s does not lead with tenant_id', idx.name, qualified),
        DETAIL = 'A table distributed by tenant_id can only enforce keys that lead with tenant_id.',
        HINT = 'Recreate the key as (tenant_id, ...), then call lowcode.distribute again.';
    END IF;
  END LOOP;

  -- A validation trigger (attach_validation) runs on the shards: the workers
  -- need the registry (issue 17).
  IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgfoid = 'lowcode.registry_validate_trigger()'::regprocedure)
     AND NOT lowcode.registry_distributed() THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013',
      MESSAGE = format('distribute: %s has a validation trigger and the registry is not on the workers', qualified),
      DETAIL = 'The validation trigger would run on the shards, where the registry tables are empty until they are reference tables.',
      HINT = 'A superuser runs SELECT lowcode.distribute_registry() on the coordinator first (docs/scale-out.md).';
  END IF;

  -- Either order: a table that is not a tenant table yet becomes one first.
  IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = tbl AND p.polname = 'lowcode_tenant_select')
     OR tenant_attnum IS NULL THEN
    PERFORM lowcode.make_tenant_table(tbl);
    dist := lowcode.citus_distribution(tbl);   -- make_tenant_table may have distributed it
  END IF;

  -- Policies in the form Citus accepts, on the table and its partitions.
  FOR r IN SELECT t.relid FROM lowcode.tenant_tree(tbl) t LOOP
    PERFORM lowcode.tenant_secure_relation(r.relid, true, true);
  END LOOP;
  IF dist = 'tenant_id' THEN
    RETURN;
  END IF;

  -- The quota triggers count rows on the node that stores them.
  PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
  -- One co-location group for every tenant table.
  SELECT p.logicalrelid INTO colocate FROM pg_dist_partition p
   WHERE p.logicalrelid <> tbl AND p.partmethod = 'h'
     AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) = 'tenant_id'
     AND EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = p.logicalrelid AND pol.polname = 'lowcode_tenant_select')
   ORDER BY p.colocationid, p.logicalrelid LIMIT 1;
  -- Citus copies the rows already in the table into the shards, where the
  -- validation triggers (attach_validation) would run again, without a
  -- request's tenant ("the schema registry needs a tenant context"), and the
  -- distribution would fail.  Those rows were validated when they were
  -- written, so the triggers are off for the copy only, in this transaction:
  -- other sessions' writes wait for its locks and find them on again.
  FOR r IN
    SELECT g.tgrelid::regclass AS rel, g.tgname FROM pg_trigger g JOIN lowcode.tenant_tree(tbl) t ON t.relid = g.tgrelid
     WHERE g.tgfoid = 'lowcode.registry_validate_trigger()'::regprocedure AND g.tgenabled = 'O' AND g.tgparentid = 0
  LOOP
    EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', r.rel, r.tgname);
    reenable := reenable || format('ALTER TABLE %s ENABLE TRIGGER %I', r.rel, r.tgname);
  END LOOP;
  PERFORM pg_catalog.create_distributed_table(tbl, 'tenant_id', colocate_with => coalesce(colocate::text, 'default'));
  -- (Citus propagates it to every shard)
  FOREACH cmd IN ARRAY reenable LOOP
    EXECUTE cmd;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.distribute(regclass) IS
  'Distribute a tenant table by tenant_id on Citus, co-located with the other tenant tables, with RLS and the quota triggers on its shards (makes it a tenant table first if needed).';

-- Every tenant table not distributed yet, in creation order (a table that a
-- foreign key references is usually created first); the tables distributed.
CREATE FUNCTION lowcode.distribute_all() RETURNS SETOF regclass
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t regclass;
BEGIN
  -- A validated tenant table needs the registry on the workers (issue 17):
  -- a superuser distributes it first; for others distribute() says so.
  IF NOT lowcode.registry_distributed()
     AND (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
     AND EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_policy p ON p.polrelid = g.tgrelid AND p.polname = 'lowcode_tenant_select'
                  WHERE g.tgfoid = 'lowcode.registry_validate_trigger()'::regprocedure) THEN
    RETURN QUERY SELECT * FROM lowcode.distribute_registry();
  END IF;
  FOR t IN
    SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('lowcode', 'pg_catalog', 'information_schema')
       AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'lowcode_tenant_select')
     ORDER BY c.oid
  LOOP
    CONTINUE WHEN lowcode.citus_distribution(t) = 'tenant_id';
    PERFORM lowcode.distribute(t);
    RETURN NEXT t;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.distribute_all() IS
  'lowcode.distribute() for every tenant table that Citus does not distribute by tenant_id yet (for a superuser, lowcode.distribute_registry() first when one is validated); returns the tables it distributed.';

REVOKE ALL ON FUNCTION lowcode.distribute(regclass), lowcode.distribute_all() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.distribute(regclass), lowcode.distribute_all() TO lowcode_operator;

-- issue 17: the isolation report checks every shard placement and the distribution (sql/11_tenancy_rls.sql)
CREATE FUNCTION lowcode.isolation_report_citus()
RETURNS TABLE (severity text, problem text, object_type text, object_name text, detail text, hint text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t record;
  p record;
  groups bigint;
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RETURN;
  END IF;
  FOR t IN
    SELECT c.oid::regclass AS rel, lowcode.citus_distribution(c.oid) AS dist
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('lowcode', 'pg_catalog', 'information_schema')
       AND EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = c.oid AND pol.polname = 'lowcode_tenant_select')
       AND lowcode.citus_distribution(c.oid) IS DISTINCT FROM 'tenant_id'
     ORDER BY 1
  LOOP
    RETURN QUERY SELECT 'warning'::text, 'tenant_table_not_distributed'::text, 'table'::text, t.rel::text,
      CASE WHEN t.dist IS NULL THEN 'tenant table that Citus does not distribute: its rows stay on the coordinator and its queries are not routed'
           ELSE format('tenant table that Citus distributes by %s, not tenant_id: a tenant''s requests fan out to every shard', t.dist) END,
      format('SELECT lowcode.distribute(%L)', t.rel::text);
  END LOOP;
  -- The registry (issue 17): the validation triggers of distributed tables
  -- run on the shards and need it there.
  IF NOT lowcode.registry_distributed() THEN
    RETURN QUERY SELECT 'warning'::text, 'registry_not_distributed'::text, 'table'::text, v.rel::text,
      'distributed table with a validation trigger (attach_validation): it runs on the shards, where the registry is empty, so every write it checks fails (LG002)',
      'SELECT lowcode.distribute_registry() on the coordinator, as a superuser'
      FROM (SELECT DISTINCT g.tgrelid::regclass AS rel FROM pg_trigger g JOIN pg_dist_partition d ON d.logicalrelid = g.tgrelid
             WHERE g.tgfoid = 'lowcode.registry_validate_trigger()'::regprocedure ORDER BY 1) v;
  END IF;
  -- Every placement of each distributed tenant table, and of the registry's
  -- reference tables, checked on its node: row security enabled and forced,
  -- the tenant policies (the four lowcode_tenant_*; the registry's read policy).
  -- (run_command_on_placements puts the shard's name into the command with format(): %% is a %)
  FOR t IN
    SELECT c.oid::regclass AS rel, format('%I.%I', n.nspname, c.relname) AS name,
           $f$pol.polname LIKE 'lowcode\_tenant\_%%'$f$ AS policy, 4 AS want,
           'shard placement' AS what, 'rows' AS holds,
           'Call lowcode.distribute() on the table again (it recreates the policies), or ALTER TABLE ... FORCE ROW LEVEL SECURITY on the shard.' AS fix
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('lowcode', 'pg_catalog', 'information_schema')
       AND EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = c.oid AND pol.polname = 'lowcode_tenant_select')
       AND lowcode.citus_distribution(c.oid) = 'tenant_id'
    UNION ALL
    SELECT format('lowcode.%I', r.name)::regclass, format('lowcode.%I', r.name),
           $f$pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) ~ 'tenant_id = .*lowcode\.current_tenant\(\)'$f$, 1,
           'registry placement', 'subjects',
           'ALTER TABLE ... FORCE ROW LEVEL SECURITY on the placement, or recreate the policy (SELECT lowcode.distribute_registry() gives the workers'' tables the policies again).'
      FROM unnest(ARRAY['registry_settings', 'subjects', 'schema_versions', 'schema_references']) r(name)
     WHERE lowcode.registry_distributed()
    ORDER BY 2
  LOOP
    FOR p IN
      SELECT * FROM pg_catalog.run_command_on_placements(t.rel,
        format($q$SELECT (c.relrowsecurity AND c.relforcerowsecurity)::text || ':' ||
                         (SELECT count(*) FROM pg_catalog.pg_policy pol WHERE pol.polrelid = c.oid AND %s)
                    FROM pg_catalog.pg_class c WHERE c.oid = '%%s'::regclass$q$, t.policy))
    LOOP
      IF NOT p.success OR p.result IS DISTINCT FROM 'true:' || t.want THEN
        RETURN QUERY SELECT 'error'::text, 'shard_not_secured'::text, 'shard'::text,
          format('%s shard %s on %s:%s', t.name, p.shardid, p.nodename, p.nodeport),
          CASE WHEN NOT p.success THEN format('the %s could not be checked: %s', t.what, p.result)
               WHEN split_part(p.result, ':', 1) <> 'true'
                 THEN format('%s without forced row level security: a query on its node reads every tenant''s %s', t.what, t.holds)
               ELSE format('%s with %s of its %s tenant policies', t.what, split_part(p.result, ':', 2), t.want) END,
          t.fix;
      END IF;
    END LOOP;
  END LOOP;
  SELECT count(DISTINCT d.colocationid) INTO groups FROM pg_dist_partition d
   WHERE lowcode.citus_distribution(d.logicalrelid) = 'tenant_id'
     AND EXISTS (SELECT 1 FROM pg_policy pol WHERE pol.polrelid = d.logicalrelid AND pol.polname = 'lowcode_tenant_select');
  IF groups > 1 THEN
    RETURN QUERY SELECT 'warning'::text, 'tenant_tables_not_colocated'::text, 'database'::text, current_database()::text,
      format('the distributed tenant tables are in %s co-location groups: joins between them are not routed to one shard', groups),
      'SELECT update_distributed_table_colocation(''<table>'', colocate_with => ''<a tenant table>'')';
  END IF;
END
$$;
CREATE OR REPLACE FUNCTION lowcode.isolation_report()
RETURNS TABLE (severity text, problem text, object_type text, object_name text, detail text, hint text)
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
  WITH tenant_tables AS (
    -- partitions too: each is a table of its own, reachable directly (issue 13)
    SELECT c.oid, c.relname, n.nspname, c.relrowsecurity, c.relforcerowsecurity, a.attnum AS tenant_attnum,
           c.relkind, c.relispartition
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
  ),
  api AS (
    SELECT r.oid, r.rolname FROM pg_roles r JOIN lowcode.api_roles a ON a.role_name = r.rolname
  )
  SELECT 'error', 'rls_disabled', 'table', format('%I.%I', t.nspname, t.relname),
         CASE WHEN t.relispartition THEN 'partition of a tenant table without row level security: it is readable directly'
              ELSE 'tenant table without row level security' END,
         CASE WHEN t.relispartition THEN 'Call lowcode.make_tenant_table() on the partitioned table: it secures every partition.'
              ELSE 'Call lowcode.make_tenant_table() on it.' END
    FROM tenant_tables t WHERE NOT t.relrowsecurity
  UNION ALL
  SELECT 'error', 'partition_without_tenant_policies', 'table', format('%I.%I', t.nspname, t.relname),
         'partition of a tenant table without the tenant policies lowcode_tenant_*: the partitioned table''s policies do not apply to it when it is queried directly',
         'Call lowcode.make_tenant_table() on the partitioned table: it secures every partition.'
    FROM tenant_tables t
   WHERE t.relispartition
     AND EXISTS (SELECT 1 FROM pg_policy rp WHERE rp.polrelid = pg_partition_root(t.oid) AND rp.polname = 'lowcode_tenant_select')
     AND NOT EXISTS (SELECT 1 FROM pg_policy pp WHERE pp.polrelid = t.oid AND pp.polname = 'lowcode_tenant_select')
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
   WHERE con.contype IN ('p', 'u') AND NOT (t.tenant_attnum = ANY (con.conkey)) AND NOT t.relispartition
  UNION ALL
  SELECT 'warning', 'unique_index_without_tenant', 'index', format('%I.%I', t.nspname, ic.relname),
         'a unique index of a tenant table does not include tenant_id', 'Recreate it with tenant_id as its first column.'
    FROM tenant_tables t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
   WHERE i.indisunique AND NOT (t.tenant_attnum = ANY (i.indkey::int2[])) AND NOT t.relispartition
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
  -- pg_temp is searched first for relations and types unless the path names it (last) (issue 13)
  SELECT 'warning', 'security_definer_search_path_temp_first', 'function', p.oid::regprocedure::text,
         'SECURITY DEFINER function whose search_path does not end with pg_temp: a caller''s temporary table or type is found before the schemas it names',
         format('ALTER FUNCTION %s SET search_path = %s, pg_temp', p.oid::regprocedure,
                (SELECT substr(cfg, 13) FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%' LIMIT 1))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg LIKE 'search_path=%' AND cfg !~ 'pg_temp"?\s*$')
  UNION ALL
  -- the tenant context lives in the leader: a wrapper declared PARALLEL SAFE may run in a worker (issue 13)
  SELECT 'error', 'parallel_safe_wrapper_of_current_tenant', 'function', p.oid::regprocedure::text,
         'a function declared PARALLEL SAFE calls lowcode.current_tenant(): in a parallel worker it raises LT010',
         format('ALTER FUNCTION %s PARALLEL RESTRICTED', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.proparallel = 's' AND p.prosrc ~ 'current_tenant\s*\('
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'lowcode')
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
  -- Large objects have no tenant: every tenant of one API role shares them (issue 13).
  SELECT 'error', 'api_role_can_create_large_objects', 'database', current_database()::text,
         format('API role %I may create large objects: they belong to the role, not to a tenant, so every tenant of the role can read and change them', a.rolname),
         'REVOKE EXECUTE ON FUNCTION pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer), pg_catalog.lo_from_bytea(oid, bytea), '
         || 'pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid) FROM PUBLIC (then GRANT them to the roles that need them)'
    FROM api a
   WHERE has_function_privilege(a.oid, 'pg_catalog.lo_create(oid)', 'EXECUTE')
      OR has_function_privilege(a.oid, 'pg_catalog.lo_creat(integer)', 'EXECUTE')
      OR has_function_privilege(a.oid, 'pg_catalog.lo_from_bytea(oid, bytea)', 'EXECUTE')
  UNION ALL
  SELECT 'error', 'api_role_has_large_object', 'large object', m.oid::text,
         format('API role %I owns or may read this large object: every tenant of the role can', a.rolname),
         format('SELECT pg_catalog.lo_unlink(%s) (after moving its content into a tenant table)', m.oid)
    FROM pg_largeobject_metadata m CROSS JOIN api a
   WHERE pg_has_role(a.oid, m.lomowner, 'MEMBER')
      OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) x
                  WHERE (x.grantee = 0 OR pg_has_role(a.oid, x.grantee, 'MEMBER')) AND x.privilege_type IN ('SELECT', 'UPDATE'))
  UNION ALL
  SELECT 'error', 'api_role_can_create_in_schema', 'schema', n.nspname::text,
         format('API role %I may create objects in schema %I: functions, views or tables that shadow or intercept other tenants'' requests', a.rolname, n.nspname),
         format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I', n.nspname, a.rolname)
    FROM pg_namespace n CROSS JOIN api a
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
     AND has_schema_privilege(a.oid, n.oid, 'CREATE')
  UNION ALL
  SELECT * FROM lowcode.isolation_report_citus()
$$;
REVOKE ALL ON FUNCTION lowcode.isolation_report_citus() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.isolation_report_citus() TO lowcode_operator;

-- issue 17: grant_api_role on every worker of a Citus coordinator (sql/11_tenancy_rls.sql)
CREATE OR REPLACE FUNCTION lowcode.grant_api_role(role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  r record;
  g record;
  w record;
  on_worker boolean := false;
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
  IF to_regclass('pg_catalog.pg_dist_node') IS NOT NULL THEN
    on_worker := NOT pg_catalog.citus_is_coordinator();
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA lowcode TO %I', role);
  FOR g IN SELECT * FROM lowcode.api_grants ORDER BY object_type, object_name LOOP
    -- On a Citus worker, the registry's reference tables (distribute_registry)
    -- have the grant already: the coordinator's GRANT reached every node, and
    -- a worker refuses DDL on Citus tables (issue 17).
    CONTINUE WHEN on_worker AND g.object_type = 'TABLE' AND lowcode.citus_distribution(g.object_name::regclass) IS NOT NULL;
    EXECUTE format('GRANT %s ON %s %s TO %I', g.privileges, g.object_type, g.object_name, role);
  END LOOP;
  INSERT INTO lowcode.api_roles (role_name) VALUES (role) ON CONFLICT (role_name) DO NOTHING;
  -- On a Citus coordinator, the same on every worker: the shard queries run
  -- there as this role (issue 17).  Citus has created the role there already.
  IF to_regclass('pg_catalog.pg_dist_node') IS NOT NULL THEN
    IF pg_catalog.citus_is_coordinator() THEN
      FOR w IN SELECT * FROM pg_catalog.run_command_on_workers(format('SELECT lowcode.grant_api_role(%L)', role)) LOOP
        IF NOT w.success THEN
          RAISE EXCEPTION USING ERRCODE = 'LT014',
            MESSAGE = format('grant_api_role: the worker %s:%s failed: %s', w.nodename, w.nodeport, w.result),
            HINT = 'The workers need pg_lowcode and the role (Citus propagates both from the coordinator).';
        END IF;
      END LOOP;
    END IF;
  END IF;
END
$$;

-- issue 17: row and storage quotas on a Citus cluster: reconcile_storage() on the coordinator sends
-- the figures it counted across the shards to the workers (sql/50_quota.sql)
-- Recount rows and bytes per tenant from the tables themselves; the
-- figures in shared memory are reloaded from the result at commit.
CREATE OR REPLACE FUNCTION lowcode.reconcile_storage()
RETURNS TABLE (tenant_id uuid, rows bigint, bytes bigint, rows_before bigint, bytes_before bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
  -- On a Citus coordinator the counts above span every shard: the workers,
  -- where the quota trigger fires on the shards, take the same figures
  -- (issue 17, docs/scale-out.md).
  IF to_regclass('pg_catalog.pg_dist_node') IS NOT NULL THEN
    IF pg_catalog.citus_is_coordinator() THEN
      PERFORM lowcode.reconcile_storage_on_workers();
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION lowcode.reconcile_storage() IS
  'Recount rows and bytes per tenant in every tenant table; returns the tenants whose figures changed. On a Citus coordinator the workers take the same figures.';

-- Citus: replace the storage figures of this node (a worker) with those the
-- coordinator counted across the shards; tenants not named count zero.
CREATE FUNCTION lowcode.replace_storage_figures(figures jsonb) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  IF jsonb_typeof(figures) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'replace_storage_figures: figures must be a JSON array of {"t","r","b"} objects';
  END IF;
  INSERT INTO lowcode.tenant_storage AS s (tenant_id, rows, bytes, updated_at, reconciled_at)
  SELECT (f->>'t')::uuid, (f->>'r')::bigint, (f->>'b')::bigint, now(), now()
    FROM jsonb_array_elements(figures) f
  ON CONFLICT ON CONSTRAINT tenant_storage_pkey DO UPDATE
    SET rows = excluded.rows, bytes = excluded.bytes, updated_at = now(), reconciled_at = now();
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE lowcode.tenant_storage s SET rows = 0, bytes = 0, updated_at = now(), reconciled_at = now()
   WHERE NOT EXISTS (SELECT FROM jsonb_array_elements(figures) f WHERE (f->>'t')::uuid = s.tenant_id)
     AND (s.rows <> 0 OR s.bytes <> 0);
  PERFORM lowcode.quota_storage_reconciled();
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.replace_storage_figures(jsonb) IS
  'Citus worker: take the storage figures the coordinator counted across the shards (called by reconcile_storage()).';

CREATE FUNCTION lowcode.reconcile_storage_on_workers() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  figures jsonb;
  w record;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('t', s.tenant_id, 'r', s.rows, 'b', s.bytes)), '[]')
    INTO figures FROM lowcode.tenant_storage s;
  FOR w IN SELECT * FROM pg_catalog.run_command_on_workers(
             format('SELECT lowcode.replace_storage_figures(%L::jsonb)', figures)) LOOP
    IF NOT w.success THEN
      RAISE EXCEPTION USING ERRCODE = 'LT014',
        MESSAGE = format('reconcile_storage: the worker %s:%s failed: %s', w.nodename, w.nodeport, w.result),
        HINT = 'The workers need pg_lowcode (Citus creates it there with CREATE EXTENSION on the coordinator).';
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.reconcile_storage_on_workers() IS
  'Citus coordinator: send this node''s storage figures to every worker (called by reconcile_storage()).';
REVOKE ALL ON FUNCTION lowcode.replace_storage_figures(jsonb), lowcode.reconcile_storage_on_workers() FROM PUBLIC;
-- issue 21: the workflow trigger on new submissions runs only for subjects a workflow governs
-- (sql/80_workflow.sql; C, src/workflow/workflow_gate.c).
CREATE FUNCTION lowcode.workflow_subject_governed(tenant uuid, subject text) RETURNS boolean
AS 'MODULE_PATHNAME', 'lowcode_workflow_subject_governed'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.workflow_subject_governed(uuid, text) IS
  'Whether new submissions of the current tenant''s subject are governed by a workflow (true when unsure): the WHEN of the submissions workflow trigger.';
DROP TRIGGER submissions_workflow_insert ON lowcode.submissions;
CREATE TRIGGER submissions_workflow_insert BEFORE INSERT ON lowcode.submissions
  FOR EACH ROW WHEN (lowcode.workflow_subject_governed(NEW.tenant_id, NEW.subject))
  EXECUTE FUNCTION lowcode.workflow_trigger();

-- issue 21: the CHECK of submissions.status in C, the same language as the regular expression
-- (sql/60_registry.sql); existing rows satisfied the old CHECK, so they satisfy this one.
CREATE FUNCTION lowcode.submission_status_ok(status text) RETURNS boolean
AS 'MODULE_PATHNAME', 'lowcode_submission_status_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.submission_status_ok(text) IS
  'Whether a text is a submission status: a lowercase letter, then at most 62 lowercase letters, digits or "_" (the CHECK of lowcode.submissions.status).';
ALTER TABLE lowcode.submissions DROP CONSTRAINT submissions_status_check,
  ADD CONSTRAINT submissions_status_check CHECK (lowcode.submission_status_ok(status));

-- issue 17: the schema registry on every node of a Citus cluster: lowcode.distribute_registry() makes
-- it reference tables, attach_validation and distribute() refuse a validated distributed table without
-- it (sql/60_registry.sql, sql/85_scaleout.sql)
CREATE OR REPLACE FUNCTION lowcode.attach_validation(tbl regclass, col name, subject text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
  -- On Citus (issue 17): the trigger runs on the shards, on the workers, which
  -- need the registry there; it reaches the shards with enable_unsafe_triggers.
  IF lowcode.citus_distribution(tbl) IS NOT NULL THEN
    IF NOT lowcode.registry_distributed() THEN
      RAISE EXCEPTION USING ERRCODE = 'LG015',
        MESSAGE = format('attach_validation: %s is a Citus table and the registry is not on the workers', tbl),
        DETAIL = 'The validation trigger runs on the shards, where the registry tables are empty until they are reference tables.',
        HINT = 'A superuser runs SELECT lowcode.distribute_registry() on the coordinator first (docs/scale-out.md).';
    END IF;
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
  END IF;
  trg := left('lowcode_validate_' || col, 63);
  IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = trg) THEN
    EXECUTE format('DROP TRIGGER %I ON %s', trg, tbl);
  END IF;
  EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF %I ON %s FOR EACH ROW '
                 'EXECUTE FUNCTION lowcode.registry_validate_trigger(%L, %L, %L)', trg, col, tbl, 'column', col, subject);
END
$$;
-- The registry on every node (issue 17): a validation trigger
-- (attach_validation) on a distributed table runs on the shards, on the
-- workers, and reads the registry there.  Subjects, their versions,
-- references and compatibility settings become Citus reference tables: one
-- copy on every node, written by the registry functions on the coordinator
-- in the same (two-phase) transaction as everything else.

-- The worker's side of lowcode.registry_invalidate(): a statement trigger on
-- the reference tables' shards queues the relcache invalidation of
-- lowcode.schema_versions on the node that applied the change, so that its
-- backends drop their compiled versions at commit (C: the same function).
CREATE FUNCTION lowcode.registry_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_registry_invalidate'
LANGUAGE C;
COMMENT ON FUNCTION lowcode.registry_changed() IS
  'Statement trigger of the registry''s Citus reference tables: invalidates the registry caches of the node that applied the change.';
REVOKE ALL ON FUNCTION lowcode.registry_changed() FROM PUBLIC;

-- The registry's read policies in the form Citus accepts (no sub-select);
-- the same rows as the single-node form.  "ALTER POLICY ..." statements.
CREATE FUNCTION lowcode.registry_citus_policies() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'ALTER POLICY registry_settings_read ON lowcode.registry_settings USING (tenant_id IN (lowcode.current_tenant(), lowcode.registry_global())); '
      || 'ALTER POLICY subjects_read ON lowcode.subjects USING (tenant_id IN (lowcode.current_tenant(), lowcode.registry_global())); '
      || 'ALTER POLICY schema_versions_read ON lowcode.schema_versions USING (tenant_id IN (lowcode.current_tenant(), lowcode.registry_global())); '
      || 'ALTER POLICY schema_references_read ON lowcode.schema_references USING (tenant_id = lowcode.current_tenant())'
$$;

-- Run a command on every worker (run_command_on_workers: each commits on its
-- own); LT014 naming the first worker that failed.
CREATE FUNCTION lowcode.citus_run_on_workers(caller text, command text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  w record;
BEGIN
  FOR w IN SELECT * FROM pg_catalog.run_command_on_workers(command) LOOP
    IF NOT w.success THEN
      RAISE EXCEPTION USING ERRCODE = 'LT014',
        MESSAGE = format('%s: the worker %s:%s failed: %s', caller, w.nodename, w.nodeport, w.result);
    END IF;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION lowcode.citus_run_on_workers(text, text) FROM PUBLIC;

CREATE FUNCTION lowcode.distribute_registry() RETURNS SETOF regclass
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  registry constant regclass[] := ARRAY['lowcode.registry_settings', 'lowcode.subjects', 'lowcode.schema_versions',
                                        'lowcode.schema_references']::regclass[];
  t regclass;
  fk record;
  fks text[] := '{}';
  todo boolean;
  cmd text;
BEGIN
  PERFORM lowcode.citus_require('distribute_registry');
  todo := EXISTS (SELECT 1 FROM unnest(registry) r WHERE lowcode.citus_distribution(r) IS DISTINCT FROM 'reference');
  -- The foreign keys between the four: a table that references a reference
  -- table would become a Citus-managed local table first, which Citus makes
  -- by recreating it and the extension's views over it (it cannot).  They
  -- are dropped, here and on the workers' copies, and added again once all
  -- four are reference tables (Citus then adds them on every node).
  IF todo THEN
    -- (names qualified: the commands also run on the workers)
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR fk IN
      SELECT format('%I.%I', n.nspname, r.relname) AS rel, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
       WHERE c.contype = 'f' AND c.conrelid = ANY (registry) AND c.confrelid = ANY (registry)
       ORDER BY c.conrelid, c.conname
    LOOP
      fks := fks || format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.rel, fk.conname, fk.def);
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.rel, fk.conname);
      PERFORM lowcode.citus_run_on_workers('distribute_registry',
        format('SET citus.enable_ddl_propagation = off; ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.rel, fk.conname));
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, lowcode, pg_temp', true);
  ELSE
    -- Run again (after citus_add_node, say): the copies CREATE EXTENSION made
    -- on a new worker get the policies' Citus form; the shards have it.
    PERFORM lowcode.citus_run_on_workers('distribute_registry',
      'SET citus.enable_ddl_propagation = off; ' || lowcode.registry_citus_policies());
    RETURN;
  END IF;
  -- Citus refuses sub-selects in the policies of its tables.
  EXECUTE lowcode.registry_citus_policies();
  -- The immutability trigger of schema_versions, and registry_changed, run on every copy.
  PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
  FOREACH t IN ARRAY registry LOOP
    CONTINUE WHEN lowcode.citus_distribution(t) = 'reference';
    PERFORM pg_catalog.create_reference_table(t);
    RETURN NEXT t;
  END LOOP;
  FOREACH cmd IN ARRAY fks LOOP
    EXECUTE cmd;
  END LOOP;
  -- Now propagated: the workers' copies of the tables get the Citus form too.
  EXECUTE lowcode.registry_citus_policies();
  FOREACH cmd IN ARRAY ARRAY['subjects', 'schema_versions'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = format('lowcode.%I', cmd)::regclass AND g.tgname = 'registry_changed') THEN
      EXECUTE format('CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON lowcode.%I '
                     'FOR EACH STATEMENT EXECUTE FUNCTION lowcode.registry_changed()', cmd);
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lowcode.distribute_registry() IS
  'Citus coordinator: make the schema registry (registry_settings, subjects, schema_versions, schema_references) reference tables, so that validation runs on every node; returns the tables it distributed.';
REVOKE ALL ON FUNCTION lowcode.distribute_registry(), lowcode.registry_citus_policies() FROM PUBLIC;

-- Whether the registry is on every node (reference tables): attach_validation
-- and distribute() refuse a validated distributed table without it.
CREATE FUNCTION lowcode.registry_distributed() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT coalesce(lowcode.citus_distribution('lowcode.schema_versions') = 'reference', false)
$$;

-- issue 17: registry_lookup asks for the owner once, with the parameter, not once per version
-- (sql/60_registry.sql): a lookup read every tenant's versions, through Citus on a cluster; and as a
-- sub-select, not a call of registry_owner, which Citus refused as a nested distributed query when the
-- lookup ran over a connection to the coordinator's own placement (after EXPLAIN ANALYZE)
CREATE OR REPLACE FUNCTION lowcode.registry_lookup(scope uuid, subject text, version integer)
RETURNS lowcode.schema_versions
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT v.* FROM lowcode.schema_versions v
   WHERE v.tenant_id = (SELECT s.tenant_id FROM lowcode.subjects s
                         WHERE s.name = registry_lookup.subject
                           AND s.tenant_id IN (registry_lookup.scope, lowcode.registry_global())
                         ORDER BY s.tenant_id = registry_lookup.scope DESC
                         LIMIT 1)
     AND v.subject = registry_lookup.subject
     AND CASE WHEN registry_lookup.version IS NULL THEN v.state = 'enabled' AND v.deleted_at IS NULL
              ELSE v.version = registry_lookup.version END
   ORDER BY v.version DESC
   LIMIT 1
$$;

-- issue 21: which path lowcode.submit() took in this backend: the direct one (the row written
-- without the executor, src/registry/registry_record.c) or the INSERT (sql/60_registry.sql)
CREATE FUNCTION lowcode.submit_stats() RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_submit_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.submit_stats() IS
  'This backend''s submissions by path: {"direct": n, "sql": n, "last_sql_reason": why the last one took the SQL path}.';

-- issue 21: the channel secret kept by the database worker until it changes (sql/12_events.sql)
-- Every change of the secret queues a relcache invalidation of the table (C,
-- src/events/events.c, issue 21): the database worker keeps the secret until then instead of
-- reading it at every delivery.  ENABLE ALWAYS: it fires in replica mode too.
CREATE FUNCTION lowcode.event_secret_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_relcache_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION lowcode.event_secret_changed() FROM PUBLIC;
CREATE TRIGGER event_secret_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.event_secret
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.event_secret_changed();
ALTER TABLE lowcode.event_secret ENABLE ALWAYS TRIGGER event_secret_changed;

-- issue 21: the gate's answers are kept per backend until workflow_subjects changes: every
-- change queues a relcache invalidation of the table (C, src/workflow/workflow_gate.c).
-- ENABLE ALWAYS: it fires in replica mode too.
CREATE FUNCTION lowcode.workflow_subjects_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_relcache_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION lowcode.workflow_subjects_changed() FROM PUBLIC;
CREATE TRIGGER workflow_subjects_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.workflow_subjects
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.workflow_subjects_changed();
ALTER TABLE lowcode.workflow_subjects ENABLE ALWAYS TRIGGER workflow_subjects_changed;
