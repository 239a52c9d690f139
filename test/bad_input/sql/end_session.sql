-- Bad input for lowcode.end_session(): it takes no argument; its input is the request context,
-- request.jwt.claims and request.headers as PostgREST sets them: revokes the current request's session; false without one (docs/sessions.md).
-- Each context below is bad in some way; the answer must be NULL / nothing, never an error or a crash.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
-- Claims and headers set for one call (this transaction), then the expression.
CREATE FUNCTION pg_temp.ctx(claims text, headers text, expr text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  r text;
BEGIN
  PERFORM set_config('request.jwt.claims', coalesce(claims, ''), true), set_config('request.headers', coalesce(headers, ''), true);
  EXECUTE 'SELECT (' || expr || ')::text' INTO r;
  RETURN coalesce(r, 'NULL');
END $f$;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT pg_temp.ctx(NULL, NULL, 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('', '', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('[]', '[]', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('not json', 'not json', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{bad', '{bad', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": 42, "sid": 42}', '{"traceparent": 42, "x-session-token": 42}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": "not-a-uuid", "sid": "not-a-uuid"}', '{"traceparent": "00-zz-zz-zz"}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": "00000000-0000-0000-0000-000000000000", "sid": "00000000-0000-0000-0000-000000000000"}', '{"traceparent": "00-00000000000000000000000000000000-0000000000000000-00"}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": "' || repeat('a', 10000000) || '"}', '{"traceparent": "' || repeat('a', 10000000) || '"}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"d": ' || repeat('[', 10000) || repeat(']', 10000) || ', "tenant_id": "00000000-0000-0000-0000-000000000000"}', '{"d": ' || repeat('[', 10000) || repeat(']', 10000) || '}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}', '{"d": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": "\ud800", "sid": "\u0000"}', '{"traceparent": "\ud800", "x-session-token": "\u0000"}', 'lowcode.end_session()')$$),
  ($$SELECT pg_temp.ctx('{"tenant_id": "00000000-0000-0000-0000-000000000000", "tenant_id": null}', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "traceparent": "x"}', 'lowcode.end_session()')$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
