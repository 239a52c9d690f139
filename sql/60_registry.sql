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
-- The compatibility diff (C, src/registry/registry_diff.c)
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
-- No SET clause, so that policies inline it as a constant; the type is qualified
-- instead, since an inlined body is parsed under the caller's search_path (issue 13).
CREATE FUNCTION lowcode.registry_global() RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '00000000-0000-0000-0000-000000000000'::pg_catalog.uuid $$;
COMMENT ON FUNCTION lowcode.registry_global() IS
  'The tenant_id of global (operator-owned) registry rows: the nil uuid.';

-- The role that called: PostgREST's SET ROLE (authenticated...), else the login role.
-- (Inside SECURITY DEFINER functions current_user is the owner; the role GUC is not.)
CREATE FUNCTION lowcode.registry_actor_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(lowcode.registry_actor_sub(), lowcode.registry_actor_role())
$$;

CREATE FUNCTION lowcode.registry_is_operator() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_has_role(lowcode.registry_actor_role(), 'lowcode_operator', 'MEMBER')
$$;

-- The scope the caller works in: its tenant; the global scope only on purpose,
-- for an operator who set lowcode.registry_scope = global (issue 13: a call
-- without a tenant context used to create global subjects by accident).
CREATE FUNCTION lowcode.registry_scope() RETURNS uuid
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

CREATE FUNCTION lowcode.registry_check_subject_name(subject text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE sql SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
  schema_json json,  -- issue 15: the schema as its author wrote it (key order kept), from register_form
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
  id         bigint NOT NULL DEFAULT lowcode.new_id(),
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

-- The CHECK of submissions.status, ^[a-z][a-z0-9_]{0,62}$, in C (issue 21: the regular
-- expression cost a submission about 5% of its CPU).
CREATE FUNCTION lowcode.submission_status_ok(status text) RETURNS boolean
AS 'MODULE_PATHNAME', 'lowcode_submission_status_ok'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.submission_status_ok(text) IS
  'Whether a text is a submission status: a lowercase letter, then at most 62 lowercase letters, digits or "_" (the CHECK of lowcode.submissions.status).';

CREATE TABLE lowcode.submissions (
  tenant_id  uuid NOT NULL DEFAULT lowcode.current_tenant(),
  id         bigint NOT NULL DEFAULT lowcode.new_id(),
  subject    text NOT NULL,
  version    integer,              -- pinned at insert: the latest enabled version when not given
  data       jsonb NOT NULL,
  status     text NOT NULL DEFAULT 'submitted' CHECK (lowcode.submission_status_ok(status)),
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

-- Versions are immutable: only the state and the soft deletion may change (and the
-- author's text, once, when it is the same document: register_form).
CREATE FUNCTION lowcode.schema_versions_immutable() RETURNS trigger
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
CREATE TRIGGER schema_versions_immutable BEFORE UPDATE ON lowcode.schema_versions
  FOR EACH ROW EXECUTE FUNCTION lowcode.schema_versions_immutable();

-----------------------------------------------------------------------------
-- Audit and events
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.registry_record(tenant uuid, action text, subject text, version integer,
                                        details jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT s.tenant_id FROM lowcode.subjects s
   WHERE s.name = subject AND s.tenant_id IN (scope, lowcode.registry_global())
   ORDER BY s.tenant_id = scope DESC
   LIMIT 1
$$;
REVOKE ALL ON FUNCTION lowcode.registry_owner(uuid, text) FROM PUBLIC;

-- One version as a scope sees it: the latest enabled one when version is NULL,
-- else that number (soft-deleted versions stay resolvable by number).  The
-- owner (registry_owner's query) is asked once, with the parameters (issue 17:
-- the bare "subject" was the column, so it ran once per version of every
-- tenant).  It is a sub-select, not a call of registry_owner: on Citus the
-- query goes to a placement of the reference tables as one task, and when
-- that task runs over a connection (the transaction connected to the
-- coordinator's own placement before, EXPLAIN ANALYZE does) a function in it
-- that reads a Citus table is a distributed query inside a shard query, which
-- Citus refuses ("cannot execute a distributed query from a query on a shard").
CREATE FUNCTION lowcode.registry_lookup(scope uuid, subject text, version integer)
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
REVOKE ALL ON FUNCTION lowcode.registry_lookup(uuid, text, integer) FROM PUBLIC;

-- Reference URIs: lowcode:<subject> (latest enabled version) or lowcode:<subject>/<version>.
CREATE FUNCTION lowcode.registry_parse_uri(uri text, OUT subject text, OUT version integer)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT m[1], m[2]::integer
    FROM regexp_match(uri, '^lowcode:([A-Za-z][A-Za-z0-9_.-]{0,127})(?:/([1-9][0-9]{0,8}))?$') m
$$;

-- The document store's loader (src/registry/registry_store.c) resolves
-- lowcode: URIs through this, as the caller sees subjects: its tenant's
-- first, then global ones; NULL when it sees none.
CREATE FUNCTION lowcode.registry_load_document(uri text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT (lowcode.registry_lookup(coalesce(lowcode.current_tenant(), lowcode.registry_global()), p.subject, p.version)).schema
    FROM lowcode.registry_parse_uri(uri) p
   WHERE p.subject IS NOT NULL
$$;

-- The lowcode: URIs (without fragment) a schema's "$ref"s name.
CREATE FUNCTION lowcode.registry_ref_uris(schema jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT split_part(r #>> '{}', '#', 1)), '{}')
    FROM jsonb_path_query(schema, 'strict $.**."$ref"') r
   WHERE jsonb_typeof(r) = 'string' AND r #>> '{}' LIKE 'lowcode:%'
$$;

-- Every document the schemas reach through lowcode: references, transitively,
-- as the scope sees them: {"lowcode:address": {...}, ...}.  Unresolvable ones are left out.
CREATE FUNCTION lowcode.registry_collect_refs(scope uuid, schemas jsonb[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT coalesce(
    (SELECT s.compatibility FROM lowcode.subjects s WHERE s.tenant_id = owner AND s.name = subject),
    (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = owner),
    (SELECT r.compatibility FROM lowcode.registry_settings r WHERE r.tenant_id = lowcode.registry_global()),
    'BACKWARD')
$$;
REVOKE ALL ON FUNCTION lowcode.registry_mode(uuid, text) FROM PUBLIC;

-- The compatibility report of a candidate schema for a subject of the scope.
CREATE FUNCTION lowcode.registry_compatibility(scope uuid, subject text, schema jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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

-- issue 15: forms render fields in the order their author wrote them; jsonb sorts keys,
-- so register_form keeps the text (json) beside the schema and get_form returns it.
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

CREATE FUNCTION lowcode.set_compatibility(subject text, mode text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE sql SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.set_schema_state(subject, version, 'deprecated')
$$;
COMMENT ON FUNCTION lowcode.deprecate_schema(text, integer) IS
  'Deprecate a version: no longer the latest for new submissions; still valid by number.';

CREATE FUNCTION lowcode.delete_schema(subject text, version integer, permanent boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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

-- Cross-field rules: "x-rules": [{"rule": "<CEL>", "message": "...", "fieldPath": "/end_date", ...}]
-- at any level of a schema: the schema is compiled with the rules hook in checking mode
-- (src/registry/registry_rules.c), which refuses a malformed rule with LG011 and its JSON Pointer.
CREATE FUNCTION lowcode.registry_check_rules(schema jsonb, subject text, base text DEFAULT '') RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_registry_check_rules'
LANGUAGE C STABLE;

-- The version a new validation or submission uses (latest enabled when NULL); errors when unusable.
CREATE FUNCTION lowcode.registry_usable_version(scope uuid, subject text, version integer)
RETURNS lowcode.schema_versions
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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

-- The audit row and the event of each submission (C, src/registry/registry_record.c):
-- in the submitting transaction, one saved plan per row, the notification queued for
-- the commit (issue 21: the PL/pgSQL statement trigger cost ~250 us per submission).
CREATE FUNCTION lowcode.submissions_record() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_submissions_record_row'
LANGUAGE C;
CREATE TRIGGER submissions_record AFTER INSERT OR UPDATE ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.submissions_record();

-- In C (src/registry/registry_record.c, issue 21): without a tenant context LG006 (issue 13,
-- rather than the NOT NULL violation of tenant_id); then the INSERT below from a plan saved per
-- backend, as the caller; a LANGUAGE sql function planned it again in every statement.
--   INSERT INTO lowcode.submissions (subject, data, version) VALUES (subject, data, version)
--   RETURNING jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status,
--                                'created_at', created_at)
CREATE FUNCTION lowcode.submit(subject text, data jsonb, version integer DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_submit'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.submit(text, jsonb, integer) IS
  'Submit form data: validated against the subject''s latest enabled version (or the given one); HTTP 422 with every error when invalid.';

-- Which path lowcode.submit() took in this backend (C, src/registry/registry_record.c, issue 21):
-- the direct one writes the row without the executor when lowcode.submissions is as made here,
-- the SQL one runs the INSERT above (a user trigger, a policy, a workflow, ...).
CREATE FUNCTION lowcode.submit_stats() RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_submit_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.submit_stats() IS
  'This backend''s submissions by path: {"direct": n, "sql": n, "last_sql_reason": why the last one took the SQL path}.';

CREATE FUNCTION lowcode.attach_validation(tbl regclass, col name, subject text) RETURNS void
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
         s.created_at,
         coalesce(l.schema_json, l.schema::json) AS schema_json
    FROM lowcode.subjects s
    JOIN LATERAL (SELECT v.version, v.description, v.schema, v.created_at, v.schema_json FROM lowcode.schema_versions v
                   WHERE v.tenant_id = s.tenant_id AND v.subject = s.name AND v.state = 'enabled'
                     AND v.deleted_at IS NULL
                   ORDER BY v.version DESC LIMIT 1) l ON true;
COMMENT ON VIEW lowcode.forms IS
  'The subjects a tenant sees (its own and the global ones) with their latest enabled version.';

CREATE VIEW lowcode.form_versions WITH (security_invoker = true) AS
  SELECT v.subject, v.tenant_id = lowcode.registry_global() AS global, v.version, v.state, v.description,
         v.fingerprint, v.schema, v.created_at, v.created_by,
         coalesce(v.schema_json, v.schema::json) AS schema_json
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
  ('FUNCTION', 'lowcode.register_form(text, json, text)', 'EXECUTE'),
  ('FUNCTION', 'lowcode.get_form(text, integer)', 'EXECUTE'),
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
