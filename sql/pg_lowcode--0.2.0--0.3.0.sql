-- pg_lowcode 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_lowcode UPDATE).
--
-- Every change to sql/NN_*.sql since 0.2.0 goes here too, in the order of the
-- parts; test/t/003_extension_upgrade.pl compares an upgraded database with a
-- fresh install object by object (scripts/upgrade_diff.py lists what differs
-- between two install scripts).
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-- issue 21 / 13.7: event notifications handed to the database worker (no NOTIFY per
-- transaction), per-tenant channels named by a secret, time-ordered ids instead of the
-- shared identity sequences of events, registry_audit and submissions.
-- The secret that names the event channels (a channel name is the capability to LISTEN).
CREATE TABLE lowcode.event_secret (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  key bytea NOT NULL CHECK (length(key) = 32)
);
INSERT INTO lowcode.event_secret (key)
SELECT pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) || pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
REVOKE ALL ON lowcode.event_secret FROM PUBLIC;
-- A restore (the dumped row arrives after CREATE EXTENSION made a new one) keeps the dumped
-- key, so that channel names survive a dump and restore.
CREATE FUNCTION lowcode.event_secret_replace() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode AS $$
BEGIN
  DELETE FROM lowcode.event_secret;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION lowcode.event_secret_replace() FROM PUBLIC;
CREATE TRIGGER event_secret_replace BEFORE INSERT ON lowcode.event_secret
  FOR EACH ROW EXECUTE FUNCTION lowcode.event_secret_replace();
SELECT pg_catalog.pg_extension_config_dump('lowcode.event_secret', '');
COMMENT ON TABLE lowcode.event_secret IS
  'The key of the event channel names (lowcode.event_channel). Readable by no API role.';

-- new: lowcode.new_id()
CREATE OR REPLACE FUNCTION lowcode.new_id() RETURNS bigint
AS 'MODULE_PATHNAME', 'lowcode_new_id'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.new_id() IS
  'A new time-ordered id (events, audit rows, submissions): reveals nothing about other tenants'' volume.';

-- new: lowcode.event_queue(tenant uuid, id bigint, type text)
CREATE OR REPLACE FUNCTION lowcode.event_queue(tenant uuid, id bigint, type text) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_event_queue'
LANGUAGE C VOLATILE;

-- new: lowcode.event_channel()
CREATE OR REPLACE FUNCTION lowcode.event_channel() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel() IS
  'The current tenant''s event channel: LISTEN on it to hear of its own events only.';

-- new: lowcode.event_channel(tenant uuid)
CREATE OR REPLACE FUNCTION lowcode.event_channel(tenant uuid) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel_of'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel(uuid) IS
  'Operators: the event channel of a tenant, or with NULL the channel of every tenant''s events.';

-- new: lowcode.event_queue_stats(OUT worker_attached boolean, OUT queued bigint, OUT delivered bigint, OUT reserved bigint)
CREATE OR REPLACE FUNCTION lowcode.event_queue_stats(OUT worker_attached boolean, OUT queued bigint,
                                          OUT delivered bigint, OUT reserved bigint)
AS 'MODULE_PATHNAME', 'lowcode_event_queue_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.event_queue_stats() IS
  'This database''s event notification queue: worker attached, waiting, delivered since start, reserved.';

-- changed: lowcode.emit_event(tenant uuid, type text, payload jsonb, retention interval)
CREATE OR REPLACE FUNCTION lowcode.emit_event(tenant uuid, type text, payload jsonb DEFAULT '{}',
                                   retention interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
DECLARE
  new_id bigint;
BEGIN
  IF tenant IS NULL OR type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT008', MESSAGE = 'emit_event: tenant and type must not be NULL';
  END IF;
  IF type !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LT008', MESSAGE = format('emit_event: invalid event type %L', type),
      HINT = 'An event type is dot-separated lowercase words, for example "session.expired".';
  END IF;
  INSERT INTO lowcode.events (tenant_id, type, payload, trace_id, deadline)
  VALUES (tenant, emit_event.type, coalesce(payload, '{}'), lowcode.current_trace_id(), now() + retention)
  RETURNING id INTO new_id;
  PERFORM lowcode.event_queue(tenant, new_id, emit_event.type);
  RETURN new_id;
END
$$;


REVOKE ALL ON FUNCTION lowcode.event_queue(uuid, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION lowcode.event_channel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_channel(uuid) TO lowcode_operator;
REVOKE ALL ON FUNCTION lowcode.event_queue_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_queue_stats() TO lowcode_operator;

-- the identity sequences go (their rows keep their ids; new ids are larger: time-ordered)
DO $$
DECLARE
  t text;
  seq regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'registry_audit', 'submissions'] LOOP
    seq := pg_catalog.pg_get_serial_sequence(format('lowcode.%I', t), 'id')::regclass;
    EXECUTE format('ALTER TABLE lowcode.%I ALTER COLUMN id DROP IDENTITY', t);
    EXECUTE format('ALTER TABLE lowcode.%I ALTER COLUMN id SET DEFAULT lowcode.new_id()', t);
    -- and from the extension's dump list
    UPDATE pg_catalog.pg_extension
       SET extconfig = pg_catalog.array_remove(extconfig, seq::oid),
           extcondition = extcondition[1:pg_catalog.array_position(extconfig, seq::oid) - 1]
                          || extcondition[pg_catalog.array_position(extconfig, seq::oid) + 1:]
     WHERE extname = 'pg_lowcode' AND seq::oid = ANY (extconfig);
  END LOOP;
END
$$;

-- issue 21: submit in C, from a plan saved per backend (same INSERT, same result; CREATE OR
-- REPLACE keeps the EXECUTE privileges grant_api_role gave)
-- In C (src/registry/registry_record.c, issue 21): the INSERT below from a plan saved per
-- backend, as the caller; a LANGUAGE sql function planned it again in every statement.
--   INSERT INTO lowcode.submissions (subject, data, version) VALUES (subject, data, version)
--   RETURNING jsonb_build_object('id', id, 'subject', subject, 'version', version, 'status', status,
--                                'created_at', created_at)
CREATE OR REPLACE FUNCTION lowcode.submit(subject text, data jsonb, version integer DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'lowcode_submit'
LANGUAGE C VOLATILE;

-- issue 21: the audit row and event of a submission by a C row trigger
DROP TRIGGER submissions_record_insert ON lowcode.submissions;
DROP TRIGGER submissions_record_update ON lowcode.submissions;
DROP FUNCTION lowcode.submissions_record();
-- The audit row and the event of each submission (C, src/registry/registry_record.c):
-- in the submitting transaction, one saved plan per row, the notification queued for
-- the commit (issue 21: the PL/pgSQL statement trigger cost ~250 us per submission).
CREATE FUNCTION lowcode.submissions_record() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_submissions_record_row'
LANGUAGE C;
CREATE TRIGGER submissions_record AFTER INSERT OR UPDATE ON lowcode.submissions
  FOR EACH ROW EXECUTE FUNCTION lowcode.submissions_record();

-- issue 21: the outbox's deadline index is BRIN (no hot rightmost btree page)
DROP INDEX lowcode.events_deadline_idx;
CREATE INDEX events_deadline_idx ON lowcode.events USING brin (deadline) WITH (autosummarize = on);
