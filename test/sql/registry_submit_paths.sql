-- Issue 21, session 7: lowcode.submit() writes the submission without the executor when
-- lowcode.submissions is as the extension made it (the direct path, src/registry/registry_record.c),
-- and runs its INSERT otherwise (the SQL path).  Each case below runs both ways and shows the
-- same rows, audit rows, events and errors; lowcode.submit_stats() tells which path ran, so
-- that no case passes by running the same path twice.
\set VERBOSITY terse
BEGIN;

-- one submission, as "path | outcome": the path from submit_stats() (direct, sql (why), or
-- none: refused before either), the outcome the result without its id and time, or the
-- error's SQLSTATE, message, detail and hint
CREATE FUNCTION pg_temp.sub(subject text, data jsonb, version integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  before jsonb := lowcode.submit_stats();
  after jsonb;
  path text;
  outcome text;
  r jsonb;
  st text; msg text; det text; hint text;
BEGIN
  BEGIN
    r := lowcode.submit(subject, data, version);
    outcome := (r - 'id' - 'created_at')::text || CASE WHEN (r ->> 'id')::bigint > 0 AND (r ->> 'created_at')::timestamptz = now()
                                                      THEN '' ELSE ' (bad id or time)' END;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    outcome := concat_ws(' | ', st, msg, nullif(det, ''), nullif(hint, ''));
  END;
  after := lowcode.submit_stats();
  path := CASE WHEN (after ->> 'direct')::int > (before ->> 'direct')::int THEN 'direct'
               WHEN (after ->> 'sql')::int > (before ->> 'sql')::int THEN 'sql (' || (after ->> 'last_sql_reason') || ')'
               ELSE 'none' END;
  RETURN path || ' | ' || outcome;
END
$$;
-- the same call both ways: the direct path, then the SQL path (made to run by a user trigger
-- that does nothing); "same" when the outcomes agree
CREATE FUNCTION public.lowcode_paths_noop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'user trigger on %', NEW.subject; RETURN NEW; END $$;
CREATE FUNCTION pg_temp.both(subject text, data jsonb, version integer DEFAULT NULL)
RETURNS TABLE (direct text, sql text, same boolean, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
  caller text := current_user;
  d text;
  q text;
BEGIN
  d := pg_temp.sub(subject, data, version);
  RESET ROLE;
  CREATE TRIGGER lowcode_paths_noop BEFORE INSERT ON lowcode.submissions
    FOR EACH ROW EXECUTE FUNCTION public.lowcode_paths_noop();
  EXECUTE format('SET ROLE %I', caller);
  q := pg_temp.sub(subject, data, version);
  RESET ROLE;
  DROP TRIGGER lowcode_paths_noop ON lowcode.submissions;
  EXECUTE format('SET ROLE %I', caller);
  direct := split_part(d, ' | ', 1);
  sql := split_part(q, ' | ', 1);
  outcome := substr(d, strpos(d, ' | ') + 3);
  same := outcome = substr(q, strpos(q, ' | ') + 3);
  RETURN NEXT;
END
$$;

SELECT lowcode.create_tenant('paths-a') AS ta \gset
SELECT lowcode.create_tenant('paths-b') AS tb \gset
CREATE ROLE lowcode_paths_api;
SELECT lowcode.grant_api_role('lowcode_paths_api');
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta', 'sub', 'ann')::text, false) IS NOT NULL AS claims;
SELECT set_config('request.headers', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}', false) IS NOT NULL AS headers;
SELECT lowcode.register_schema('paths.leave', '{"type": "object", "required": ["start_date", "end_date"],
  "properties": {"start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
                 "days": {"type": "integer", "minimum": 1, "maximum": 5}},
  "x-rules": [{"rule": "end_date >= start_date", "message": "the end must not be before the start", "path": "/end_date"}]}') AS v1;
SELECT lowcode.register_schema('paths.leave', '{"type": "object", "required": ["start_date", "end_date"],
  "properties": {"start_date": {"type": "string", "format": "date"}, "end_date": {"type": "string", "format": "date"},
                 "days": {"type": "integer", "minimum": 1, "maximum": 60}},
  "x-rules": [{"rule": "end_date >= start_date", "message": "the end must not be before the start", "path": "/end_date"}]}') AS v2;

-- as the API role: row security applies (its WITH CHECK, its privileges)
SET ROLE lowcode_paths_api;
-- a valid submission
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04", "days": 3}');
-- invalid data: the whole error list, schema and x-rule
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-04", "end_date": "2026-05-02", "days": 0}');
-- a subject that does not exist
SELECT * FROM pg_temp.both('paths.nothing', '{}');
-- the pinned version: 1 given (at most 5 days), 2 given, the latest (2), 99 (none)
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04", "days": 10}', 1);
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04", "days": 10}', 2);
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04", "days": 3}', 1);
SELECT * FROM pg_temp.both('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}', 99);
-- NULL subject or data: the SQL path's errors
SELECT * FROM pg_temp.both(NULL, '{}');
SELECT * FROM pg_temp.both('paths.leave', NULL);
RESET ROLE;

-- the rows both paths wrote, side by side: the same but for the ids (ordered by id: direct first)
SELECT s.tenant_id = :'ta' AS tenant, s.subject, s.version, s.data, s.status, s.created_by, s.created_at = now() AS created_now,
       s.updated_at, s.trace_id
  FROM lowcode.submissions s WHERE s.tenant_id = :'ta' ORDER BY s.id;
SELECT a.actor_role, a.actor_sub, a.action, a.subject, a.version, a.details - 'id' AS details,
       (a.details ->> 'id')::bigint = s.id AS details_id, a.trace_id, a.created_at = now() AS created_now
  FROM lowcode.submissions s JOIN lowcode.registry_audit a ON a.tenant_id = s.tenant_id AND a.details ->> 'id' = s.id::text
 WHERE s.tenant_id = :'ta' ORDER BY s.id;
SELECT e.type, e.payload - 'id' AS payload, (e.payload ->> 'id')::bigint = s.id AS payload_id, e.trace_id,
       e.deadline = now() + interval '7 days' AS deadline
  FROM lowcode.submissions s JOIN lowcode.events e ON e.tenant_id = s.tenant_id AND e.payload ->> 'id' = s.id::text
 WHERE s.tenant_id = :'ta' ORDER BY s.id;
-- nothing of the failed ones is left (audit rows and events of the tenant: one per submission)
SELECT (SELECT count(*) FROM lowcode.submissions WHERE tenant_id = :'ta') AS submissions,
       (SELECT count(*) FROM lowcode.registry_audit WHERE tenant_id = :'ta' AND action = 'submission_created') AS audit_rows,
       (SELECT count(*) FROM lowcode.events WHERE tenant_id = :'ta' AND type = 'registry.submission_created') AS events;

-- the user trigger forces the SQL path, and it fires (its notice); once dropped, the direct
-- path again: the verdict on the table is dropped by the relcache invalidation each time
CREATE TRIGGER lowcode_paths_noop BEFORE INSERT ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION public.lowcode_paths_noop();
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-02"}') AS user_trigger;
DROP TRIGGER lowcode_paths_noop ON lowcode.submissions;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-02"}') AS trigger_dropped;

-- a subject a workflow governs: the SQL path, so that the workflow trigger runs (the initial state).
-- (The identity sequences it advances are put back below: later tests count on their values.)
SELECT last_value AS wi_last, is_called AS wi_called FROM lowcode.workflow_instances_id_seq \gset
SELECT last_value AS wh_last, is_called AS wh_called FROM lowcode.workflow_history_id_seq \gset
SELECT lowcode.register_schema('paths.expense', '{"type": "object", "properties": {"amount": {"type": "number"}}}') AS ve;
SELECT lowcode.register_workflow('paths-flow', '{"initial": "new", "states": {"new": {"on": {"pay": "paid"}}, "paid": {"type": "final"}}}') AS wf;
SELECT lowcode.attach_workflow_subject('paths.expense', 'paths-flow');
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.expense', '{"amount": 40}') AS governed;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-02"}') AS not_governed;
RESET ROLE;
-- the gate keeps its answers until workflow_subjects changes (its statement trigger): detached,
-- the direct path at once, in the same transaction; attached again, the SQL path again
SELECT lowcode.attach_workflow_subject('paths.expense', NULL);
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.expense', '{"amount": 41}') AS detached;
RESET ROLE;
SELECT lowcode.attach_workflow_subject('paths.expense', 'paths-flow');
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.expense', '{"amount": 42}') AS attached_again;
RESET ROLE;
SELECT count(*) AS workflow_instances FROM lowcode.workflow_instances WHERE tenant_id = :'ta';
SELECT setval('lowcode.workflow_instances_id_seq', :wi_last, :'wi_called') IS NOT NULL AS put_back,
       setval('lowcode.workflow_history_id_seq', :wh_last, :'wh_called') IS NOT NULL AS put_back;

-- no tenant context: LG006, before either path
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS claims_reset;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS no_tenant;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta', 'sub', 'ann')::text, false) IS NOT NULL AS claims;

-- a caller without INSERT (or without SELECT, which RETURNING needs) on the table: refused as the
-- INSERT refuses it; with the privilege on the three columns only, the SQL path decides (and writes)
SAVEPOINT privileges;
REVOKE INSERT ON lowcode.submissions FROM lowcode_paths_api;
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS no_insert;
RESET ROLE;
GRANT INSERT (subject, data, version) ON lowcode.submissions TO lowcode_paths_api;
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS column_insert;
RESET ROLE;
GRANT INSERT ON lowcode.submissions TO lowcode_paths_api;
REVOKE SELECT ON lowcode.submissions FROM lowcode_paths_api;
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS no_select;
RESET ROLE;
ROLLBACK TO SAVEPOINT privileges;

-- ids: each new, each in the primary key's index (the direct path enters every index)
SET ROLE lowcode_paths_api;
SELECT count(*) FILTER (WHERE r LIKE 'direct | %') AS direct, count(*) AS submitted
  FROM generate_series(1, 50) i, pg_temp.sub('paths.leave', jsonb_build_object('start_date', '2026-05-02', 'end_date', '2026-05-03', 'days', i)) r;
RESET ROLE;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT count(*) AS ids, count(DISTINCT id) AS distinct_ids FROM lowcode.submissions WHERE tenant_id = :'ta';
SELECT count(*) AS found_by_key FROM lowcode.submissions s
 WHERE (s.tenant_id, s.id) IN (SELECT tenant_id, id FROM lowcode.submissions WHERE tenant_id = :'ta' OFFSET 0);
SELECT count(*) AS found_by_subject_index FROM lowcode.submissions WHERE tenant_id = :'ta' AND subject = 'paths.leave' AND version = 2;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- the quota accounting (the lowcode_quota trigger's work): one row and the same bytes either way
SELECT inflight_rows AS rows0, inflight_bytes AS bytes0 FROM lowcode.quota_live() WHERE tenant_id = :'ta' \gset
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS counted;
SELECT inflight_rows AS rows1, inflight_bytes AS bytes1 FROM lowcode.quota_live() WHERE tenant_id = :'ta' \gset
CREATE TRIGGER lowcode_paths_noop BEFORE INSERT ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION public.lowcode_paths_noop();
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS counted;
DROP TRIGGER lowcode_paths_noop ON lowcode.submissions;
SELECT :rows1 - :rows0 AS direct_rows, inflight_rows - :rows1 AS sql_rows, :bytes1 - :bytes0 AS direct_bytes,
       inflight_bytes - :bytes1 AS sql_bytes
  FROM lowcode.quota_live() WHERE tenant_id = :'ta';

-- an error after the submission's heap insert (here: a CHECK on registry_audit refuses its
-- audit row) takes the submission with it, on either path
SELECT lowcode.register_schema('paths.secret', '{"type": "object"}') AS vs;
ALTER TABLE lowcode.registry_audit ADD CONSTRAINT lowcode_paths_audit CHECK (subject <> 'paths.secret') NOT VALID;
SELECT direct, sql, split_part(outcome, ' | ', 1) AS sqlstate, split_part(outcome, ' | ', 2) AS message
  FROM pg_temp.both('paths.secret', '{}');
ALTER TABLE lowcode.registry_audit DROP CONSTRAINT lowcode_paths_audit;
SELECT count(*) AS secret_submissions FROM lowcode.submissions WHERE subject = 'paths.secret';

-- what else makes the SQL path run (each undone at once): the table not as made, or the session
SAVEPOINT other;
CREATE POLICY lowcode_paths_extra ON lowcode.submissions AS RESTRICTIVE FOR INSERT WITH CHECK (subject <> 'paths.secret');
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS extra_policy;
RESET ROLE;
ROLLBACK TO SAVEPOINT other;
ALTER TABLE lowcode.submissions ADD CONSTRAINT lowcode_paths_check CHECK (subject <> 'paths.secret') NOT VALID;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS extra_check;
ROLLBACK TO SAVEPOINT other;
ALTER TABLE lowcode.submissions ALTER COLUMN status SET DEFAULT 'received';
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS changed_default;
ROLLBACK TO SAVEPOINT other;
ALTER TABLE lowcode.submissions ADD COLUMN extra text DEFAULT 'x';
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS extra_column;
ROLLBACK TO SAVEPOINT other;
CREATE RULE lowcode_paths_rule AS ON INSERT TO lowcode.submissions DO ALSO NOTIFY lowcode_paths;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS rule;
ROLLBACK TO SAVEPOINT other;
ALTER TABLE lowcode.submissions DISABLE TRIGGER lowcode_quota;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS disabled_trigger;
ROLLBACK TO SAVEPOINT other;
CREATE OR REPLACE FUNCTION lowcode.workflow_subject_governed(tenant uuid, subject text) RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT false $$;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS replaced_gate;
ROLLBACK TO SAVEPOINT other;
SET LOCAL session_replication_role = replica;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS replica_role;
ROLLBACK TO SAVEPOINT other;
SET LOCAL row_security = off;
SET ROLE lowcode_paths_api;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS row_security_off;
RESET ROLE;
ROLLBACK TO SAVEPOINT other;
SET LOCAL transaction_read_only = on;
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS read_only;
ROLLBACK TO SAVEPOINT other;
-- and back: the direct path (as a superuser, to whom row security does not apply)
SELECT pg_temp.sub('paths.leave', '{"start_date": "2026-05-02", "end_date": "2026-05-04"}') AS direct_again;

ROLLBACK;
