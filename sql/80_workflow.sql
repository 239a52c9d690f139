-- pg_lowcode install script, part 80: workflows (issue 19).
--
-- Versioned state machines for tenant records.  A tenant registers a
-- workflow definition (JSON modelled on XState's machine config, see
-- docs/workflows.md), version by version like registry subjects; a table
-- (attach_workflow) or a registry subject (attach_workflow_subject) is
-- governed by a workflow: each row gets an instance whose state lives in a
-- column that only lowcode.fire(record, event, payload) changes.  A
-- transition is one step of one transaction: guards (CEL), actions (set
-- fields, emit events, timers, calls), the state change, a history row and
-- an outbox event, or nothing.  Timers are fired by the database worker
-- (src/workflow/workflow_worker.c calls lowcode.workflow_run_timers()).
-- User documentation: docs/workflows.md.  Error codes: docs/errors.md (Workflows).
--
-- Everything that writes runs SECURITY DEFINER (the caller may not write the
-- workflow tables directly) and therefore filters by the caller's tenant
-- explicitly, as the registry does.

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

-- issue 21: the insert trigger runs only for the submissions of a subject a workflow governs
-- (C, src/workflow/workflow_gate.c: one probe of workflow_subjects' key; true whenever it cannot
-- say no for sure).  Running the PL/pgSQL trigger to learn "no workflow" was a third of the CPU
-- of a submission.
CREATE FUNCTION lowcode.workflow_subject_governed(tenant uuid, subject text) RETURNS boolean
AS 'MODULE_PATHNAME', 'lowcode_workflow_subject_governed'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.workflow_subject_governed(uuid, text) IS
  'Whether new submissions of the current tenant''s subject are governed by a workflow (true when unsure): the WHEN of the submissions workflow trigger.';
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
CREATE TRIGGER submissions_workflow_insert BEFORE INSERT ON lowcode.submissions
  FOR EACH ROW WHEN (lowcode.workflow_subject_governed(NEW.tenant_id, NEW.subject))
  EXECUTE FUNCTION lowcode.workflow_trigger();
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
