-- pg_lowcode install script, part 85: scale-out on Citus (issue 17, docs/scale-out.md).
-- Every tenant table is distributed by tenant_id, all of them in one
-- co-location group, so that a tenant's rows of every table live on one
-- shard group and a tenant's request is routed to one node.  Nothing here
-- runs without Citus.

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
