-- pg_lowcode install script, part 12: the event outbox and trace ids, shared by every component.

-- W3C trace context: the trace id of the current request, from the
-- traceparent header PostgREST puts in request.headers ("00-<32 hex>-<16 hex>-<2 hex>"),
-- the same one audit rows and HTTP errors carry (src/lc/lc_trace.c).  NULL without
-- a valid header; headers that are not valid JSON (or hold escapes jsonb refuses,
-- such as \u0000) give NULL too, never an error.
CREATE FUNCTION lowcode.current_trace_id() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_current_trace_id'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.current_trace_id() IS
  'Trace id of the current request from the W3C traceparent header in request.headers, or NULL.';

-- issue 21 / 13.7: identifiers and event notifications (src/events/events.c).
-- Ids of events, audit rows and submissions: milliseconds since 2000 << 12 | a lane held
-- by one backend at a time (src/events/events_id.c): time-ordered, increasing per session,
-- exact in JavaScript (below 2^53 until 2069), no shared sequence, and nothing about other
-- tenants' volume (a shared sequence told every tenant everybody's).
CREATE FUNCTION lowcode.new_id() RETURNS bigint
AS 'MODULE_PATHNAME', 'lowcode_new_id'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.new_id() IS
  'A new time-ordered id (events, audit rows, submissions): reveals nothing about other tenants'' volume.';

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
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  DELETE FROM lowcode.event_secret;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION lowcode.event_secret_replace() FROM PUBLIC;
CREATE TRIGGER event_secret_replace BEFORE INSERT ON lowcode.event_secret
  FOR EACH ROW EXECUTE FUNCTION lowcode.event_secret_replace();
SELECT pg_catalog.pg_extension_config_dump('lowcode.event_secret', '');
-- Every change of the secret queues a relcache invalidation of the table (C,
-- src/events/events.c, issue 21): the database worker keeps the secret until then instead of
-- reading it at every delivery.  ENABLE ALWAYS: it fires in replica mode too.
CREATE FUNCTION lowcode.event_secret_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_relcache_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION lowcode.event_secret_changed() FROM PUBLIC;
CREATE TRIGGER event_secret_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.event_secret
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.event_secret_changed();
ALTER TABLE lowcode.event_secret ENABLE ALWAYS TRIGGER event_secret_changed;
COMMENT ON TABLE lowcode.event_secret IS
  'The key of the event channel names (lowcode.event_channel). Readable by no API role.';

-- Queue the notification of an outbox row for the commit: the database worker sends it
-- (one NOTIFY transaction per batch), or the transaction itself when there is no worker.
CREATE FUNCTION lowcode.event_queue(tenant uuid, id bigint, type text) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_event_queue'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.event_queue(uuid, bigint, text) FROM PUBLIC;

CREATE FUNCTION lowcode.event_channel() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel() IS
  'The current tenant''s event channel: LISTEN on it to hear of its own events only.';
CREATE FUNCTION lowcode.event_channel(tenant uuid) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_event_channel_of'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode;
COMMENT ON FUNCTION lowcode.event_channel(uuid) IS
  'Operators: the event channel of a tenant, or with NULL the channel of every tenant''s events.';
REVOKE ALL ON FUNCTION lowcode.event_channel(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_channel(uuid) TO lowcode_operator;

CREATE FUNCTION lowcode.event_queue_stats(OUT worker_attached boolean, OUT queued bigint,
                                          OUT delivered bigint, OUT reserved bigint)
AS 'MODULE_PATHNAME', 'lowcode_event_queue_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.event_queue_stats() IS
  'This database''s event notification queue: worker attached, waiting, delivered since start, reserved.';
REVOKE ALL ON FUNCTION lowcode.event_queue_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.event_queue_stats() TO lowcode_operator;

-- The outbox: every registry change, submission and session expiry is a
-- row here (for consumers that poll or replicate) and a notification on the
-- tenant's channel (lowcode.event_channel()) and the operators' one, sent
-- after the commit (for real-time listeners).  Rows are deleted by the
-- database worker once past their deadline.
CREATE TABLE lowcode.events (
  tenant_id  uuid NOT NULL,
  id         bigint NOT NULL DEFAULT lowcode.new_id(),
  type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload    jsonb NOT NULL DEFAULT '{}',
  trace_id   text,
  created_at timestamptz NOT NULL DEFAULT now(),
  deadline   timestamptz NOT NULL DEFAULT now() + interval '7 days',
  PRIMARY KEY (tenant_id, id)
);
-- BRIN, not btree (issue 21): every event of every tenant appended to the rightmost leaf of
-- a btree on deadline, one hot page for all submitting transactions; a BRIN index costs an
-- insert nothing until its range is summarised, and the purge only needs "deadline < now".
CREATE INDEX events_deadline_idx ON lowcode.events USING brin (deadline) WITH (autosummarize = on);
ALTER TABLE lowcode.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant_select ON lowcode.events FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
SELECT pg_catalog.pg_extension_config_dump('lowcode.events', '');
COMMENT ON TABLE lowcode.events IS
  'Event outbox. Tenants read their own events; events of the platform itself use the nil uuid as tenant.';

-- Emit an event: outbox row + a notification '{"tenant_id","id","type"}' on the tenant's
-- channel, sent after the commit only, so listeners never see rolled-back events.
CREATE FUNCTION lowcode.emit_event(tenant uuid, type text, payload jsonb DEFAULT '{}',
                                   retention interval DEFAULT interval '7 days')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
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
REVOKE ALL ON FUNCTION lowcode.emit_event(uuid, text, jsonb, interval) FROM PUBLIC;
GRANT SELECT ON lowcode.events TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('TABLE', 'lowcode.events', 'SELECT'),
  ('FUNCTION', 'lowcode.current_trace_id()', 'EXECUTE');
