-- Bad input for lowcode.pre_request(): its input is the request, as PostgREST sets it:
-- request.jwt.claims (JSON text, parsed by pg_lowcode, so anything can arrive there, including
-- escapes JSON allows but jsonb refuses), request.headers, request.method.
-- Documented (docs/errors.md, PGRST form): LT401 no tenant, LT400 claim not a uuid string or claims
-- not JSON, LT403 unknown tenant, LS401 bad sid or sid_proof claim, a sid without its proof.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
SELECT lowcode.create_tenant('bi-prq') IS NOT NULL AS created;
-- One request: claims and headers set for this transaction, then the hook; answers the tenant's slug.
CREATE FUNCTION pg_temp.req(claims text, headers text DEFAULT '{}') RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM set_config('request.jwt.claims', claims, true), set_config('request.headers', headers, true),
          set_config('request.method', 'GET', true);
  PERFORM lowcode.pre_request();
  RETURN coalesce((SELECT slug FROM lowcode.tenants WHERE id = lowcode.current_tenant()), 'no tenant');
END $f$;
SELECT set_config('bi.t', (SELECT id::text FROM lowcode.tenants WHERE slug = 'bi-prq'), false) IS NOT NULL AS t;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT pg_temp.req(NULL)$$),
  ($$SELECT pg_temp.req('')$$),
  ($$SELECT pg_temp.req('{}')$$),
  ($$SELECT pg_temp.req('[]')$$),
  ($$SELECT pg_temp.req('"x"')$$),
  ($$SELECT pg_temp.req('null')$$),
  ($$SELECT pg_temp.req('{"tenant_id": null}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": ""}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": 42}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": ["' || current_setting('bi.t') || '"]}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": {"id": "' || current_setting('bi.t') || '"}}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "not-a-uuid"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "00000000-0000-0000-0000-000000000000"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '"')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || repeat('a', 10000000) || '"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "pad": "' || repeat('a', 10000000) || '"}')$$),
  ($$SELECT pg_temp.req('{' || (SELECT string_agg('"k' || i || '": ' || i, ', ') FROM generate_series(1, 100000) i) || ', "tenant_id": "' || current_setting('bi.t') || '"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "deep": ' || repeat('[', 10000) || repeat(']', 10000) || '}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "deep": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "\ud800"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "\u0000"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "x": "\ud800"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "x": "\u0000"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "tenant_id": "00000000-0000-0000-0000-000000000000"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid": 42}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid": "\u0000"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid": "' || gen_random_uuid() || '"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": 42}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": "lcp_"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": "lcp_' || repeat('A', 42) || 'B"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": "lcp_' || repeat('*', 43) || '"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": "' || repeat('a', 10000000) || '"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '", "sid_proof": "lcp_' || repeat('A', 43) || '", "sid": "x"}')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '"}', 'not json')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '"}', '[]')$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '"}', '{"x-session-token": "' || repeat('a', 10000000) || '"}')$$),
  ($$SELECT pg_temp.req(E'\\xff')$$),
  ($$SELECT pg_temp.req(convert_from('\xff'::bytea, 'UTF8'))$$),
  ($$SELECT pg_temp.req('{"tenant_id": "' || current_setting('bi.t') || '"}')$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
DELETE FROM lowcode.tenants WHERE slug = 'bi-prq';
