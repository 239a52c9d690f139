-- pg_lowcode 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_lowcode UPDATE).
--
-- Every change to sql/NN_*.sql since 0.2.0 goes here too, in the order of the
-- parts; test/t/003_extension_upgrade.pl compares an upgraded database with a
-- fresh install object by object (scripts/upgrade_diff.py lists what differs
-- between two install scripts).
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-- issue 15: forms: x-rules at any level (self, oldSelf, has(), messages, severity), checked in C
CREATE OR REPLACE FUNCTION lowcode.registry_check_rules(schema jsonb, subject text, base text DEFAULT '') RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_registry_check_rules'
LANGUAGE C STABLE;

-- issue 15: forms keep their author's field order (schema_versions.schema_json, register_form, get_form, views)
ALTER TABLE lowcode.schema_versions ADD COLUMN schema_json json;
CREATE OR REPLACE FUNCTION lowcode.schema_versions_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
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
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
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
