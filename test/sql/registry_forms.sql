-- What front ends need from registered schemas (issue 15): formats asserted by
-- default (lowcode.registry_format_assert, a schema's "x-format"), the
-- author's field order kept (register_form, get_form, the views' schema_json).
\set VERBOSITY terse
BEGIN;

CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  IF st = 'PGRST' THEN
    RETURN (msg::jsonb ->> 'code') || ': ' || (msg::jsonb ->> 'message');
  END IF;
  RETURN st || ': ' || msg;
END
$$;
SELECT lowcode.create_tenant('forms-a') AS ta \gset
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta', 'sub', 'fay')::text, false) IS NOT NULL AS tenant_set;

-- formats assert for registry subjects
SELECT lowcode.register_schema('rf.contact', '{"type": "object", "properties": {"email": {"type": "string", "format": "email"}, "born": {"type": "string", "format": "date"}}}') AS v;
SELECT e ->> 'instancePath' AS field, e ->> 'keyword' AS keyword, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.validate('rf.contact', '{"email": "not-an-email", "born": "2026-13-45"}') -> 'errors') e ORDER BY 1;
SELECT lowcode.validate('rf.contact', '{"email": "ann@example.com", "born": "2026-02-28"}') ->> 'valid' AS good_values;
SELECT pg_temp.err($$SELECT lowcode.submit('rf.contact', '{"born": "2026-02-30"}')$$) AS refused_submission;
-- the validator's own default stays as the specs say (annotation)
SELECT lowcode.jsonschema_validate(lowcode.get_schema('rf.contact'), '{"born": "2026-13-45"}') ->> 'valid' AS validator_default;
-- the option: annotation only, for the whole session (or role, database) ...
SET lowcode.registry_format_assert = off;
SELECT lowcode.validate('rf.contact', '{"born": "2026-13-45"}') ->> 'valid' AS annotate_by_setting;
RESET lowcode.registry_format_assert;
-- ... or for one schema, at its root
SELECT lowcode.register_schema('rf.loose', '{"x-format": "annotate", "properties": {"born": {"format": "date"}}}') AS v;
SELECT lowcode.validate('rf.loose', '{"born": "2026-13-45"}') ->> 'valid' AS annotate_by_schema;
SET lowcode.registry_format_assert = off;
SELECT lowcode.register_schema('rf.strict', '{"x-format": "assert", "properties": {"born": {"format": "date"}}}') AS v;
SELECT lowcode.validate('rf.strict', '{"born": "2026-13-45"}') ->> 'valid' AS assert_by_schema;
RESET lowcode.registry_format_assert;
SELECT pg_temp.err($$SELECT lowcode.register_schema('rf.bad', '{"x-format": "maybe"}')$$);

ROLLBACK;
