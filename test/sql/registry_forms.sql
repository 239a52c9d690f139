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

-- the author's field order: register_form keeps the text, get_form and the views return it
SELECT lowcode.register_form('rf.signup', '{"type": "object", "properties": {"name": {"type": "string", "title": "Name"}, "email": {"type": "string", "format": "email"}, "age": {"type": "integer"}}, "required": ["name"]}') AS v;
SELECT (SELECT array_agg(k) FROM json_object_keys(lowcode.get_form('rf.signup') -> 'properties') k) AS author_order,
       (SELECT array_agg(k) FROM jsonb_object_keys(lowcode.get_schema('rf.signup') -> 'properties') k) AS jsonb_order;
SELECT (SELECT array_agg(k) FROM json_object_keys(schema_json -> 'properties') k) AS view_order FROM lowcode.forms WHERE subject = 'rf.signup';
SELECT (SELECT array_agg(k) FROM json_object_keys(schema_json -> 'properties') k) AS versions_view_order FROM lowcode.form_versions WHERE subject = 'rf.signup';
-- it validates like any version, and identical content returns the same version
SELECT lowcode.validate('rf.signup', '{"email": "x"}') -> 'errors' -> 0 ->> 'keyword' AS first_error;
SELECT lowcode.register_form('rf.signup', '{"required": ["name"], "type": "object", "properties": {"age": {"type": "integer"}, "name": {"title": "Name", "type": "string"}, "email": {"format": "email", "type": "string"}}}') AS same_version;
SELECT (SELECT array_agg(k) FROM json_object_keys(lowcode.get_form('rf.signup') -> 'properties') k) AS first_text_kept;
-- a version registered with register_schema reads back in jsonb's order, and takes the author's text later
SELECT lowcode.register_schema('rf.later', '{"properties": {"zed": {}, "abc": {}}}') AS v;
SELECT lowcode.get_form('rf.later')::text AS jsonb_text;
SELECT lowcode.register_form('rf.later', '{"properties": {"zed": {}, "abc": {}}}') AS same_v;
SELECT lowcode.get_form('rf.later')::text AS author_text;
-- the text is immutable once set, and can only be the same document
RESET ROLE;
SELECT pg_temp.err($$UPDATE lowcode.schema_versions SET schema_json = '{"properties": {"abc": {}, "zed": {}}}' WHERE subject = 'rf.later'$$) AS reorder_refused;
SELECT pg_temp.err($$UPDATE lowcode.schema_versions SET schema_json = NULL WHERE subject = 'rf.later'$$) AS removal_refused;
SELECT pg_temp.err($$SELECT lowcode.register_form('rf.bad', NULL)$$);
SELECT pg_temp.err($$SELECT lowcode.register_form('rf.bad', '{"type": "strnig"}')$$);
SELECT pg_temp.err($$SELECT lowcode.get_form('rf.nowhere')$$);

-- messages in the request's language: Accept-Language (through PostgREST's request.headers), else the tenant's default
SELECT lowcode.register_schema('rf.lang', '{"type": "object", "properties": {"name": {"type": "string", "minLength": 3}, "tags": {"type": "array", "minItems": 1}}, "required": ["name", "city"]}') AS v;
CREATE FUNCTION pg_temp.msgs(headers text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.headers', headers, false);
  RETURN (SELECT string_agg(e ->> 'message', ' | ' ORDER BY e ->> 'instancePath', e ->> 'keyword')
            FROM jsonb_array_elements(lowcode.validate('rf.lang', '{"name": "Al", "tags": []}') -> 'errors') e);
END
$$;
SELECT h AS accept_language, pg_temp.msgs(json_build_object('accept-language', h)::text) AS messages
  FROM unnest(ARRAY['en', 'zh-CN', 'de-DE,de;q=0.9', 'es', 'fr-CA', 'ja', 'pt-BR', 'it;q=0.9, fr;q=0.5', 'xx, *;q=0.1']) h;
SELECT pg_temp.msgs('{}') AS no_header;
-- the tenant's default, when the request names no language it has: set by the
-- tenant itself (its API role, in its request) with set_tenant_locale(locale)
RESET ROLE;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rf_api') THEN CREATE ROLE rf_api NOLOGIN; END IF;
END $$;
SELECT lowcode.grant_api_role('rf_api');
SELECT lowcode.create_tenant('forms-b') AS tb \gset
SET ROLE rf_api;
SELECT lowcode.set_tenant_locale('de-CH') AS stored;
SELECT settings ->> 'locale' AS own_row FROM lowcode.tenants;
SELECT pg_temp.msgs('{}') AS tenant_default;
SELECT pg_temp.msgs('{"accept-language": "fr"}') AS header_wins;
SELECT set_config('request.headers', '', false) IS NOT NULL AS reset;
-- a tenant cannot set another's, nor use the operator's form; bad tags are refused, changing nothing
SELECT pg_temp.err(format('SELECT lowcode.set_tenant_locale(%L::uuid, %L)', :'tb', 'fr')) AS other_tenant;
SELECT pg_temp.err($$SELECT lowcode.set_tenant_locale('it')$$) AS unsupported,
       pg_temp.err($$SELECT lowcode.set_tenant_locale('de;q=1')$$) AS not_a_tag,
       pg_temp.err($$SELECT lowcode.set_tenant_locale('')$$) AS empty;
SELECT pg_temp.err($$UPDATE lowcode.tenants SET settings = '{}'$$) AS direct_update, (SELECT settings ->> 'locale' FROM lowcode.tenants) AS still;
-- NULL removes it; without a tenant context: 401
SELECT lowcode.set_tenant_locale(NULL) IS NULL AS removed;
SELECT settings ? 'locale' AS has_locale FROM lowcode.tenants;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS no_tenant;
SELECT pg_temp.err($$SELECT lowcode.set_tenant_locale('de')$$) AS without_tenant;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta', 'sub', 'fay')::text, false) IS NOT NULL AS tenant_set;
-- an operator sets any tenant's, in canonical form
RESET ROLE;
SELECT lowcode.set_tenant_locale(:'tb', 'PT_pt') AS operator_stored, lowcode.set_tenant_locale(:'ta', 'zh-TW') AS zh;
SELECT slug, settings ->> 'locale' AS locale FROM lowcode.tenants WHERE slug IN ('forms-a', 'forms-b') ORDER BY slug;
SELECT pg_temp.msgs('{}') AS tenant_default_zh;
SELECT pg_temp.err($$SELECT lowcode.set_tenant_locale('00000000-0000-0000-0000-000000000000', 'de')$$) AS unknown_tenant;
SELECT lowcode.set_tenant_locale(:'ta', NULL) IS NULL AS removed;
-- the singular where a language has one
SELECT lowcode.jsonschema_validate('{"minItems": 1}', '[]', '{"locale": "de"}') #>> '{errors,0,message}' AS one,
       lowcode.jsonschema_validate('{"minItems": 2}', '[]', '{"locale": "de"}') #>> '{errors,0,message}' AS other;
SELECT pg_temp.err($$SELECT lowcode.jsonschema_validate('{}', '1', '{"locale": "xx"}')$$) AS unknown_locale;
SET lowcode.locale = 'ja';
SELECT lowcode.jsonschema_validate('{"type": "string"}', '1') #>> '{errors,0,message}' AS by_setting;
RESET lowcode.locale;

-- a field's title in messages (the registry's validation), and ajv-errors' errorMessage
SELECT lowcode.register_schema('rf.titled', $${"type": "object", "title": "Leave request",
  "properties": {"start": {"type": "string", "title": "Start date", "format": "date"}, "days": {"$ref": "#/$defs/days"}},
  "required": ["start", "days", "reason"],
  "$defs": {"days": {"type": "integer", "title": "Number of days", "minimum": 1}}}$$) AS v;
SELECT e ->> 'instancePath' AS field, e ->> 'message' AS message, e ->> 'title' AS title
  FROM jsonb_array_elements(lowcode.validate('rf.titled', '{"start": "soon", "days": 0}') -> 'errors') e ORDER BY 1, 2;
SELECT e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.validate('rf.titled', '{}') -> 'errors') e ORDER BY 1;
-- the validator alone keeps ajv's messages
SELECT lowcode.jsonschema_validate(lowcode.get_schema('rf.titled'), '{"start": 1, "days": 1, "reason": "x"}') #>> '{errors,0,message}' AS plain;
SELECT lowcode.register_schema('rf.custom', $${"type": "object",
  "properties": {
    "age": {"type": "integer", "minimum": 18, "errorMessage": "you must be an adult (a whole number of years, 18 or more)"},
    "email": {"type": "string", "format": "email", "minLength": 6},
    "nick": {"type": "string", "maxLength": 3}},
  "required": ["age", "email"],
  "errorMessage": {"required": {"email": "we need your email"}, "properties": {"email": "that is not an email address"},
                   "_": "something else is wrong"}}$$) AS v;
SELECT e ->> 'instancePath' AS field, e ->> 'keyword' AS keyword, e ->> 'message' AS message,
       jsonb_array_length(e -> 'params' -> 'errors') AS replaced, e -> 'params' -> 'errors' -> 0 ->> 'keyword' AS first_replaced
  FROM jsonb_array_elements(lowcode.validate('rf.custom', '{"age": 12.5}') -> 'errors') e ORDER BY 1, 3;
SELECT e ->> 'instancePath' AS field, e ->> 'keyword' AS keyword, e ->> 'message' AS message,
       jsonb_array_length(e -> 'params' -> 'errors') AS replaced
  FROM jsonb_array_elements(lowcode.validate('rf.custom', '{"age": 30, "email": "x", "nick": "toolong"}') -> 'errors') e ORDER BY 1, 3;
SELECT lowcode.validate('rf.custom', '{"age": 30, "email": "ann@example.com"}') ->> 'valid' AS valid_untouched;

ROLLBACK;
