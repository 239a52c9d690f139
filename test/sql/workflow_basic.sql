-- Workflows (docs/workflows.md): definitions and their checks, versions and
-- compatibility, instances on a tenant table and on registry submissions,
-- fire() with guards, actions and timers, the documented errors, history and
-- the timeline, migrations, quotas, the cost bound, tenant isolation.
\set VERBOSITY terse
-- everything runs in one transaction that is rolled back (errors are caught by pg_temp.err)
BEGIN;

-- errors as "SQLSTATE: message" (PGRST errors: the body's code and message, the HTTP status)
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  IF st = 'PGRST' THEN
    RETURN (det::jsonb ->> 'status') || ' ' || (msg::jsonb ->> 'code') || ': ' || (msg::jsonb ->> 'message');
  END IF;
  RETURN st || ': ' || msg;
END
$$;
-- the "details" of a PGRST error
CREATE FUNCTION pg_temp.details(stmt text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN NULL;
EXCEPTION WHEN SQLSTATE 'PGRST' THEN
  RETURN (SQLERRM::jsonb ->> 'details')::jsonb;
END
$$;
CREATE FUNCTION pg_temp.as_tenant(t uuid, sub text DEFAULT NULL, roles text[] DEFAULT NULL) RETURNS boolean LANGUAGE sql AS $$
  SELECT set_config('request.jwt.claims', CASE WHEN t IS NULL THEN '' ELSE
           jsonb_strip_nulls(jsonb_build_object('tenant_id', t, 'sub', sub, 'roles', to_jsonb(roles)))::text END, false) IS NOT NULL
$$;

SELECT lowcode.create_tenant('wf-a', NULL, 'pro') AS ta \gset
SELECT lowcode.create_tenant('wf-b', NULL, 'pro') AS tb \gset

CREATE TABLE leave_requests (
  id bigint GENERATED ALWAYS AS IDENTITY,
  employee text NOT NULL,
  days integer NOT NULL,
  reason text,
  state text,
  submitted_at timestamptz,
  decided_by text
);
SELECT lowcode.make_tenant_table('leave_requests');
-- the record reference of a leave request, by employee
CREATE FUNCTION pg_temp.lr(who text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('table', 'leave_requests', 'id', (SELECT id FROM leave_requests WHERE employee = who))
$$;

ALTER TABLE leave_requests ADD PRIMARY KEY (tenant_id, id);
SELECT lowcode.attach_workflow('leave_requests', 'leave-approval');
SELECT rel, workflow, state_col, key_col, key_type, has_tenant, set_columns FROM lowcode.workflow_tables;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'leave_requests'::regclass AND tgname LIKE 'lowcode_workflow%' ORDER BY 1;

-- attach_workflow refuses what it cannot govern
CREATE TABLE no_key (id int, state text);
CREATE TABLE int_state (id int PRIMARY KEY, state int);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('no_key', 'w')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('int_state', 'w')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('int_state', 'w', 'nope')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('int_state', 'w', 'id', 'id')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('lowcode.tenants', 'w')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow('leave_requests', '9w')$$);

-----------------------------------------------------------------------------
-- Definitions
-----------------------------------------------------------------------------
SELECT pg_temp.as_tenant(:'ta', 'ann');

-- bad definitions: 422 LW011 with every problem and where it is
SELECT pg_temp.err($$SELECT lowcode.register_workflow('bad', '[]')$$);
SELECT pg_temp.details($$SELECT lowcode.register_workflow('bad', '{"initial": "x", "states": {}}')$$);
SELECT jsonb_pretty(pg_temp.details($$SELECT lowcode.register_workflow('bad', '{
  "initial": "nowhere", "context": {}, "states": {
    "a": {"on": {"go": "b", "jump": {"target": "zz"}, "bad event!": "a",
                 "check": {"target": "b", "guard": "1 +", "cond": "x"},
                 "act": {"target": "b", "actions": [{"type": "set", "fields": {"x-y": "1"}}, {"type": "emit", "event": "NotLower"},
                                                    {"type": "startTimer", "id": "t", "after": "soon", "event": "e"},
                                                    {"type": "call", "function": "unregistered"}, {"type": "explode"}]}},
          "after": {"yesterday": "b"}, "states": {}},
    "b": {"type": "final", "on": {"x": "a"}, "schema": "no-such-subject"},
    "c": {"type": "parallel", "invoke": {}, "timers": [{"id": "t1", "after": "1h", "at": "x", "event": "e"}]},
    "1bad": {}
  }}')$$)) AS errors;

-- the leave request of docs/workflows.md
SELECT lowcode.register_workflow('leave-approval', $json$
{
  "id": "leave-approval",
  "initial": "draft",
  "states": {
    "draft": {
      "on": {
        "submit": {"target": "submitted",
                   "guard": {"rule": "self.days > 0", "message": "a leave request needs at least one day"},
                   "actions": [{"type": "set", "fields": {"submitted_at": "now"}}]}
      }
    },
    "submitted": {
      "entry": [{"type": "emit", "event": "leave.submitted", "payload": "{'id': self.id, 'employee': self.employee}"}],
      "after": {"48h": "escalated"},
      "on": {
        "approve": {"target": "approved",
                    "guard": {"rule": "has(actor.claims.roles) && 'manager' in actor.claims.roles",
                              "message": "only a manager may approve a leave request"},
                    "actions": [{"type": "set", "fields": {"decided_by": "actor.principal"}}]},
        "reject": {"target": "rejected",
                   "guard": {"rule": "has(actor.claims.roles) && 'manager' in actor.claims.roles",
                             "message": "only a manager may reject a leave request"},
                   "actions": [{"type": "set", "fields": {"decided_by": "actor.principal", "reason": "payload.reason"}}]}
      }
    },
    "escalated": {
      "entry": [{"type": "emit", "event": "leave.escalated", "payload": "{'id': self.id}"}],
      "on": {
        "approve": {"target": "approved",
                    "guard": {"rule": "has(actor.claims.roles) && ('manager' in actor.claims.roles || 'hr' in actor.claims.roles)",
                              "message": "only a manager or HR may approve an escalated leave request"},
                    "actions": [{"type": "set", "fields": {"decided_by": "actor.principal"}}]},
        "reject": {"target": "rejected",
                   "guard": {"rule": "has(actor.claims.roles) && ('manager' in actor.claims.roles || 'hr' in actor.claims.roles)",
                             "message": "only a manager or HR may reject an escalated leave request"}}
      }
    },
    "approved": {"type": "final"},
    "rejected": {"type": "final"}
  }
}
$json$, 'leave approval') AS v1;
-- the same content again registers nothing
SELECT lowcode.register_workflow('leave-approval', lowcode.get_workflow('leave-approval')) AS same_version;
SELECT name, global, latest_version, initial, description, versions FROM lowcode.workflow_definitions;
SELECT state, final, jsonb_array_length(entry) AS entry, timers FROM lowcode.workflow_states ORDER BY state;
SELECT state, event, ord, target, message IS NOT NULL AS has_message FROM lowcode.workflow_transitions ORDER BY state, event, ord;
SELECT action, subject, version FROM lowcode.registry_audit WHERE action LIKE 'workflow%';
SELECT pg_temp.err($$SELECT lowcode.get_workflow('leave-approval', 7)$$);
SELECT pg_temp.err($$SELECT lowcode.get_workflow('nope')$$);

-----------------------------------------------------------------------------
-- Instances and events
-----------------------------------------------------------------------------
INSERT INTO leave_requests (employee, days) VALUES ('ann', 3), ('bob', 0), ('cid', 2);
SELECT employee, state FROM leave_requests ORDER BY id;
SELECT workflow, version, state, transitions FROM lowcode.workflow_instances ORDER BY id;
-- a new record starts in the initial state
SELECT pg_temp.err($$INSERT INTO leave_requests (employee, days, state) VALUES ('eve', 1, 'approved')$$);
-- the state column changes only through fire()
SELECT pg_temp.err($$UPDATE leave_requests SET state = 'approved' WHERE id = 1$$);
UPDATE leave_requests SET days = 4 WHERE employee = 'ann';   -- other columns change freely

-- refused events: 409 (not allowed in this state), 422 (a guard refused: its message)
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), 'approve')$$);
SELECT pg_temp.details($$SELECT lowcode.fire(pg_temp.lr('ann'), 'approve')$$);
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('bob'), 'submit')$$);
SELECT pg_temp.details($$SELECT lowcode.fire(pg_temp.lr('bob'), 'submit')$$);
-- bad references and arguments
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "leave_requests", "id": 999}', 'submit')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "no_such_table", "id": 1}', 'submit')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "int_state", "id": 1}', 'submit')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"id": 1}', 'submit')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('[1]', 'submit')$$);
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), 'no good')$$);
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), NULL)$$);
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), 'submit', '[]')$$);
-- nothing of that changed anything
SELECT count(*) AS history_rows FROM lowcode.workflow_history;

-- submit: guard, set action, entry action (an event), the 48 h timer
SELECT f - 'record' AS fired, f -> 'record' ->> 'state' AS record_state, (f -> 'record' ->> 'submitted_at') IS NOT NULL AS stamped
  FROM lowcode.fire(pg_temp.lr('ann'), 'submit', '{"comment": "summer"}') f;
SELECT timer, state, event, due_at - now() AS due_in FROM lowcode.workflow_timers;
-- only a manager may approve
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), 'approve')$$);
SELECT pg_temp.as_tenant(:'ta', 'mia', '{manager}');
SELECT f ->> 'from' AS "from", f ->> 'to' AS "to", f -> 'record' ->> 'decided_by' AS decided_by
  FROM lowcode.fire(pg_temp.lr('ann'), 'approve') f;
SELECT count(*) AS timers_left FROM lowcode.workflow_timers WHERE instance_id = 1;
-- a final state takes no more events
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('ann'), 'reject')$$);
-- by instance id, with a payload the actions read
SELECT lowcode.fire(jsonb_build_object('instance', i.id), 'submit') ->> 'to' AS submitted
  FROM lowcode.workflow_instances i JOIN leave_requests r ON r.id::text = i.record_key WHERE r.employee = 'cid';
SELECT lowcode.fire(jsonb_build_object('table', 'leave_requests', 'id', (SELECT id::text FROM leave_requests WHERE employee = 'cid')), 'reject', '{"reason": "busy week"}') ->> 'to' AS rejected;
SELECT employee, state, decided_by, reason FROM leave_requests ORDER BY id;

-- the history, the timeline and the outbox
SELECT r.employee, t.event, t.from_state, t.to_state, t.outcome, t.actor_role, t.actor_principal, t.payload
  FROM lowcode.workflow_timeline t JOIN leave_requests r ON r.id::text = t.record_key ORDER BY t.step;
SELECT type, payload - 'history' - 'instance' AS payload FROM lowcode.events
 WHERE type LIKE 'workflow.%' OR type LIKE 'leave.%' ORDER BY id;

-----------------------------------------------------------------------------
-- Timers: fired by the worker (here: by hand), once
-----------------------------------------------------------------------------
SELECT pg_temp.as_tenant(:'ta', 'ann');
INSERT INTO leave_requests (employee, days) VALUES ('dan', 5);
SELECT lowcode.fire(pg_temp.lr('dan'), 'submit') ->> 'to' AS submitted;
SELECT lowcode.workflow_run_timers() AS none_due;
UPDATE lowcode.workflow_timers SET due_at = now() - interval '1 second';
SELECT lowcode.workflow_run_timers() AS fired;
SELECT lowcode.workflow_run_timers() AS fired_again;
SELECT state FROM leave_requests WHERE employee = 'dan';
SELECT event, from_state, to_state, outcome, actor_role, actor_principal, payload FROM lowcode.workflow_timeline
 WHERE record_key = (SELECT id::text FROM leave_requests WHERE employee = 'dan') ORDER BY step;
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('dan'), 'approve')$$);
SELECT pg_temp.err($$SELECT lowcode.workflow_run_timers(0)$$);

-----------------------------------------------------------------------------
-- Actions: timers, calls, state schemas, errors; guards bounded in cost
-----------------------------------------------------------------------------
CREATE TABLE calls (ctx jsonb);
CREATE FUNCTION wf_log_call(ctx jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.calls VALUES (ctx - 'tenant_id' - 'instance' - 'record' - 'actor');
  RETURN '{}';
END
$$;
SELECT lowcode.register_workflow_function('log_call', 'wf_log_call(jsonb)');
SELECT pg_temp.err($$SELECT lowcode.register_workflow_function('bad', 'lower(text)')$$);
CREATE TABLE tasks (id int PRIMARY KEY, status text, n int DEFAULT 0, note text, tenant_id uuid DEFAULT lowcode.current_tenant());
SELECT lowcode.attach_workflow('tasks', 'task', 'status');
SELECT lowcode.register_workflow('task', $json$
{"initial": "open", "states": {
  "open": {
    "on": {
      "ping": {"actions": [{"type": "set", "fields": {"n": "self.n + 1"}},
                           {"type": "startTimer", "id": "nudge", "after": "3h", "event": "nudge", "payload": {"why": "idle"}},
                           {"type": "call", "function": "log_call", "args": "{'n': self.n}"}]},
      "unping": {"actions": [{"type": "cancelTimer", "id": "nudge"}]},
      "nudge": {"actions": [{"type": "set", "fields": {"note": "'nudged: ' + payload.why"}}]},
      "deadline": {"actions": [{"type": "startTimer", "id": "due", "at": "timestamp(payload.at)", "event": "nudge"}]},
      "badset": {"actions": [{"type": "set", "fields": {"nonexistent": "1"}}]},
      "badcel": {"actions": [{"type": "set", "fields": {"n": "self.missing + 1"}}]},
      "costly": {"target": "done", "guard": {"rule": "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, a * b > 0))", "message": "too costly"}},
      "finish": {"target": "done", "actions": {"type": "set", "fields": {"note": "payload.note"}}},
      "either": [{"target": "done", "guard": {"rule": "payload.x == 1", "message": "x is not 1"}},
                 {"target": "done", "guard": {"rule": "payload.x == 2", "message": "x is not 2"}}]
    }
  },
  "done": {"type": "final", "schema": {"type": "object", "required": ["note"], "properties": {"note": {"type": "string", "minLength": 3}}}}
}}
$json$) AS task_v1;
INSERT INTO tasks (id) VALUES (1);
SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'ping') -> 'record' ->> 'n' AS n;
SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'ping') -> 'record' ->> 'n' AS n;
SELECT w.timer, w.state, w.event, w.payload, w.due_at - now() AS due_in FROM lowcode.workflow_timers w
  JOIN lowcode.workflow_instances i ON i.id = w.instance_id WHERE i.rel = 'tasks'::regclass;
SELECT ctx FROM calls;
SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'unping') ->> 'to' AS still;
SELECT count(*) AS nudge_timers FROM lowcode.workflow_timers w JOIN lowcode.workflow_instances i ON i.id = w.instance_id
 WHERE i.rel = 'tasks'::regclass;
SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'deadline', '{"at": "2030-01-01T00:00:00Z"}') ->> 'to' AS armed;
SELECT timer, due_at FROM lowcode.workflow_timers w JOIN lowcode.workflow_instances i ON i.id = w.instance_id
 WHERE i.rel = 'tasks'::regclass;
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'deadline', '{"at": "never"}')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'badset')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'badcel')$$);
-- the CEL cost limit bounds every guard: past it the guard refuses, with the engine's error
SET LOCAL lowcode.rules_max_cost = 50;
SELECT pg_temp.details($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'costly')$$) -> 'guards' -> 0 ->> 'error' AS cost_error;
RESET lowcode.rules_max_cost;
-- the first guard that passes wins; when none does, the first one's message
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'either', '{"x": 3}')$$);
SELECT jsonb_array_length(pg_temp.details($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'either', '{"x": 3}')$$) -> 'guards') AS guards_tried;
-- the final state's form schema
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'finish', '{"note": "ok"}')$$);
SELECT pg_temp.details($$SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'finish', '{"note": "ok"}')$$) -> 0 ->> 'instancePath' AS path;
SELECT lowcode.fire('{"table": "tasks", "id": 1}', 'finish', '{"note": "all done"}') ->> 'to' AS finished;
SELECT id, status, n, note FROM tasks;
SELECT pg_temp.err($$UPDATE tasks SET id = 99 WHERE id = 1$$);
SELECT count(*) AS timers_after_final FROM lowcode.workflow_timers w JOIN lowcode.workflow_instances i ON i.id = w.instance_id
 WHERE i.rel = 'tasks'::regclass;
-- a timer whose event the state no longer takes is recorded as ignored
INSERT INTO tasks (id) VALUES (2);
SELECT lowcode.fire('{"table": "tasks", "id": 2}', 'ping') ->> 'to' AS pinged;
SELECT lowcode.fire('{"table": "tasks", "id": 2}', 'finish', '{"note": "quick"}') ->> 'to' AS finished;
-- (the final state cancelled the timer; arm one by hand to see what happens)
INSERT INTO lowcode.workflow_timers (tenant_id, instance_id, timer, state, event, due_at)
SELECT i.tenant_id, i.id, 'stray', NULL, 'nudge', now() - interval '1 minute' FROM lowcode.workflow_instances i
 WHERE i.rel = 'tasks'::regclass AND i.record_key = '2';
SELECT lowcode.workflow_count(:'ta', 0, 1);   -- as the functions that arm timers do
SELECT lowcode.workflow_run_timers() AS handled;
SELECT event, outcome, message FROM lowcode.workflow_timeline WHERE table_name = 'tasks' AND outcome <> 'transition' AND outcome <> 'created';
-- deleting a record ends its instance, its history stays
DELETE FROM tasks WHERE id = 2;
SELECT count(*) AS instances FROM lowcode.workflow_instances WHERE rel = 'tasks'::regclass;
SELECT count(*) AS history FROM lowcode.workflow_history WHERE rel = 'tasks'::regclass AND record_key = '2';

-----------------------------------------------------------------------------
-- Versions: compatibility, in-flight instances, migration
-----------------------------------------------------------------------------
-- dropping a state instances may be in is incompatible
SELECT lowcode.check_workflow_compatibility('leave-approval',
  jsonb_set(lowcode.get_workflow('leave-approval') #- '{states,escalated}', '{states,submitted,after,48h}', '"rejected"'));
SELECT pg_temp.err($$SELECT lowcode.register_workflow('leave-approval',
  jsonb_set(lowcode.get_workflow('leave-approval') #- '{states,escalated}', '{states,submitted,after,48h}', '"rejected"'))$$);
-- ... unless "migrate" maps it
SELECT lowcode.register_workflow('leave-approval',
  jsonb_set(lowcode.get_workflow('leave-approval') #- '{states,escalated}', '{states,submitted,after,48h}', '"rejected"')
  || '{"migrate": {"states": {"escalated": "submitted"}}}') AS v2;
SELECT pg_temp.err($$SELECT lowcode.register_workflow('fresh', '{"initial": "a", "states": {"a": {}}, "migrate": {"states": {}}}')$$);
-- in-flight instances keep their version; new ones get the latest
INSERT INTO leave_requests (employee, days) VALUES ('fay', 1);
SELECT r.employee, i.version, i.state FROM lowcode.workflow_instances i JOIN leave_requests r ON r.id::text = i.record_key ORDER BY i.id;
SELECT lowcode.migrate_workflow('leave-approval', 1);
SELECT r.employee, i.version, i.state FROM lowcode.workflow_instances i JOIN leave_requests r ON r.id::text = i.record_key ORDER BY i.id;
SELECT employee, state FROM leave_requests ORDER BY id;
SELECT w.timer, w.state FROM lowcode.workflow_timers w JOIN lowcode.workflow_instances i ON i.id = w.instance_id
 WHERE i.rel = 'leave_requests'::regclass ORDER BY i.id;
SELECT pg_temp.err($$SELECT lowcode.migrate_workflow('leave-approval', 2, 1)$$);
SELECT pg_temp.err($$SELECT lowcode.migrate_workflow('leave-approval', 9)$$);

-----------------------------------------------------------------------------
-- Quotas
-----------------------------------------------------------------------------
SELECT name, value, source FROM lowcode.tenant_limits(:'ta') WHERE name LIKE '%workflow%';
SELECT count(*) AS instances_now FROM lowcode.workflow_instances WHERE tenant_id = :'ta';
SELECT lowcode.set_tenant_limit(:'ta', 'max_workflow_instances', 6);
SELECT pg_temp.err($$INSERT INTO leave_requests (employee, days) VALUES ('gus', 1)$$);
SELECT lowcode.set_tenant_limit(:'ta', 'max_workflow_instances', NULL);
SELECT lowcode.set_tenant_limit(:'ta', 'max_workflow_timers', 0);
INSERT INTO leave_requests (employee, days) VALUES ('gus', 1);
SELECT pg_temp.err($$SELECT lowcode.fire(pg_temp.lr('gus'), 'submit')$$);
SELECT lowcode.reset_tenant_limit(:'ta', 'max_workflow_timers');
SELECT sum(instances) AS instances, sum(timers) AS timers FROM lowcode.workflow_counters WHERE tenant_id = :'ta';
SELECT count(*) AS instances FROM lowcode.workflow_instances WHERE tenant_id = :'ta';
SELECT count(*) AS timers FROM lowcode.workflow_timers WHERE tenant_id = :'ta';

-----------------------------------------------------------------------------
-- Registry submissions
-----------------------------------------------------------------------------
SELECT lowcode.register_schema('expense', '{"type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]}');
SELECT lowcode.register_workflow('expense-flow', '{"initial": "new", "states": {
  "new": {"on": {"approve": {"target": "paid", "guard": {"rule": "self.data.amount < 100", "message": "more than 100 needs the CFO"}}}},
  "paid": {"type": "final"}}}');
SELECT lowcode.register_workflow('Caps', '{"initial": "Open", "states": {"Open": {}}}') AS caps_v1;
SELECT pg_temp.err($$SELECT lowcode.attach_workflow_subject('expense', 'Caps')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow_subject('expense', 'nope')$$);
SELECT pg_temp.err($$SELECT lowcode.attach_workflow_subject('bad name!', 'Caps')$$);
SELECT lowcode.attach_workflow_subject('expense', 'expense-flow');
SELECT lowcode.submit('expense', '{"amount": 40}') ->> 'status' AS status;
SELECT lowcode.submit('expense', '{"amount": 400}') ->> 'status' AS status;
SELECT lowcode.fire(jsonb_build_object('submission', min(id)), 'approve') ->> 'to' AS paid FROM lowcode.submissions;
SELECT pg_temp.err(format($$SELECT lowcode.fire('{"submission": %s}', 'approve')$$, max(id))) FROM lowcode.submissions;
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET status = 'paid' WHERE id = %s$$, max(id))) FROM lowcode.submissions;
SELECT data, status FROM lowcode.submissions ORDER BY id;
-- subjects without a workflow keep their free status
SELECT lowcode.register_schema('note', '{"type": "object"}');
SELECT lowcode.submit('note', '{}') ->> 'status' AS status;
UPDATE lowcode.submissions SET status = 'archived' WHERE subject = 'note';

-----------------------------------------------------------------------------
-- Tenant isolation (as an API role: row level security applies)
-----------------------------------------------------------------------------
SELECT id AS dan_id FROM leave_requests WHERE employee = 'dan' \gset
SELECT min(id) AS a_instance FROM lowcode.workflow_instances WHERE tenant_id = :'ta' \gset
CREATE ROLE wf_api;
SELECT lowcode.grant_api_role('wf_api');
GRANT SELECT, INSERT, UPDATE, DELETE ON leave_requests TO wf_api;
SET LOCAL ROLE wf_api;
SELECT pg_temp.as_tenant(:'tb', 'bea', '{manager}');
SELECT count(*) AS a_instances_seen FROM lowcode.workflow_instances;
SELECT count(*) AS a_history_seen FROM lowcode.workflow_timeline;
SELECT count(*) AS a_timers_seen FROM lowcode.workflow_timers;
SELECT count(*) AS a_definitions_seen FROM lowcode.workflow_definitions;
-- another tenant's record does not exist
SELECT pg_temp.err(format($$SELECT lowcode.fire('{"table": "leave_requests", "id": %s}', 'approve')$$, :'dan_id'));
SELECT pg_temp.err(format($$SELECT lowcode.fire('{"instance": %s}', 'approve')$$, :'a_instance'));
-- tenant b has no leave-approval of its own: its rows cannot start
SELECT pg_temp.err($$INSERT INTO leave_requests (employee, days) VALUES ('bea', 1)$$);
SELECT lowcode.register_workflow('leave-approval', '{"initial": "open", "states": {"open": {"on": {"close": "closed"}}, "closed": {"type": "final"}}}') AS b_v1;
INSERT INTO leave_requests (employee, days) VALUES ('bea', 1);
SELECT employee, state FROM leave_requests;
SELECT lowcode.fire(pg_temp.lr('bea'), 'close') ->> 'to' AS closed;
SELECT event, from_state, to_state, outcome, actor_role, actor_principal FROM lowcode.workflow_timeline ORDER BY step;
-- writes to the workflow tables are refused
SELECT pg_temp.err($$DELETE FROM lowcode.workflow_instances$$);
SELECT pg_temp.err($$UPDATE lowcode.workflow_timers SET due_at = now()$$);
SELECT pg_temp.err($$SELECT lowcode.workflow_run_timers()$$);
SELECT pg_temp.err($$SELECT lowcode.workflow_step(NULL, 'x', '{}', '{}')$$);
-- without a tenant context
SELECT pg_temp.as_tenant(NULL);
SELECT pg_temp.err($$SELECT lowcode.register_workflow('x', '{"initial": "a", "states": {"a": {}}}')$$);
SELECT pg_temp.err($$SELECT lowcode.fire('{"instance": 1}', 'go')$$);
RESET ROLE;
-- a global workflow (the operator's) is seen by every tenant, and its name is reserved
SELECT pg_temp.as_tenant(NULL);
SET LOCAL lowcode.registry_scope = global;   -- global objects only on purpose (issue 13)
SELECT lowcode.register_workflow('common.review', '{"initial": "open", "states": {"open": {}}}') AS global_v1;
RESET lowcode.registry_scope;
SELECT pg_temp.as_tenant(:'tb');
SET LOCAL ROLE wf_api;
SELECT name, global FROM lowcode.workflow_definitions ORDER BY name;
SELECT pg_temp.err($$SELECT lowcode.register_workflow('common.review', '{"initial": "x", "states": {"x": {}}}')$$);
RESET ROLE;

-- timers are fair across tenants: with 30 timers of tenant a due and 1 of tenant b, a batch of 10 handles b's
-- timer first round (here timers of instances that no longer exist: handled by being dropped)
INSERT INTO lowcode.workflow_timers (tenant_id, instance_id, timer, event, due_at)
SELECT :'ta'::uuid, -g, 'fair', 'x', now() - interval '1 hour' - g * interval '1 second' FROM generate_series(1, 30) g
UNION ALL SELECT :'tb'::uuid, -1, 'fair', 'x', now() - interval '1 minute';
SELECT lowcode.workflow_count(:'ta', 0, 30), lowcode.workflow_count(:'tb', 0, 1);
SELECT lowcode.workflow_run_timers(10) AS handled;
SELECT tenant_id = :'ta' AS tenant_a, count(*) AS left FROM lowcode.workflow_timers WHERE timer = 'fair' GROUP BY 1 ORDER BY 1;

-- every workflow table has row level security enabled and forced
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
 WHERE c.relnamespace = 'lowcode'::regnamespace AND c.relname LIKE 'workflow%' AND c.relkind = 'r' ORDER BY 1;
-- versions are immutable
SELECT pg_temp.err($$UPDATE lowcode.workflow_versions SET description = 'x'$$);

ROLLBACK;

-- waking the database worker at commit (what a transaction that arms a timer due soon does):
-- the worker runs its timer step and finds nothing due
SELECT lowcode.workflow_wake_worker();
