-- pg_lowcode upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_lowcode UPDATE.
--
-- Hand written.  It holds every difference between the frozen 0.1.0 install
-- script (sql/pg_lowcode--0.1.0.sql) and the current parts sql/NN_*.sql, so
-- that an upgraded database ends up exactly like a fresh 0.2.0 install:
-- test/t/003_extension_upgrade.pl compares the two object by object.
--
-- Rule: every change to sql/NN_*.sql is also written here, in the same commit.
--   * a new or changed function: CREATE OR REPLACE with the new definition (or
--     DROP + CREATE when the signature or return type changes), then the same
--     GRANT / REVOKE / COMMENT as the install script;
--   * a new table, column, index, constraint, policy or trigger: the same DDL,
--     plus pg_extension_config_dump() for a new configuration table;
--   * seeded rows: INSERT ... ON CONFLICT DO NOTHING (never overwrite what an
--     operator changed);
--   * objects are named schema-qualified (lowcode.x): search_path is not
--     guaranteed here.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-----------------------------------------------------------------------------
-- Sessions (sql/40_session.sql): the worker's agenda moves to
-- lowcode.session_timers so that its updates of lowcode.sessions are HOT.
-----------------------------------------------------------------------------
DROP INDEX lowcode.sessions_expiry_idx;
DROP INDEX lowcode.sessions_ended_idx;
DROP INDEX lowcode.sessions_principal_idx;
CREATE INDEX sessions_principal_idx ON lowcode.sessions (tenant_id, principal);
-- Applies to pages written from now on; existing pages fill up as before.
ALTER TABLE lowcode.sessions SET (fillfactor = 50);

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

-- The agenda of the sessions that exist already.
INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
SELECT CASE WHEN s.state = 'active' THEN s.expires_at ELSE coalesce(s.ended_at, now()) END,
       s.tenant_id, s.id, s.state <> 'active'
  FROM lowcode.sessions s;

-----------------------------------------------------------------------------
-- Bad input (docs/hardening.md, test/bad_input): functions that now refuse NULL,
-- dangling oids, negative ages, over-long names and URIs with a documented error,
-- and current_trace_id() that no longer fails on headers jsonb refuses.
-- CREATE OR REPLACE keeps each function's owner, privileges and comment.
-----------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION lowcode.current_trace_id() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT CASE WHEN tp ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
                   AND substr(tp, 4, 32) <> repeat('0', 32)
              THEN substr(tp, 4, 32) END
    -- read with a regular expression, not ::jsonb: headers that are not valid JSON (or hold
    -- escapes jsonb refuses, such as \u0000) must give NULL, not fail every registry write
    FROM (SELECT lower(btrim(substring(coalesce(current_setting('request.headers', true), '')
                                       FROM '"traceparent"\s*:\s*"([^"\\]*)"'))) AS tp) h
$$;
CREATE OR REPLACE FUNCTION lowcode.make_tenant_table(tbl regclass, existing_rows_tenant uuid DEFAULT NULL)
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
CREATE OR REPLACE FUNCTION lowcode.grant_api_role(role name) RETURNS void
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
CREATE OR REPLACE FUNCTION lowcode.register_document(uri text, document jsonb)
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

CREATE OR REPLACE FUNCTION lowcode.register_rule_function(name text, fn regprocedure)
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
CREATE OR REPLACE FUNCTION lowcode.attach_quota_trigger(tbl regclass) RETURNS void
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
CREATE OR REPLACE FUNCTION lowcode.rollup_usage(keep_minutes interval DEFAULT interval '2 days',
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
CREATE OR REPLACE FUNCTION lowcode.run_retention(audit_retention interval DEFAULT interval '400 days')
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
CREATE OR REPLACE FUNCTION lowcode.schedule_maintenance(rollup_schedule text DEFAULT '*/5 * * * *',
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
CREATE OR REPLACE FUNCTION lowcode.registry_own_version(scope uuid, subject text, version integer)
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
CREATE OR REPLACE FUNCTION lowcode.register_schema(subject text, schema jsonb, description text DEFAULT NULL)
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
