-- pg_lowcode install script, part 85: scale-out on Citus (issue 17, docs/scale-out.md).
-- Every tenant table is distributed by tenant_id, all of them in one
-- co-location group, so that a tenant's rows of every table live on one
-- shard group and a tenant's request is routed to one node.  Nothing here
-- runs without Citus.

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
BEGIN
  IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT013', MESSAGE = 'distribute: Citus is not installed in this database',
      HINT = 'Preload citus and CREATE EXTENSION citus on every node first (docs/scale-out.md).';
  END IF;
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
  PERFORM pg_catalog.create_distributed_table(tbl, 'tenant_id', colocate_with => coalesce(colocate::text, 'default'));
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
  'lowcode.distribute() for every tenant table that Citus does not distribute by tenant_id yet; returns them.';

REVOKE ALL ON FUNCTION lowcode.distribute(regclass), lowcode.distribute_all() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.distribute(regclass), lowcode.distribute_all() TO lowcode_operator;
