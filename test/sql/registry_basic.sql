-- The schema registry: subjects and versions, compatibility modes (each
-- mode, transitive or not, most specific setting wins), references,
-- deprecation and deletion, validation with x-rules, submissions,
-- attach_validation, audit rows and events, tenant isolation.
\set VERBOSITY terse
-- everything below runs in one transaction that is rolled back: the database is
-- left as found (errors are caught by pg_temp.err, so the transaction stays usable)
BEGIN;

-- errors as "SQLSTATE: message [detail]" (PGRST errors carry their HTTP status in the detail)
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || CASE WHEN st = 'PGRST' THEN ' ' || det ELSE '' END;
END
$$;
-- a NULL tenant: the operator working on global subjects, on purpose (lowcode.registry_scope)
CREATE FUNCTION pg_temp.as_tenant(t uuid, sub text DEFAULT NULL) RETURNS boolean LANGUAGE sql AS $$
  SELECT set_config('request.jwt.claims', CASE WHEN t IS NULL THEN '' ELSE json_build_object('tenant_id', t, 'sub', sub)::text END, false) IS NOT NULL
     AND set_config('lowcode.registry_scope', CASE WHEN t IS NULL THEN 'global' ELSE 'tenant' END, false) IS NOT NULL
$$;
CREATE FUNCTION pg_temp.compat(subject text, schema jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT (r ->> 'mode') || ' ' || CASE WHEN (r ->> 'compatible')::boolean THEN 'compatible' ELSE 'incompatible' END
         || coalesce(' [' || (SELECT string_agg(format('%s %s v%s%s', c ->> 'type', c ->> 'path', c ->> 'against_version',
                                                       CASE WHEN (c ->> 'compatible')::boolean THEN '' ELSE ' !' END), '; ')
                               FROM jsonb_array_elements(r -> 'changes') c) || ']', '')
    FROM lowcode.check_compatibility(subject, schema) r
$$;

SELECT lowcode.create_tenant('reg-a') AS ta \gset
SELECT lowcode.create_tenant('reg-b') AS tb \gset

-----------------------------------------------------------------------------
-- Global subjects (operator, no tenant context)
-----------------------------------------------------------------------------
-- without a tenant and without asking for the global scope: refused, nothing made (issue 13)
SELECT pg_temp.err($$SELECT lowcode.register_schema('common.address', '{}')$$) AS no_tenant_context;
SELECT pg_temp.err($$SELECT lowcode.submit('common.address', '{}')$$) AS submit_without_tenant;
SELECT count(*) AS no_subject_made FROM lowcode.subjects;
SELECT pg_temp.as_tenant(NULL);
SELECT lowcode.register_schema('common.address', '{"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}, "required": ["city"]}', 'postal address') AS v;
SELECT lowcode.register_schema('common.address', '{"properties": {"zip": {"pattern": "^[0-9]{5}$", "type": "string"}, "city": {"type": "string"}}, "required": ["city"], "type": "object"}') AS same_content_same_version;
SELECT subject, global, latest_version, description FROM lowcode.forms ORDER BY subject;

-- names and modes are validated
SELECT pg_temp.err($$SELECT lowcode.register_schema('9lives', '{}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('a/b', '{}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema(NULL, '{}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('ok', '"a string"')$$);
SELECT left(pg_temp.err($$SELECT lowcode.register_schema('ok', '{"type": "strnig"}')$$), 100) AS invalid_schema;
SELECT pg_temp.err($$SELECT lowcode.register_schema('ok', '{"type": "strnig"}')$$) LIKE '%instancePath%/type%{"status":422,%' AS lists_errors;
SELECT pg_temp.err($$SELECT lowcode.register_schema('ok', '{"$ref": "lowcode:nowhere"}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('ok', '{"x-rules": [{"rule": "a >"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.set_compatibility('common.address', 'SIDEWAYS')$$);
SELECT count(*) AS subjects_after_errors FROM lowcode.subjects;

-----------------------------------------------------------------------------
-- Compatibility: each mode against a widening, a narrowing and an annotation change
-----------------------------------------------------------------------------
CREATE TEMP TABLE modes (mode text);
INSERT INTO modes VALUES ('NONE'), ('BACKWARD'), ('BACKWARD_TRANSITIVE'), ('FORWARD'), ('FORWARD_TRANSITIVE'), ('FULL'), ('FULL_TRANSITIVE');
SELECT lowcode.set_compatibility('m.' || lower(mode), mode) FROM modes;
SELECT lowcode.register_schema('m.' || lower(mode), '{"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}') AS v FROM modes;
SELECT mode,
       pg_temp.compat('m.' || lower(mode), '{"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}') AS widened,
       pg_temp.compat('m.' || lower(mode), '{"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}}') AS narrowed,
       pg_temp.compat('m.' || lower(mode), '{"type": "object", "title": "T", "properties": {"name": {"type": "string", "maxLength": 10}}}') AS annotated
  FROM modes;

-- transitive modes compare with every version, the others with the latest only.
-- t.back: v1 maxLength 10, then (under NONE) v2 maxLength 5: a candidate like v2
-- is fine against v2 but tightens v1 (BACKWARD and FULL see it transitively).
SELECT lowcode.set_compatibility('t.back', 'NONE');
SELECT lowcode.register_schema('t.back', '{"maxLength": 10}') AS v1, lowcode.register_schema('t.back', '{"maxLength": 5}') AS v2;
SELECT lowcode.set_compatibility('t.back', 'BACKWARD');
SELECT pg_temp.compat('t.back', '{"maxLength": 5, "title": "again"}') AS backward;
SELECT lowcode.set_compatibility('t.back', 'BACKWARD_TRANSITIVE');
SELECT pg_temp.compat('t.back', '{"maxLength": 5, "title": "again"}') AS backward_transitive;
SELECT pg_temp.err($$SELECT lowcode.register_schema('t.back', '{"maxLength": 5, "title": "again"}')$$);
SELECT lowcode.set_compatibility('t.back', 'FULL');
SELECT pg_temp.compat('t.back', '{"maxLength": 5, "title": "again"}') AS full;
SELECT lowcode.set_compatibility('t.back', 'FULL_TRANSITIVE');
SELECT pg_temp.compat('t.back', '{"maxLength": 5, "title": "again"}') AS full_transitive;
SELECT lowcode.set_compatibility('t.back', 'BACKWARD');
SELECT lowcode.register_schema('t.back', '{"maxLength": 5, "title": "again"}') AS v3_under_backward;
-- t.fwd: v1 maxLength 5, then (under NONE) v2 maxLength 10
SELECT lowcode.set_compatibility('t.fwd', 'NONE');
SELECT lowcode.register_schema('t.fwd', '{"maxLength": 5}') AS v1, lowcode.register_schema('t.fwd', '{"maxLength": 10}') AS v2;
SELECT lowcode.set_compatibility('t.fwd', 'FORWARD');
SELECT pg_temp.compat('t.fwd', '{"maxLength": 10, "title": "again"}') AS forward;
SELECT lowcode.set_compatibility('t.fwd', 'FORWARD_TRANSITIVE');
SELECT pg_temp.compat('t.fwd', '{"maxLength": 10, "title": "again"}') AS forward_transitive;
SELECT pg_temp.compat('t.fwd', '{"maxLength": 4}') AS narrower_than_all;

-- the most specific setting wins: subject, then tenant, then platform, then BACKWARD
SELECT lowcode.set_compatibility(NULL, 'FULL');    -- the platform (operator without tenant)
SELECT pg_temp.as_tenant(:'ta', 'alice');
SELECT lowcode.register_schema('f.mode', '{"type": "string"}') AS v;
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS platform_full;
SELECT lowcode.set_compatibility(NULL, 'FORWARD'); -- tenant A
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS tenant_forward;
SELECT lowcode.set_compatibility('f.mode', 'NONE');
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS subject_none;
SELECT lowcode.set_compatibility('f.mode', NULL);
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS inherits_again;
SELECT lowcode.set_compatibility(NULL, NULL);
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS platform_again;
SELECT pg_temp.as_tenant(:'tb', 'bob');
SELECT lowcode.register_schema('f.mode', '{"type": "string"}') AS v;
SELECT pg_temp.compat('f.mode', '{"type": "string", "maxLength": 3}') AS tenant_b_platform_full;
SELECT pg_temp.as_tenant(NULL);
SELECT lowcode.set_compatibility(NULL, NULL);

-----------------------------------------------------------------------------
-- A tenant's form: references, versions, deprecation, deletion
-----------------------------------------------------------------------------
SELECT pg_temp.as_tenant(:'ta', 'alice');
-- a tenant cannot take a global subject's name
SELECT pg_temp.err($$SELECT lowcode.register_schema('common.address', '{}')$$);
SELECT lowcode.register_schema('leave-request', '{
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "start_date": {"type": "string", "format": "date"},
    "end_date": {"type": "string", "format": "date"},
    "address": {"$ref": "lowcode:common.address"}
  },
  "required": ["name", "start_date", "end_date"],
  "additionalProperties": false,
  "x-rules": [{"rule": "end_date >= start_date", "message": "the end date must not be before the start date", "path": "/end_date"}]
}', 'leave request') AS v1;
SELECT lowcode.get_schema('leave-request') -> 'required' AS latest_required;
SELECT pg_temp.err($$SELECT lowcode.get_schema('leave-request', 7)$$);
SELECT pg_temp.err($$SELECT lowcode.get_schema('no-such-form')$$);
SELECT pg_temp.err($$SELECT lowcode.validate('leave-request', '{}', 0)$$) AS version_zero;

-- validation: JSON Schema errors and x-rules failures in one list
SELECT lowcode.validate('leave-request', '{"name": "Ann", "start_date": "2026-01-10", "end_date": "2026-01-12"}') ->> 'valid' AS ok;
SELECT e ->> 'instancePath' AS field, e ->> 'keyword' AS keyword, e ->> 'message' AS message
  FROM jsonb_array_elements(lowcode.validate('leave-request',
         '{"name": "", "start_date": "2026-01-10", "end_date": "2026-01-02", "address": {"zip": "1"}}') -> 'errors') e
 ORDER BY 1, 2;

-- rules of nested objects, and a rule that cannot be evaluated (a missing field) fails
SELECT lowcode.register_schema('trip', '{
  "type": "object",
  "properties": {
    "stay": {"type": "object",
             "x-rules": [{"rule": "nights <= 30", "message": "at most 30 nights", "path": "/nights"}]},
    "budget": {"type": "number"}
  },
  "x-rules": [{"rule": "budget > 0", "message": "a budget is needed"}]
}') AS v1;
SELECT e ->> 'instancePath' AS field, e ->> 'keywordLocation' AS rule, e ->> 'message' AS message,
       e -> 'params' ? 'error' AS evaluation_failed
  FROM jsonb_array_elements(lowcode.validate('trip', '{"stay": {"nights": 45}}') -> 'errors') e ORDER BY 1;
SELECT lowcode.validate('trip', '{"stay": {"nights": 3}, "budget": 10}') ->> 'valid' AS ok;
-- a draft 7 schema referencing a registry subject
SELECT lowcode.register_schema('legacy-form', '{"$schema": "http://json-schema.org/draft-07/schema#",
  "properties": {"addr": {"$ref": "lowcode:common.address"}}}') AS v1;
SELECT lowcode.validate('legacy-form', '{"addr": {"zip": "123"}}') -> 'errors' -> 0 ->> 'absoluteKeywordLocation' AS draft7_error_at;

-- a compatible new version (optional field), then an incompatible one
SELECT lowcode.register_schema('leave-request', jsonb_set(lowcode.get_schema('leave-request'), '{properties,reason}', '{"type": "string"}')) AS v2;
SELECT pg_temp.err($$SELECT lowcode.register_schema('leave-request', jsonb_set(lowcode.get_schema('leave-request'), '{required}', '["name", "start_date", "end_date", "reason"]'))$$);
SELECT subject, version, state FROM lowcode.form_versions WHERE subject = 'leave-request' ORDER BY version;

-- deprecation: the latest enabled version moves back
SELECT lowcode.deprecate_schema('leave-request', 2);
SELECT latest_version FROM lowcode.forms WHERE subject = 'leave-request';
SELECT lowcode.get_schema('leave-request', 2) -> 'properties' ? 'reason' AS deprecated_still_by_number;
SELECT lowcode.set_schema_state('leave-request', 2, 'enabled');
SELECT pg_temp.err($$SELECT lowcode.set_schema_state('leave-request', 2, 'archived')$$);

-- versions are immutable, even for their owner
RESET ROLE;
SELECT pg_temp.err($$UPDATE lowcode.schema_versions SET schema = '{}' WHERE subject = 'leave-request'$$);

-- deletion: soft first, permanent after; referenced versions stay
SELECT pg_temp.err($$SELECT lowcode.delete_schema('leave-request', 1, true)$$);
SELECT lowcode.delete_schema('leave-request', 1);
SELECT lowcode.get_schema('leave-request', 1) IS NOT NULL AS soft_deleted_resolvable_by_number;
SELECT count(*) AS listed_versions FROM lowcode.form_versions WHERE subject = 'leave-request';
SELECT lowcode.delete_schema('leave-request', 1, true);
SELECT pg_temp.err($$SELECT lowcode.get_schema('leave-request', 1)$$);
SELECT lowcode.register_schema('lib.part', '{"type": "integer"}') AS v1;
SELECT lowcode.register_schema('uses-part', '{"properties": {"n": {"$ref": "lowcode:lib.part/1"}}}') AS v1;
SELECT pg_temp.err($$SELECT lowcode.delete_schema('lib.part', 1)$$);
SELECT pg_temp.as_tenant(NULL);
SELECT pg_temp.err($$SELECT lowcode.delete_schema('common.address', 1)$$);

-----------------------------------------------------------------------------
-- Submissions
-----------------------------------------------------------------------------
CREATE ROLE reg_api;
SELECT lowcode.grant_api_role('reg_api');
SET ROLE reg_api;
SELECT pg_temp.as_tenant(:'ta', 'alice');
SELECT lowcode.submit('leave-request', '{"name": "Ann", "start_date": "2026-01-10", "end_date": "2026-01-12"}') - 'created_at' - 'id' AS submitted;
-- a new version: new submissions use it, existing ones stay pinned to theirs
SELECT lowcode.register_schema('leave-request', jsonb_set(lowcode.get_schema('leave-request'), '{properties,days}', '{"type": "integer", "minimum": 1}')) AS v3;
INSERT INTO lowcode.submissions (subject, data)
  VALUES ('leave-request', '{"name": "Bob", "start_date": "2026-02-01", "end_date": "2026-02-03", "days": 3}');
INSERT INTO lowcode.submissions (subject, version, data)
  VALUES ('leave-request', 2, '{"name": "Bea", "start_date": "2026-02-01", "end_date": "2026-02-03"}');
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, version, data) VALUES ('leave-request', 2, '{"name": "Bo", "start_date": "2026-02-01", "end_date": "2026-02-03", "days": 3}')$$);
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, data) VALUES ('leave-request', '{"name": "Cy", "start_date": "2026-03-05", "end_date": "2026-03-01"}')$$);
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, version, data) VALUES ('leave-request', 1, '{}')$$) AS deleted_version;
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, data) VALUES ('no-such-form', '{}')$$);
SELECT subject, version, data ->> 'name' AS name, status, created_by FROM lowcode.submissions ORDER BY id;
-- updates are validated against the pinned version
SELECT pg_temp.err($$UPDATE lowcode.submissions SET data = data - 'name' WHERE data ->> 'name' = 'Ann'$$);
UPDATE lowcode.submissions SET status = 'approved' WHERE data ->> 'name' = 'Ann';
SELECT pg_temp.err($$UPDATE lowcode.submissions SET subject = 'uses-part' WHERE data ->> 'name' = 'Ann'$$);
SELECT data ->> 'name' AS name, status, updated_at IS NOT NULL AS updated FROM lowcode.submissions ORDER BY id;
-- a permanently deleted version may not leave submissions without their schema
RESET ROLE;
SELECT lowcode.delete_schema('leave-request', 2);
SELECT pg_temp.err($$SELECT lowcode.delete_schema('leave-request', 2, true)$$);

-- tenant B sees none of it: another tenant's subject is a missing subject
SET ROLE reg_api;
SELECT pg_temp.as_tenant(:'tb', 'bob');
SELECT count(*) AS b_submissions FROM lowcode.submissions;
SELECT subject FROM lowcode.forms ORDER BY subject;
SELECT replace(pg_temp.err($$SELECT lowcode.get_schema('leave-request')$$), 'leave-request', 'X')
         = replace(pg_temp.err($$SELECT lowcode.get_schema('leave-reqest')$$), 'leave-reqest', 'X') AS same_as_missing,
       replace(pg_temp.err($$SELECT lowcode.validate('leave-request', '{}')$$), 'leave-request', 'X')
         = replace(pg_temp.err($$SELECT lowcode.validate('leave-reqest', '{}')$$), 'leave-reqest', 'X') AS validate_same;
SELECT pg_temp.err($$SELECT lowcode.register_schema('b-form', '{"$ref": "lowcode:leave-request"}')$$);
SELECT pg_temp.err($$SELECT lowcode.jsonschema_validate('{"$ref": "lowcode:leave-request"}', '{}')$$) LIKE 'LJ004%' AS store_does_not_resolve;
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, data) VALUES ('leave-request', '{}')$$);
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (tenant_id, subject, data) VALUES ('$$ || :'ta' || $$', 'leave-request', '{}')$$);
SELECT pg_temp.err($$SELECT lowcode.delete_schema('leave-request', 3)$$);
SELECT pg_temp.err($$SELECT lowcode.deprecate_schema('leave-request', 3)$$);
SELECT pg_temp.err($$SELECT lowcode.check_compatibility('leave-request', '{}')$$) AS compat_of_own_empty_subject;
UPDATE lowcode.submissions SET status = 'hacked';
DELETE FROM lowcode.submissions;
SELECT count(*) AS b_sees_audit_of_a FROM lowcode.registry_audit WHERE tenant_id <> :'tb';
SELECT count(*) AS b_sees_events_of_a FROM lowcode.events WHERE tenant_id <> :'tb';
-- B registers its own subject of the same name: independent of A's
SELECT lowcode.register_schema('leave-request', '{"type": "object", "required": ["who"]}') AS b_v1;
SELECT lowcode.get_schema('leave-request') AS b_sees_own;
-- direct writes to registry tables are not allowed
SELECT pg_temp.err($$INSERT INTO lowcode.subjects (tenant_id, name, created_by) VALUES ('$$ || :'tb' || $$', 'x', 'me')$$);
SELECT pg_temp.err($$UPDATE lowcode.schema_versions SET state = 'disabled'$$);
SELECT pg_temp.err($$DELETE FROM lowcode.registry_audit$$);
-- without a tenant, a non-operator has no registry
SELECT pg_temp.as_tenant(NULL);
SELECT pg_temp.err($$SELECT lowcode.register_schema('x', '{}')$$);
SELECT count(*) AS without_context FROM lowcode.submissions;
RESET ROLE;

-- A's rows are all there
SELECT pg_temp.as_tenant(:'ta', 'alice');
SET ROLE reg_api;
SELECT data ->> 'name' AS name, status FROM lowcode.submissions ORDER BY id;
RESET ROLE;

-----------------------------------------------------------------------------
-- attach_validation on a user's own table
-----------------------------------------------------------------------------
CREATE TABLE leave_docs (id serial PRIMARY KEY, doc jsonb, note text);
SELECT lowcode.attach_validation('leave_docs', 'doc', 'leave-request');
INSERT INTO leave_docs (doc) VALUES ('{"name": "Dee", "start_date": "2026-04-01", "end_date": "2026-04-02"}');
INSERT INTO leave_docs (doc) VALUES (NULL);
SELECT pg_temp.err($$INSERT INTO leave_docs (doc) VALUES ('{"name": "Eve", "start_date": "2026-04-03", "end_date": "2026-04-01"}')$$);
SELECT pg_temp.err($$INSERT INTO leave_docs (doc) VALUES ('null')$$);
UPDATE leave_docs SET note = 'only the note changes' WHERE id = 1;
SELECT pg_temp.err($$SELECT lowcode.attach_validation('leave_docs', 'note', 'leave-request')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_validation('leave_docs', 'nope', 'leave-request')$$);
SELECT count(*) AS docs FROM leave_docs;

-----------------------------------------------------------------------------
-- Audit and events
-----------------------------------------------------------------------------
SELECT pg_temp.as_tenant(NULL);
SELECT tenant_id = :'ta' AS tenant_a, actor_role, actor_sub, action, subject, version
  FROM lowcode.registry_audit WHERE tenant_id = :'ta' ORDER BY id;
SELECT type, payload ->> 'subject' AS subject, payload ->> 'version' AS version
  FROM lowcode.events WHERE tenant_id = :'ta' AND type LIKE 'registry.%' ORDER BY id LIMIT 6;
-- the trace id comes from the traceparent header
SELECT set_config('request.headers', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}', false) IS NOT NULL AS set;
SELECT lowcode.register_schema('traced', '{}') AS v;
SELECT action, trace_id FROM lowcode.registry_audit WHERE subject = 'traced';
SELECT type, trace_id FROM lowcode.events WHERE payload ->> 'subject' = 'traced';
SELECT set_config('request.headers', '', false) IS NOT NULL AS reset;

-- the isolation report finds nothing wrong with the registry's tables and views
SELECT * FROM lowcode.isolation_report() WHERE object_name ~ '(subjects|schema_|registry_|submissions|forms|form_versions)';

ROLLBACK;
