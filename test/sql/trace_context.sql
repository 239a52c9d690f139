-- W3C trace context (issue 20): the traceparent header of PostgREST's request.headers
-- is the trace id of the request's audit rows, events, submissions and HTTP errors
-- (body key "trace_id", response header X-Trace-Id); without a valid header, NULL.
SELECT lowcode.create_tenant('trace-co') AS tenant \gset
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'tenant', 'sub', 'ada')::text, false) IS NOT NULL AS set;

-- PostgREST lower-cases header names; any case of the value, surrounding blanks
SELECT set_config('request.headers',
  '{"accept": "*/*", "traceparent": " 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01 "}', false) IS NOT NULL AS set;
SELECT lowcode.current_trace_id();
SELECT lowcode.pre_request();

-- audit rows, events and submissions
SELECT lowcode.register_schema('trace-form', '{"type": "object", "required": ["a"]}') IS NOT NULL AS registered;
SELECT action, trace_id FROM lowcode.registry_audit WHERE subject = 'trace-form' ORDER BY id;
SELECT lowcode.emit_event(:'tenant', 'trace.tested') IS NOT NULL AS emitted;
SELECT type, trace_id FROM lowcode.events WHERE tenant_id = :'tenant' ORDER BY id;
SELECT (lowcode.submit('trace-form', '{"a": 1}'))->>'status' AS status;
SELECT subject, trace_id FROM lowcode.submissions WHERE subject = 'trace-form';

-- HTTP errors: the trace id in the body (for logs and SQL clients) and as a response header
SELECT lowcode.submit('trace-form', '{}');
SELECT lowcode.raise_http(429, 'LQ429', 'slow down', NULL, NULL, '{"Retry-After": "3"}');
SELECT lowcode.raise_http(404, 'LX404', 'nothing here');

-- another request, another trace: the cached value follows the setting
SELECT set_config('request.headers', '{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}', false) IS NOT NULL AS set;
SELECT lowcode.current_trace_id();
SELECT lowcode.emit_event(:'tenant', 'trace.again') IS NOT NULL AS emitted;
SELECT type, trace_id FROM lowcode.events WHERE tenant_id = :'tenant' ORDER BY id;

-- no valid traceparent: no trace id anywhere (as before), and errors as before
CREATE FUNCTION pg_temp.trace_of(headers text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.headers', headers, false);
  RETURN lowcode.current_trace_id();
END $$;
SELECT h AS headers, pg_temp.trace_of(h) AS trace_id
  FROM (VALUES ('{}'), ('{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}'),
               ('{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"}'),
               ('{"traceparent": "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"}'),
               ('{"traceparent": 42}'), ('{"x": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}'),
               ('not json'), ('{"traceparent": "\u0000"}'),
               ('{"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}')) AS v(h);
SELECT set_config('request.headers', '{}', false) IS NOT NULL AS set;
SELECT lowcode.raise_http(429, 'LQ429', 'slow down', NULL, NULL, '{"Retry-After": "3"}');
SELECT lowcode.emit_event(:'tenant', 'trace.none') IS NOT NULL AS emitted;
SELECT type, trace_id FROM lowcode.events WHERE tenant_id = :'tenant' AND type = 'trace.none';
-- the registry's tests list every subject: remove this one again
DELETE FROM lowcode.submissions WHERE subject = 'trace-form';
SELECT lowcode.delete_schema('trace-form', 1), lowcode.delete_schema('trace-form', 1, true);
DELETE FROM lowcode.subjects WHERE name = 'trace-form';
RESET request.headers;
RESET request.jwt.claims;
