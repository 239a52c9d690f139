-- Issue 21: a submission's audit row and event are written without the executor
-- (src/registry/registry_record.c), the workflow trigger runs only for governed
-- subjects (src/workflow/workflow_gate.c), submissions.status is checked in C.
-- The rows are the ones the saved plan writes (it is the fallback: compared below),
-- and what the constraints refused is still refused.
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
  RETURN st || ': ' || msg;
END
$$;

SELECT lowcode.create_tenant('direct-a') AS ta \gset
SELECT lowcode.create_tenant('direct-b') AS tb \gset
CREATE ROLE lowcode_direct_api;
SELECT lowcode.grant_api_role('lowcode_direct_api');
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta', 'sub', 'ann')::text, false) IS NOT NULL AS claims;
SELECT set_config('request.headers', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}', false) IS NOT NULL AS headers;
SELECT lowcode.register_schema('direct.form', '{"type": "object", "properties": {"n": {"type": "integer"}}}') AS v;

-- as the API role: the tables' policies let it write neither registry_audit nor events
SET ROLE lowcode_direct_api;
SELECT pg_temp.err($$INSERT INTO lowcode.events (tenant_id, type) VALUES (lowcode.current_tenant(), 'x.y')$$) AS api_writes_events;
SELECT lowcode.submit('direct.form', '{"n": 1}') ->> 'status' AS direct;
RESET ROLE;

-- the same submission through the saved plan: a trigger on registry_audit (which the
-- direct path does not know) makes the record trigger fall back to it
CREATE FUNCTION public.lowcode_direct_noop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'the saved plan wrote the audit row'; RETURN NEW; END $$;
CREATE TRIGGER lowcode_direct_noop BEFORE INSERT ON lowcode.registry_audit
  FOR EACH ROW EXECUTE FUNCTION public.lowcode_direct_noop();
SET ROLE lowcode_direct_api;
SELECT lowcode.submit('direct.form', '{"n": 2}') ->> 'status' AS fallback;
RESET ROLE;
-- session 6: the backend keeps what it learnt about both tables until a relcache
-- invalidation of either: with the trigger dropped it takes the direct path again (no
-- notice), and a trigger made again is seen at once (the notice)
DROP TRIGGER lowcode_direct_noop ON lowcode.registry_audit;
SAVEPOINT again;
SET ROLE lowcode_direct_api;
SELECT lowcode.submit('direct.form', '{"n": 20}') ->> 'status' AS direct_again;
RESET ROLE;
CREATE TRIGGER lowcode_direct_noop BEFORE INSERT ON lowcode.registry_audit
  FOR EACH ROW EXECUTE FUNCTION public.lowcode_direct_noop();
SELECT lowcode.submit('direct.form', '{"n": 21}') ->> 'status' AS fallback_again;
ROLLBACK TO SAVEPOINT again;
SELECT count(*) AS rolled_back FROM lowcode.submissions WHERE tenant_id = :'ta' AND data ->> 'n' IN ('20', '21');

-- both audit rows and both events, side by side: equal but for the ids
SELECT a.tenant_id = :'ta' AS tenant, a.created_at = now() AS created_now, a.actor_role, a.actor_sub, a.action,
       a.subject, a.version, a.details - 'id' AS details, (a.details ->> 'id')::bigint = s.id AS details_id,
       a.trace_id
  FROM lowcode.submissions s JOIN lowcode.registry_audit a ON a.tenant_id = s.tenant_id AND a.details ->> 'id' = s.id::text
 WHERE s.tenant_id = :'ta' ORDER BY s.id;
SELECT e.tenant_id = :'ta' AS tenant, e.type, e.payload - 'id' AS payload, (e.payload ->> 'id')::bigint = s.id AS payload_id,
       e.trace_id, e.created_at = now() AS created_now, e.deadline = now() + interval '7 days' AS deadline
  FROM lowcode.submissions s JOIN lowcode.events e ON e.tenant_id = s.tenant_id AND e.payload ->> 'id' = s.id::text
 WHERE s.tenant_id = :'ta' ORDER BY s.id;
-- an update is recorded the same way
UPDATE lowcode.submissions SET status = 'approved' WHERE tenant_id = :'ta' AND data = '{"n": 1}';
SELECT a.action, a.details - 'id' AS details, e.type, e.payload - 'id' AS payload
  FROM lowcode.registry_audit a JOIN lowcode.events e ON e.tenant_id = a.tenant_id AND e.payload ->> 'id' = a.details ->> 'id'
   AND e.type = 'registry.' || a.action
 WHERE a.tenant_id = :'ta' AND a.action = 'submission_updated';

-- a constraint the direct path does not know about is honoured (through the saved plan)
ALTER TABLE lowcode.events ADD CONSTRAINT lowcode_direct_check CHECK (payload ->> 'version' <> '1') NOT VALID;
SELECT pg_temp.err($$SELECT lowcode.submit('direct.form', '{"n": 3}')$$) AS unknown_check;
ALTER TABLE lowcode.events DROP CONSTRAINT lowcode_direct_check;
-- a row of another tenant is refused before anything is written (the validation trigger)
SELECT pg_temp.err(format($$INSERT INTO lowcode.submissions (tenant_id, subject, data) VALUES (%L, 'direct.form', '{}')$$, :'tb')) AS other_tenant;

-- events.type: the CHECK stays on the table for every other writer; the C path checks the same language
SELECT pg_temp.err(format($$INSERT INTO lowcode.events (tenant_id, type) VALUES (%L, 'Registry.created')$$, :'ta')) AS bad_type;
SELECT pg_temp.err(format($$INSERT INTO lowcode.events (tenant_id, type) VALUES (%L, 'registry')$$, :'ta')) AS one_word;
SELECT pg_temp.err(format($$SELECT lowcode.emit_event(%L, 'registry..x')$$, :'ta')) AS emit_bad_type;
SELECT pg_temp.err(format($$INSERT INTO lowcode.events (tenant_id, type) VALUES (%L, 'registry.submission_x1')$$, :'ta')) AS good_type;

-- submissions.status: a C function now, the same language as ^[a-z][a-z0-9_]{0,62}$
SELECT s, lowcode.submission_status_ok(s) AS ok, s ~ '^[a-z][a-z0-9_]{0,62}$' AS regex
  FROM unnest(ARRAY['submitted', 'a', 'a_1', 'A', '1a', '_a', 'a-b', 'a b', '', 'é', 'aé', repeat('a', 63), repeat('a', 64),
                    E'a\n']) s;
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET status = 'Approved' WHERE tenant_id = %L$$, :'ta')) AS bad_status;
SELECT pg_temp.err($$INSERT INTO lowcode.submissions (subject, data, status) VALUES ('direct.form', '{}', 'in review')$$) AS bad_status_insert;
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET status = %L WHERE tenant_id = %L$$, repeat('x', 64), :'ta')) AS long_status;

-- the workflow trigger's WHEN: false only for the current tenant's subject without a workflow
SELECT lowcode.workflow_subject_governed(:'ta', 'direct.form') AS own_subject,
       lowcode.workflow_subject_governed(:'tb', 'direct.form') AS other_tenant,
       lowcode.workflow_subject_governed(NULL, 'direct.form') AS null_tenant;
INSERT INTO lowcode.workflow_subjects (tenant_id, subject, workflow, attached_by) VALUES (:'ta', 'direct.form', 'w', 'test');
SELECT lowcode.workflow_subject_governed(:'ta', 'direct.form') AS attached;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS claims_reset;
SELECT lowcode.workflow_subject_governed(:'ta', 'nothing') AS without_tenant;

ROLLBACK;
