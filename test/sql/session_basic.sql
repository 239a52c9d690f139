-- Sessions: create_session, revocation, pre_request()'s session step,
-- session_info(), end_session(), one sweep.  The database worker of the
-- regression instance does not sweep during the run (test/regress.conf).
SET client_min_messages = warning;
RESET client_min_messages;
\set VERBOSITY terse

SELECT lowcode.create_tenant('sess-a') AS ta \gset
SELECT lowcode.create_tenant('sess-b', NULL, 'enterprise') AS tb \gset

-- One replayed request: claims and headers as PostgREST sets them, then
-- pre_request(); the answer is "ok <principal>" or the PGRST error's code,
-- HTTP status and WWW-Authenticate header.
CREATE FUNCTION pg_temp.req(claims jsonb, headers jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  m text;
  d text;
BEGIN
  PERFORM set_config('request.jwt.claims', coalesce(claims::text, ''), true),
          set_config('request.method', 'GET', true),
          set_config('request.headers', headers::text, true);
  PERFORM lowcode.pre_request();
  RETURN 'ok ' || coalesce((SELECT principal FROM lowcode.sessions WHERE id = lowcode.current_session_id()), 'no session')
         || CASE WHEN lowcode.current_tenant() IS NULL THEN ' (no tenant)' ELSE '' END;
EXCEPTION WHEN SQLSTATE 'PGRST' THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN concat_ws(' ', m::jsonb ->> 'code', d::jsonb ->> 'status', d::jsonb -> 'headers' ->> 'WWW-Authenticate');
END
$$;

-- Run a statement; its error's SQLSTATE and message, with uuids masked.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  m text;
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT;
  RETURN SQLSTATE || ': ' || regexp_replace(m, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
END
$$;

-----------------------------------------------------------------------------
-- create_session
-----------------------------------------------------------------------------
SELECT session_id AS s1, token AS tok1, expires_at AS exp1
  FROM lowcode.create_session(:'ta', 'alice', '{"device": "laptop"}') \gset
SELECT :'tok1' ~ '^lcs_[A-Za-z0-9_-]{43}$' AS token_is_256_bits_base64url;
SELECT s.principal, s.state, s.attributes, s.idle_timeout, s.absolute_expires_at - s.created_at AS lifetime,
       s.expires_at = :'exp1'::timestamptz AS returned_expiry,
       s.expires_at = s.created_at + interval '15 minutes' AS free_tier_idle,
       s.token_hash = lowcode.session_token_hash(:'tok1') AS hash_stored,
       length(s.token_hash) AS hash_bytes
  FROM lowcode.sessions s WHERE s.id = :'s1';
-- the token itself is stored nowhere in the row
SELECT count(*) AS rows_containing_token FROM lowcode.sessions s WHERE s::text LIKE '%' || :'tok1' || '%';
-- two tokens never repeat
SELECT count(DISTINCT lowcode.session_new_token()) AS distinct_tokens FROM generate_series(1, 1000);
-- shorter timeouts than the tier allows, explicit ip and user agent
SELECT session_id AS s2 FROM lowcode.create_session(:'ta', 'alice', '{}', interval '1 minute', interval '1 hour',
                                                  '192.0.2.7', 'test-agent/1.0') \gset
SELECT idle_timeout, absolute_expires_at - created_at AS lifetime, ip, user_agent FROM lowcode.sessions WHERE id = :'s2';
SELECT session_id AS s3 FROM lowcode.create_session(:'ta', 'bob') \gset
SELECT session_id AS sb, token AS tokb FROM lowcode.create_session(:'tb', 'carol') \gset
SELECT idle_timeout FROM lowcode.sessions WHERE id = :'sb';

-- bad input: clear errors, nothing created
SELECT count(*) AS before FROM lowcode.sessions \gset
SELECT * FROM lowcode.create_session(NULL, 'x');
SELECT * FROM lowcode.create_session(:'ta', '');
SELECT * FROM lowcode.create_session(:'ta', NULL);
SELECT * FROM lowcode.create_session(:'ta', repeat('x', 257));
SELECT * FROM lowcode.create_session(:'ta', 'x', '[1]');
SELECT * FROM lowcode.create_session(:'ta', 'x', NULL);
SELECT * FROM lowcode.create_session('00000000-0000-0000-0000-000000000001', 'x');
SELECT * FROM lowcode.create_session(:'ta', 'x', '{}', interval '1 day');
SELECT * FROM lowcode.create_session(:'ta', 'x', '{}', NULL, interval '9 hours');
SELECT * FROM lowcode.create_session(:'ta', 'x', '{}', interval '-1 minute');
SELECT * FROM lowcode.create_session(:'ta', 'x', '{}', NULL, NULL, NULL, repeat('u', 1025));
SELECT lowcode.suspend_tenant(:'ta');
SELECT pg_temp.try(format('SELECT lowcode.create_session(%L, %L)', :'ta', 'x')) AS suspended;
SELECT lowcode.resume_tenant(:'ta');
SELECT count(*) = :before AS nothing_created FROM lowcode.sessions;

-- the tier's max_sessions (enforced by the quota component's trigger)
INSERT INTO lowcode.tiers (name, session_idle_timeout, session_absolute_lifetime, requests_per_second,
                           request_burst, max_sessions, statement_timeout, work_mem_kb)
VALUES ('sess-tiny', '10 minutes', '1 hour', 1, 1, 2, '1 second', 64);
SELECT lowcode.create_tenant('sess-c', NULL, 'sess-tiny') AS tc \gset
SELECT count(*) FROM lowcode.create_session(:'tc', 'u1');
SELECT count(*) FROM lowcode.create_session(:'tc', 'u2');
SELECT pg_temp.try(format('SELECT lowcode.create_session(%L, %L)', :'tc', 'u3')) AS third;
SELECT lowcode.revoke_sessions(:'tc', 'u1');
SELECT count(*) AS after_revoke FROM lowcode.create_session(:'tc', 'u3');

-----------------------------------------------------------------------------
-- pre_request(): claims mode
-----------------------------------------------------------------------------
-- a session is proven by its secret (claim sid_proof), never by its id alone (issue 13)
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1')) AS sid_without_proof;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1', 'sid_proof', lowcode.session_proof(:'tok1'))) AS sid_with_proof;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid_proof', lowcode.session_proof(:'tok1'))) AS proof_alone;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1', 'sid_proof', lowcode.session_proof(:'tokb'))) AS proof_of_another_session;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid_proof', lowcode.session_proof(:'tok1' || 'x'))) AS wrong_proof;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid_proof', 'lcp_short')) AS malformed_proof;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid_proof', 42)) AS proof_not_a_string;
SELECT lowcode.session_proof(:'tok1') ~ '^lcp_[A-Za-z0-9_-]{43}$' AS proof_shape,
       NOT EXISTS (SELECT 1 FROM lowcode.sessions WHERE token_hash = sha256(convert_to(:'tok1', 'UTF8'))
                                                  OR token_hash = sha256(convert_to(lowcode.session_proof(:'tok1'), 'UTF8')))
         AS table_holds_neither_proof_nor_token_hash;
-- the rest of this file names sessions by id alone, as 0.2.0 did (the migration setting)
SET lowcode.session_proof = optional;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1')) AS valid;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb', 'sid', :'sb')) AS valid_other_tenant;
-- the session's tenant must be the claim's
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb', 'sid', :'s1')) AS wrong_tenant;
-- unknown, malformed
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', gen_random_uuid())) AS unknown;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', 'not-a-uuid')) AS malformed;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', 42)) AS not_a_string;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', jsonb_build_object('x', 1))) AS an_object;
-- no sid in claims mode: the tenant claim alone (issue 2's contract)
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta')) AS no_session;
-- the token in a header instead of the sid claim
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb'), jsonb_build_object('x-session-token', :'tokb')) AS by_token;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb'), jsonb_build_object('X-Session-Token', :'tokb')) AS header_case;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb'), jsonb_build_object('x-session-token', :'tokb' || 'x')) AS bad_token;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta'), jsonb_build_object('x-session-token', :'tokb')) AS token_wrong_tenant;
-- the sid claim wins over the header
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1'), jsonb_build_object('x-session-token', :'tokb')) AS sid_first;
-- suspended tenant: the session is valid, the tenancy step answers 403
SELECT lowcode.suspend_tenant(:'ta');
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1')) AS suspended;
SELECT lowcode.resume_tenant(:'ta');

-- expired: past the absolute lifetime, idle for too long (the worker has
-- not marked them yet: pre_request() checks the times itself)
SELECT session_id AS s_old FROM lowcode.create_session(:'ta', 'dave') \gset
SELECT session_id AS s_idle FROM lowcode.create_session(:'ta', 'erin') \gset
UPDATE lowcode.sessions SET absolute_expires_at = now() - interval '1 second',
                            expires_at = now() - interval '1 second' WHERE id = :'s_old';
UPDATE lowcode.sessions SET last_seen_at = now() - interval '16 minutes',
                            expires_at = now() - interval '1 minute' WHERE id = :'s_idle';
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s_old')) AS past_lifetime;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s_idle')) AS idle;

-- revoked: effective on the very next request
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s3')) AS before_revoke;
SELECT lowcode.revoke_session(:'s3', 'stolen laptop') AS revoked;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s3')) AS after_revoke;
SELECT lowcode.revoke_session(:'s3') AS revoked_again;
SELECT state, revoke_reason, revoked_at IS NOT NULL AS has_revoked_at, ended_at = revoked_at AS ended FROM lowcode.sessions WHERE id = :'s3';
SELECT lowcode.revoke_session('00000000-0000-0000-0000-000000000001');
SELECT lowcode.revoke_session(NULL);
-- a revocation that rolls back has no effect
BEGIN;
SELECT lowcode.revoke_session(:'s2');
ROLLBACK;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s2')) AS rolled_back_revoke;

-----------------------------------------------------------------------------
-- session_info(), current_session_id(), end_session()
-----------------------------------------------------------------------------
SELECT count(*) AS outside_a_request FROM lowcode.session_info();
SELECT lowcode.current_session_id() IS NULL AS no_session_outside;
BEGIN;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s1'));
SELECT session_id = :'s1' AS same_id, tenant_id = :'ta' AS same_tenant, principal, attributes,
       last_seen_at > now() - interval '1 minute' AS seen_now,
       expires_at = least(last_seen_at + interval '15 minutes', absolute_expires_at) AS expiry_slides
  FROM lowcode.session_info();
COMMIT;
-- the binding ends with the transaction
SELECT lowcode.current_session_id() IS NULL AS cleared_at_commit;
BEGIN;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s2'));
SELECT lowcode.end_session() AS signed_out;
COMMIT;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta', 'sid', :'s2')) AS after_sign_out;
SELECT lowcode.end_session() AS no_session_to_end;

-----------------------------------------------------------------------------
-- session mode: the session is the only source of the tenant
-----------------------------------------------------------------------------
SET lowcode.tenant_context = 'session';
SELECT pg_temp.req(jsonb_build_object('sid', :'s1')) AS session_mode;
BEGIN;
SELECT pg_temp.req(jsonb_build_object('sid', :'s1'));
SELECT lowcode.current_tenant() = :'ta' AS tenant_from_session;
COMMIT;
-- a tenant claim is ignored in session mode: the session decides
BEGIN;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb', 'sid', :'s1'));
SELECT lowcode.current_tenant() = :'ta' AS claim_ignored;
COMMIT;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'ta')) AS no_session_no_tenant;
SELECT pg_temp.req(NULL, jsonb_build_object('x-session-token', :'tokb')) AS by_token_session_mode;
RESET lowcode.tenant_context;

-----------------------------------------------------------------------------
-- revoke_sessions, revoke_tenant_sessions
-----------------------------------------------------------------------------
SELECT count(*) FROM lowcode.create_session(:'ta', 'frank');
SELECT count(*) FROM lowcode.create_session(:'ta', 'frank');
SELECT lowcode.revoke_sessions(:'ta', 'frank') AS frank_revoked;
SELECT lowcode.revoke_sessions(:'ta', 'frank') AS none_left;
SELECT lowcode.revoke_sessions('00000000-0000-0000-0000-000000000001', 'frank');
SELECT lowcode.revoke_sessions(:'ta', NULL);
SELECT lowcode.revoke_tenant_sessions(:'tb') AS tenant_b_revoked;
SELECT pg_temp.req(jsonb_build_object('tenant_id', :'tb', 'sid', :'sb')) AS after_tenant_revoke;
SELECT state, count(*) FROM lowcode.sessions WHERE tenant_id = :'tb' GROUP BY state;

-----------------------------------------------------------------------------
-- one sweep: the two sessions past their expiry become expired, with events
-----------------------------------------------------------------------------
SELECT flushed >= 1 AS flushed_last_seen, expired, deleted_sessions FROM lowcode.sweep();
SELECT id = :'s_old' AS lifetime_one, state, ended_at IS NOT NULL AS ended
  FROM lowcode.sessions WHERE id IN (:'s_old', :'s_idle') ORDER BY principal;
SELECT type, payload ->> 'principal' AS principal, payload ->> 'reason' AS reason
  FROM lowcode.events WHERE type = 'session.expired' ORDER BY payload ->> 'principal';
-- a second sweep finds nothing to do; nothing is resurrected
SELECT expired FROM lowcode.sweep();
SELECT count(*) AS active_again FROM lowcode.sessions WHERE id IN (:'s_old', :'s_idle', :'s3') AND state = 'active';
-- expires_at is a lower bound of the real expiry (the flush never moves it,
-- a timer fires at it): a session that is not due is not expired, its real expiry
-- is stored instead
SELECT session_id AS s_lb FROM lowcode.create_session(:'ta', 'gina') \gset
UPDATE lowcode.sessions SET expires_at = now() - interval '1 second' WHERE id = :'s_lb';
SELECT expired FROM lowcode.sweep();
SELECT state, expires_at = least(last_seen_at + idle_timeout, absolute_expires_at) AS real_expiry_stored
  FROM lowcode.sessions WHERE id = :'s_lb';
-- the worker's agenda (lowcode.session_timers): each active session has an
-- expiry timer at its expires_at, a revoked one also a purge timer at its end
SELECT s.principal, t.purge, t.due_at = CASE WHEN t.purge THEN s.ended_at ELSE s.expires_at END AS at_its_time,
       t.due_at > now() AS in_future
  FROM lowcode.session_timers t JOIN lowcode.sessions s ON s.tenant_id = t.tenant_id AND s.id = t.session_id
 WHERE s.id IN (:'s_lb', :'s3') AND t.due_at >= s.created_at ORDER BY 1, 2, 3;
-- retention: a purge timer older than lowcode.session_retention deletes the
-- ended session; its expiry timer fires later and finds it gone
UPDATE lowcode.session_timers SET due_at = now() - interval '8 days' WHERE session_id = :'s3' AND purge;
SELECT deleted_sessions FROM lowcode.sweep();
SELECT count(*) AS s3_left FROM lowcode.sessions WHERE id = :'s3';
UPDATE lowcode.session_timers SET due_at = now() - interval '1 second' WHERE session_id = :'s3';
SELECT expired FROM lowcode.sweep();
SELECT count(*) AS s3_timers_left FROM lowcode.session_timers WHERE session_id = :'s3';
-- last-seen times reached the table
SELECT last_seen_at > created_at AS flushed FROM lowcode.sessions WHERE id = :'s1';
SELECT capacity, entries >= 1 AS tracking, dropped_touches FROM lowcode.session_memory_stats();

-----------------------------------------------------------------------------
-- who may call what
-----------------------------------------------------------------------------
CREATE ROLE sess_api NOLOGIN;
SELECT lowcode.grant_api_role('sess_api');
SELECT f, has_function_privilege('sess_api', f, 'EXECUTE') AS api,
       has_function_privilege('lowcode_identity', f, 'EXECUTE') AS identity,
       has_function_privilege('lowcode_operator', f, 'EXECUTE') AS operator
  FROM unnest(ARRAY[
    'lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text)',
    'lowcode.revoke_session(uuid, text)', 'lowcode.revoke_sessions(uuid, text, text)',
    'lowcode.revoke_tenant_sessions(uuid, text)', 'lowcode.session_info()', 'lowcode.end_session()',
    'lowcode.current_session_id()', 'lowcode.pre_request()', 'lowcode.sweep()',
    'lowcode.session_memory_stats()']) f;
SELECT has_table_privilege('sess_api', 'lowcode.sessions', 'SELECT') AS api_reads_sessions_table;
SET ROLE sess_api;
SELECT * FROM lowcode.create_session(:'ta', 'mallory');
SELECT lowcode.revoke_session(:'s1');
RESET ROLE;
-- isolation rules hold for the sessions table
SELECT problem, object_name FROM lowcode.isolation_report() WHERE object_name LIKE 'lowcode.sessions%';
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'lowcode.sessions'::regclass;
DROP OWNED BY sess_api;
DROP ROLE sess_api;
