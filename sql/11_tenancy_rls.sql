-- pg_lowcode install script, part 11: making tables tenant-safe, the isolation report, API roles.

-----------------------------------------------------------------------------
-- make_tenant_table
-----------------------------------------------------------------------------
-- The four tenant policies of make_tenant_table, as one expression.
CREATE FUNCTION lowcode.tenant_policy_expr() RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT 'tenant_id = (SELECT lowcode.current_tenant())'::text
$$;
-- The same for a table distributed by Citus, which refuses sub-selects in the
-- policies of distributed tables: the plain call.  (On one node the
-- sub-select makes current_tenant() an InitPlan evaluated once per statement;
-- on a shard it is cached per transaction, see src/tenancy/tenancy.c.)
CREATE FUNCTION lowcode.tenant_policy_expr(distributed boolean) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN distributed THEN 'tenant_id = lowcode.current_tenant()'::text
              ELSE lowcode.tenant_policy_expr() END
$$;

-- How Citus distributes a relation: NULL when Citus is not installed or the
-- relation is not a Citus table, 'reference' for a reference table, else the
-- distribution column.
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

-- A table and, when it is partitioned, every partition of it (all levels).
CREATE FUNCTION lowcode.tenant_tree(tbl regclass) RETURNS TABLE (relid regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT tbl
  UNION
  SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t
$$;

-- Permissive policies of a table (and its partitions) that do not restrict rows to the
-- current tenant or to operators: the same test as the report's policy_not_tenant_scoped.
CREATE FUNCTION lowcode.open_policies(tbl regclass)
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

-- Row security forced and the four tenant policies on one relation.  With
-- recreate, existing lowcode_tenant_* policies are dropped and made again;
-- without, only what is missing is added (the partition guard).  Policies
-- first, ALTER TABLE last: the guard fires on that ALTER TABLE and must find
-- nothing left to do.
-- distributed: the policy form for a table Citus distributes (or is about
-- to: lowcode.distribute switches the policies before it distributes).
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

-- The form of the policies follows the (root) table's distribution.
CREATE FUNCTION lowcode.tenant_secure_relation(rel regclass, recreate boolean) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.tenant_secure_relation(rel, recreate,
           lowcode.citus_distribution(coalesce(pg_catalog.pg_partition_root(rel), rel)) IS NOT NULL)
$$;

-- Event trigger: a partition created in, or attached to, the tree of a tenant
-- table (one whose root has the lowcode_tenant_select policy) gets forced row
-- security and the tenant policies at once, in the same transaction.
CREATE FUNCTION lowcode.tenant_partitions_guard() RETURNS event_trigger
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

CREATE FUNCTION lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid DEFAULT NULL)
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
COMMENT ON FUNCTION lowcode.make_tenant_table(regclass, uuid) IS
  'Make a table tenant-safe (idempotent): tenant_id column defaulting to the current tenant, an index led by it, RLS enabled and forced, tenant policies.';

-----------------------------------------------------------------------------
-- isolation_report
-----------------------------------------------------------------------------
-- The Citus part of the report (issue 17; nothing without Citus): tenant
-- tables that are not distributed by tenant_id or not in one co-location
-- group, and every shard placement of each distributed tenant table, checked
-- on its node: row security enabled and forced, the four tenant policies.
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

CREATE FUNCTION lowcode.isolation_report()
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
COMMENT ON FUNCTION lowcode.isolation_report() IS
  'One row per tenant-isolation problem found in this database.';

-----------------------------------------------------------------------------
-- API roles
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.grant_api_role(role name) RETURNS void
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
COMMENT ON FUNCTION lowcode.grant_api_role(name) IS
  'Grant an existing role (such as PostgREST''s authenticated role) exactly what a tenant user needs.';
REVOKE ALL ON FUNCTION lowcode.grant_api_role(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.grant_api_role(name) TO lowcode_operator;
REVOKE ALL ON FUNCTION lowcode.make_tenant_table(regclass, uuid), lowcode.isolation_report() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.make_tenant_table(regclass, uuid), lowcode.isolation_report() TO lowcode_operator;
REVOKE ALL ON FUNCTION lowcode.isolation_report_citus() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.isolation_report_citus() TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.current_tenant()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.pre_request()', 'EXECUTE'),
  ('TABLE',    'lowcode.tenants', 'SELECT'),
  ('TABLE',    'lowcode.tiers', 'SELECT');
