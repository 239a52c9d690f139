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

-- Effective limits of a tenant, with where each value comes from.  Runs
-- with the caller's rights: row level security shows a tenant its own
-- limits and the operator everyone's.
CREATE FUNCTION lowcode.tenant_limits_of(tenant uuid)
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

CREATE FUNCTION lowcode.tenant_limits(tenant uuid)
RETURNS TABLE (name text, value bigint, source text, tier_value bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE sql STABLE SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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

REVOKE ALL ON FUNCTION lowcode.flush_usage(), lowcode.quota_count_rejection(uuid, text), lowcode.count_usage(text, boolean),
  lowcode.quota_storage_reconciled(), lowcode.quota_memory() FROM PUBLIC;
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  PERFORM lowcode.reconcile_storage();
  RETURN NULL;
END
$$;

CREATE FUNCTION lowcode.attach_quota_trigger(tbl regclass) RETURNS void
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
COMMENT ON FUNCTION lowcode.attach_quota_trigger(regclass) IS
  'Attach the row/storage quota triggers to a tenant table (make_tenant_table does it).';

-- The tables whose rows count against the row and storage quotas.
CREATE FUNCTION lowcode.quota_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT DISTINCT tg.tgrelid::regclass FROM pg_trigger tg
   WHERE tg.tgname = 'lowcode_quota' AND tg.tgfoid = 'lowcode.quota_row_trigger()'::regprocedure
$$;

-- Recount rows and bytes per tenant from the tables themselves; the
-- figures in shared memory are reloaded from the result at commit.
CREATE FUNCTION lowcode.reconcile_storage()
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  VALUES (format('lowcode:%s:usage-rollup', current_database()), rollup_schedule,
          'SELECT lowcode.flush_usage(); SELECT lowcode.rollup_usage()'),
         (format('lowcode:%s:storage-reconcile', current_database()), reconcile_schedule,
          'SELECT count(*) FROM lowcode.reconcile_storage()'),
         (format('lowcode:%s:retention', current_database()), retention_schedule,
          'SELECT lowcode.run_retention()')
$$;

-- Where pg_cron is: 'here', 'elsewhere' (another database, cron.database_name) or 'missing'.
CREATE FUNCTION lowcode.pg_cron_location() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
