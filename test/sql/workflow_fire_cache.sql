-- fire() in C (src/workflow/workflow_fire.c, issue 19): the compiled definitions and the saved plans of
-- governed tables that a backend keeps, and their invalidation (ALTER TABLE, re-attaching, a new version, a
-- rolled-back registration); guards and action expressions evaluated by the CEL engine directly.
\set VERBOSITY terse

-- errors as "SQLSTATE: message" (PGRST errors: the HTTP status, the body's code and message)
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
CREATE FUNCTION pg_temp.details(stmt text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RETURN NULL;
EXCEPTION WHEN SQLSTATE 'PGRST' THEN
  RETURN (SQLERRM::jsonb ->> 'details')::jsonb;
END
$$;

SELECT lowcode.create_tenant('wf-cache', NULL, 'pro') AS t \gset
-- a rule function whose error a guard meets
CREATE FUNCTION public.wfc_boom(n bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT 1 / (n - n) = 1 $$;
SELECT lowcode.register_rule_function('wfc_boom', 'public.wfc_boom(bigint)');
CREATE TABLE wfc_items (id int NOT NULL, state text, n int NOT NULL DEFAULT 0, note text);
SELECT lowcode.make_tenant_table('wfc_items');
ALTER TABLE wfc_items ADD PRIMARY KEY (tenant_id, id);
SELECT lowcode.attach_workflow('wfc_items', 'wfc');
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'t', 'sub', 'ann')::text, false) IS NOT NULL AS ctx;
SELECT lowcode.register_workflow('wfc', $$
{"initial": "open", "states": {
  "open": {"on": {"bump": {"guard": "self.n < 100", "actions": [{"type": "set", "fields": {"n": "self.n + 1", "note": "'v1'"}}]},
                  "nobool": {"guard": "self.n + 1"},
                  "boom": {"guard": "wfc_boom(self.n)"},
                  "close": "closed"}},
  "closed": {"on": {"reopen": "open"}}}}
$$) AS v1;
INSERT INTO wfc_items (id) VALUES (1), (2);
-- a fresh backend: nothing cached until the first event
SELECT lowcode.workflow_cache_stats() AS before_fire;
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' ->> 'note' AS note;
-- the definition, the table, its SELECT ... FOR NO KEY UPDATE and its UPDATE of (n, note)
SELECT lowcode.workflow_cache_stats() AS after_fire;
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' ->> 'n' AS n;
SELECT lowcode.workflow_cache_stats() AS reused;

-- guards: a result that is not a bool refuses with the engine's words, an SQL function's error in a
-- guard is the statement's error (its subtransaction rolled back), the caches survive both
SELECT pg_temp.details($$SELECT lowcode.fire('{"table": "wfc_items", "id": 2}', 'nobool')$$) -> 'guards';
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "wfc_items", "id": 2}', 'boom')$$);
SELECT lowcode.fire('{"table": "wfc_items", "id": 2}', 'bump') -> 'record' ->> 'n' AS n2_after_errors,
       lowcode.workflow_cache_stats() ->> 'definitions' AS defs;

-- ALTER TABLE on a governed table drops its plans; the next event prepares them again and sees the new shape
ALTER TABLE wfc_items ADD COLUMN extra text DEFAULT 'x';
SELECT lowcode.workflow_cache_stats() AS after_alter;
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' ->> 'extra' AS extra;
-- a column's type changes under a cached UPDATE: the value is written in the new type
ALTER TABLE wfc_items ALTER COLUMN n TYPE numeric(10,1);
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' -> 'n' AS n_answer;
SELECT n FROM wfc_items WHERE id = 1;
-- a renamed table: the plans are prepared again under its new name
ALTER TABLE wfc_items RENAME TO wfc_things;
SELECT lowcode.fire('{"table": "wfc_things", "id": 1}', 'bump') -> 'record' ->> 'n' AS n_renamed;
SELECT pg_temp.err($$SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump')$$);
ALTER TABLE wfc_things RENAME TO wfc_items;
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' ->> 'n' AS n_back;
-- re-attaching (workflow_tables changes): everything cached is dropped, and fire() still works
SELECT lowcode.attach_workflow('wfc_items', 'wfc');
SELECT lowcode.workflow_cache_stats() AS after_attach;
SELECT lowcode.fire('{"table": "wfc_items", "id": 2}', 'bump') -> 'record' ->> 'n' AS n2;

-- a new version while this backend has version 1 compiled: instances of version 1 keep version 1,
-- new records follow version 2, migrated ones version 2
SELECT lowcode.register_workflow('wfc', $$
{"initial": "open", "states": {
  "open": {"on": {"bump": {"guard": "self.n < 100", "actions": [{"type": "set", "fields": {"n": "self.n + 10", "note": "'v2'"}}]},
                  "close": "closed"}},
  "closed": {"on": {"reopen": "open"}}}}
$$) AS v2;
SELECT lowcode.workflow_cache_stats() ->> 'definitions' AS defs_after_register;
INSERT INTO wfc_items (id) VALUES (3);
SELECT lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') -> 'record' ->> 'note' AS old_record,
       lowcode.fire('{"table": "wfc_items", "id": 3}', 'bump') -> 'record' ->> 'note' AS new_record;
SELECT lowcode.workflow_cache_stats() ->> 'definitions' AS defs_both;
SELECT lowcode.migrate_workflow('wfc', 1) ->> 'migrated' AS migrated;
SELECT r ->> 'version' AS version, r -> 'record' ->> 'note' AS note
  FROM lowcode.fire('{"table": "wfc_items", "id": 1}', 'bump') r;

-- a version registered in a transaction that rolls back, then another one with the same number: the
-- backend compiled the first one while it existed, and follows the second
BEGIN;
SELECT lowcode.register_workflow('wfc', $$
{"initial": "open", "states": {
  "open": {"on": {"bump": {"actions": [{"type": "set", "fields": {"note": "'rolled back'"}}]}, "close": "closed"}},
  "closed": {"on": {"reopen": "open"}}}}
$$) AS v3;
INSERT INTO wfc_items (id) VALUES (4);
SELECT lowcode.fire('{"table": "wfc_items", "id": 4}', 'bump') -> 'record' ->> 'note' AS in_transaction;
ROLLBACK;
SELECT lowcode.register_workflow('wfc', $$
{"initial": "open", "states": {
  "open": {"on": {"bump": {"actions": [{"type": "set", "fields": {"note": "'kept'"}}]}, "close": "closed"}},
  "closed": {"on": {"reopen": "open"}}}}
$$) AS v3_again;
INSERT INTO wfc_items (id) VALUES (4);
SELECT r ->> 'version' AS version, r -> 'record' ->> 'note' AS note
  FROM lowcode.fire('{"table": "wfc_items", "id": 4}', 'bump') r;

-- a transition that changes the state goes through the record's state trigger (the instance is written first)
SELECT lowcode.fire('{"table": "wfc_items", "id": 2}', 'close') ->> 'to' AS closed;
SELECT state FROM wfc_items WHERE id = 2;
SELECT event, from_state, to_state, outcome, actor_principal FROM lowcode.workflow_timeline
 WHERE table_name = 'wfc_items' AND record_key = '2' ORDER BY step;
-- the transition's outbox event, and its notification queued for the tenant's channel (no shared channel)
SELECT payload ->> 'event' AS event, payload ->> 'to' AS "to", payload ? 'history' AS has_history
  FROM lowcode.events WHERE tenant_id = :'t' AND type = 'workflow.transition' ORDER BY id DESC LIMIT 1;

-- a step inside a step: a "call" action whose function fires an event on another record (the inner fire()
-- compiles and prepares what it needs while the outer step holds its own)
CREATE FUNCTION public.wfc_chain(ctx jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT lowcode.fire(jsonb_build_object('table', 'public.wfc_items', 'id', (ctx -> 'args' ->> 'id')::int), 'bump')
$$;
SELECT lowcode.register_workflow_function('wfc_chain', 'public.wfc_chain(jsonb)');
SELECT lowcode.register_workflow('wfc', $$
{"initial": "open", "states": {
  "open": {"on": {"bump": {"actions": [{"type": "set", "fields": {"note": "'v4'"}}]},
                  "chain": {"actions": [{"type": "call", "function": "wfc_chain", "args": "{'id': 3}"},
                                        {"type": "set", "fields": {"note": "'chained'"}}]},
                  "close": "closed"}},
  "closed": {"on": {"reopen": "open"}}}}
$$) AS v4;
INSERT INTO wfc_items (id) VALUES (5);
SELECT n AS n3_before FROM wfc_items WHERE id = 3;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'chain') -> 'record' ->> 'note' AS outer_note;
SELECT id, n, note FROM wfc_items WHERE id IN (3, 5) ORDER BY id;
SELECT record_key, event, outcome FROM lowcode.workflow_timeline
 WHERE table_name = 'wfc_items' AND record_key IN ('3', '5') AND event IS NOT NULL ORDER BY step DESC LIMIT 2;

-- a targetless step writes the record in the statement that writes the instance, the history row and the
-- event: the record's BEFORE triggers still change what is written, its AFTER triggers see the history row
CREATE FUNCTION pg_temp.wfc_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.note := NEW.note || '+';
  RETURN NEW;
END
$$;
CREATE FUNCTION pg_temp.wfc_after() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'after update of %: % history rows', NEW.id,
    (SELECT count(*) FROM lowcode.workflow_history h WHERE h.rel = TG_RELID AND h.record_key = NEW.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER wfc_before BEFORE UPDATE ON wfc_items FOR EACH ROW EXECUTE FUNCTION pg_temp.wfc_before();
CREATE TRIGGER wfc_after AFTER UPDATE ON wfc_items FOR EACH ROW EXECUTE FUNCTION pg_temp.wfc_after();
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'bump') -> 'record' ->> 'note' AS answer_note;
SELECT note AS stored_note FROM wfc_items WHERE id = 5;
-- a BEFORE trigger that skips the record's update: the transition is still recorded, as before
CREATE FUNCTION pg_temp.wfc_skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER wfc_skip BEFORE UPDATE ON wfc_items FOR EACH ROW EXECUTE FUNCTION pg_temp.wfc_skip();
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'bump') ->> 'to' AS skipped_to;
SELECT note AS unchanged_note FROM wfc_items WHERE id = 5;
SELECT count(*) AS history_rows FROM lowcode.workflow_timeline WHERE table_name = 'wfc_items' AND record_key = '5';
DROP TRIGGER wfc_skip ON wfc_items;
DROP TRIGGER wfc_before ON wfc_items;
DROP TRIGGER wfc_after ON wfc_items;

-- the history row, the outbox event and the instance's UPDATE are written without the executor (issue 19);
-- a trigger on workflow_history or workflow_instances (anything the C code does not know) makes the step
-- use its SQL statements, which honour it, and the rows written are the same either way
CREATE FUNCTION pg_temp.wfc_seen_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'history row of %', NEW.event;
  RETURN NEW;
END
$$;
CREATE FUNCTION pg_temp.wfc_seen_instance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'instance: % after % transitions', NEW.state, NEW.transitions;
  RETURN NEW;
END
$$;
SELECT transitions AS transitions_before FROM lowcode.workflow_instances
 WHERE rel = 'wfc_items'::regclass AND record_key = '5';
CREATE TRIGGER wfc_seen BEFORE INSERT ON lowcode.workflow_history FOR EACH ROW EXECUTE FUNCTION pg_temp.wfc_seen_history();
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'bump') ->> 'to' AS history_by_sql;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'close') ->> 'to' AS history_by_sql_target;
DROP TRIGGER wfc_seen ON lowcode.workflow_history;
CREATE TRIGGER wfc_seen BEFORE UPDATE ON lowcode.workflow_instances FOR EACH ROW EXECUTE FUNCTION pg_temp.wfc_seen_instance();
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'reopen') ->> 'to' AS instance_by_sql_target;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'bump') ->> 'to' AS instance_by_sql;
DROP TRIGGER wfc_seen ON lowcode.workflow_instances;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'close') ->> 'to' AS direct_target;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'reopen') ->> 'to' AS direct_target_back;
SELECT lowcode.fire('{"table": "wfc_items", "id": 5}', 'bump') ->> 'to' AS direct;
SELECT i.state, i.transitions, i.snapshot = to_jsonb(w) AS snapshot_is_record,
       i.updated_at = (SELECT max(h.created_at) FROM lowcode.workflow_history h WHERE h.instance_id = i.id) AS updated_at
  FROM lowcode.workflow_instances i JOIN wfc_items w ON w.id = 5
 WHERE i.rel = 'wfc_items'::regclass AND i.record_key = '5';
-- the last seven steps: history rows (by SQL, then directly) and their events, one each, alike
SELECT h.event, h.from_state, h.to_state, h.outcome, h.actor_role, h.actor_principal, h.payload, h.workflow,
       h.version, h.message IS NULL AS no_message, e.payload - 'history' - 'instance' AS event_payload,
       (e.payload ->> 'instance')::bigint = h.instance_id AS instance, e.created_at = h.created_at AS created,
       e.deadline = e.created_at + interval '7 days' AS deadline, e.trace_id IS NOT DISTINCT FROM h.trace_id AS trace
  FROM lowcode.workflow_history h
  JOIN lowcode.events e ON e.type = 'workflow.transition' AND (e.payload ->> 'history')::bigint = h.id
 WHERE h.rel = 'wfc_items'::regclass AND h.record_key = '5'
 ORDER BY h.id DESC LIMIT 7;

-- the actor: claims that are not JSON, or not an object, are none
SELECT set_config('request.jwt.claims', 'not json', false) IS NOT NULL AS bad_claims;
SELECT lowcode.workflow_actor() -> 'claims' AS claims;
SELECT set_config('request.jwt.claims', '[1]', false) IS NOT NULL AS array_claims;
SELECT lowcode.workflow_actor() -> 'claims' AS claims;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS no_claims;

DELETE FROM lowcode.rule_functions WHERE name = 'wfc_boom';
DELETE FROM lowcode.workflow_functions WHERE name = 'wfc_chain';
DROP FUNCTION public.wfc_chain(jsonb);
DROP FUNCTION public.wfc_boom(bigint);
DELETE FROM lowcode.workflow_tables WHERE rel = 'wfc_items'::regclass;
DROP TABLE wfc_items;
DELETE FROM lowcode.workflow_timers WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_history WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_instances WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_counters WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_transitions WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_states WHERE tenant_id = :'t';
DELETE FROM lowcode.workflow_versions WHERE tenant_id = :'t';
DELETE FROM lowcode.workflows WHERE tenant_id = :'t';
DELETE FROM lowcode.events WHERE tenant_id = :'t';
DELETE FROM lowcode.tenants WHERE id = :'t';
