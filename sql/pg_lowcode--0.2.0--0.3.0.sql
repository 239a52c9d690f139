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
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
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
