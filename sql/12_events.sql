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

-- The outbox: every registry change, submission and session expiry is a
-- row here (for consumers that poll or replicate) and a NOTIFY on channel
-- lowcode_events (for real-time listeners).  Rows are deleted by the
-- database worker once past their deadline.
CREATE TABLE lowcode.events (
  tenant_id  uuid NOT NULL,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  type       text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload    jsonb NOT NULL DEFAULT '{}',
  trace_id   text,
  created_at timestamptz NOT NULL DEFAULT now(),
  deadline   timestamptz NOT NULL DEFAULT now() + interval '7 days',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_deadline_idx ON lowcode.events (deadline);
ALTER TABLE lowcode.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.events FORCE ROW LEVEL SECURITY;
CREATE POLICY events_tenant_select ON lowcode.events FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
SELECT pg_catalog.pg_extension_config_dump('lowcode.events', '');
-- and its identity sequence, so that a restored database goes on numbering after the restored events
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lowcode.events', 'id')::regclass, '');
COMMENT ON TABLE lowcode.events IS
  'Event outbox. Tenants read their own events; events of the platform itself use the nil uuid as tenant.';

-- Emit an event: outbox row + NOTIFY lowcode_events '{"tenant_id","id","type"}'.
-- The NOTIFY is delivered at commit only, so listeners never see rolled-back events.
CREATE FUNCTION lowcode.emit_event(tenant uuid, type text, payload jsonb DEFAULT '{}',
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
  PERFORM pg_notify('lowcode_events',
                    json_build_object('tenant_id', tenant, 'id', new_id, 'type', emit_event.type)::text);
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION lowcode.emit_event(uuid, text, jsonb, interval) FROM PUBLIC;
GRANT SELECT ON lowcode.events TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('TABLE', 'lowcode.events', 'SELECT'),
  ('FUNCTION', 'lowcode.current_trace_id()', 'EXECUTE');
