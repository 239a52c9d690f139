\set ECHO none
-- Bad request contexts, for the functions whose only input is the context PostgREST sets:
-- request.jwt.claims and request.headers.  Included (after helpers.sql) by current_tenant,
-- current_session_id, current_trace_id, session_info and end_session.
--
-- pg_temp.ctx(claims, headers, expr): sets both for this transaction, then evaluates expr as text.
-- Table bad_context: the contexts, each bad in some way; the answer must be NULL / nothing / false,
-- never an error or a crash.
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.ctx(claims text, headers text, expr text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  r text;
BEGIN
  PERFORM set_config('request.jwt.claims', coalesce(claims, ''), true), set_config('request.headers', coalesce(headers, ''), true);
  EXECUTE 'SELECT (' || expr || ')::text' INTO r;
  RETURN coalesce(r, 'NULL');
END $f$;
CREATE TEMP TABLE bad_context (n int, what text, claims text, headers text);
INSERT INTO bad_context VALUES
  (1, 'not set', NULL, NULL),
  (2, 'empty', '', ''),
  (3, 'an array', '[]', '[]'),
  (4, 'not JSON', 'not json', 'not json'),
  (5, 'truncated JSON', '{bad', '{bad'),
  (6, 'numbers where strings belong', '{"tenant_id": 42, "sid": 42}', '{"traceparent": 42, "x-session-token": 42}'),
  (7, 'not uuids, a malformed traceparent', '{"tenant_id": "not-a-uuid", "sid": "not-a-uuid"}', '{"traceparent": "00-zz-zz-zz"}'),
  (8, 'the nil uuid, an all-zero traceparent', '{"tenant_id": "00000000-0000-0000-0000-000000000000", "sid": "00000000-0000-0000-0000-000000000000"}',
      '{"traceparent": "00-00000000000000000000000000000000-0000000000000000-00"}'),
  (9, '10 MB values', '{"tenant_id": "' || repeat('a', 10000000) || '"}', '{"traceparent": "' || repeat('a', 10000000) || '"}'),
  (10, '10,000-deep arrays beside the claim', '{"d": ' || repeat('[', 10000) || repeat(']', 10000) || ', "tenant_id": "00000000-0000-0000-0000-000000000000"}',
       '{"d": ' || repeat('[', 10000) || repeat(']', 10000) || '}'),
  (11, '1,000,000-deep arrays', '{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}', '{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}'),
  (12, 'a lone surrogate, an escaped NUL', '{"tenant_id": "\ud800", "sid": "\u0000"}', '{"traceparent": "\ud800", "x-session-token": "\u0000"}'),
  (13, 'repeated keys, the last one null or bad', '{"tenant_id": "00000000-0000-0000-0000-000000000000", "tenant_id": null}',
       '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "traceparent": "x"}');
RESET client_min_messages;
\set ECHO all
