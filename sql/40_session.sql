-- pg_lowcode install script, part 40: sessions (see docs/sessions.md).
--
-- A session is created by the platform's identity back end (a trusted role,
-- lowcode_identity) after it authenticated a user; the client then sends the
-- session id as the JWT claim "sid" (or the opaque token in a header) on
-- every request, and lowcode.pre_request() validates it.  Last-seen times
-- are kept in shared memory by pre_request() and written here by the
-- database worker: a GET request runs READ ONLY and never writes a row.

-- The identity back end: creates and revokes sessions of any tenant.
-- Cluster-wide like lowcode_operator, created only when missing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lowcode_identity') THEN
    CREATE ROLE lowcode_identity NOLOGIN;
  END IF;
END
$$;

CREATE TABLE lowcode.sessions (
  tenant_id            uuid NOT NULL REFERENCES lowcode.tenants (id) ON DELETE CASCADE,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  principal            text NOT NULL CHECK (length(principal) BETWEEN 1 AND 256),
  token_hash           bytea NOT NULL CHECK (length(token_hash) = 32),   -- SHA-256 of the token's proof
  created_at           timestamptz NOT NULL DEFAULT now(),
  last_seen_at         timestamptz NOT NULL DEFAULT now(),
  -- A pure duration (no day or month part), so that "last_seen_at +
  -- idle_timeout" means the same in SQL and in C, whatever the time zone.
  idle_timeout         interval NOT NULL
                       CHECK (idle_timeout > interval '0'
                              AND extract(day FROM idle_timeout) = 0
                              AND extract(month FROM idle_timeout) = 0
                              AND extract(year FROM idle_timeout) = 0),
  absolute_expires_at  timestamptz NOT NULL,
  -- A lower bound of least(last_seen_at + idle_timeout, absolute_expires_at):
  -- the last-seen flush leaves it alone, the worker's expiry step stores the
  -- real expiry when a session's timer fires and it is not due yet.
  expires_at           timestamptz NOT NULL,
  state                text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'expired', 'revoked')),
  ended_at             timestamptz,       -- when it became expired or revoked
  revoked_at           timestamptz,
  revoke_reason        text,
  ip                   inet,
  user_agent           text CHECK (length(user_agent) <= 1024),
  attributes           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  PRIMARY KEY (tenant_id, id),
  CHECK ((state = 'active') = (ended_at IS NULL)),
  CHECK ((state = 'revoked') = (revoked_at IS NOT NULL))
)
-- Half of each page is left free so that the worker's updates -- a last-seen
-- flush of every active session each second, the expiry of every row of a
-- page at once -- find room on the same page and stay HOT updates (no new
-- index entries).  With the default fillfactor a mass expiry updated every
-- index of every expired row and ran ten times slower (docs/benchmarks.md).
WITH (fillfactor = 50);
COMMENT ON TABLE lowcode.sessions IS
  'Sessions of tenant users. Tokens are stored as SHA-256 hashes only. last_seen_at lags by up to lowcode.sweep_interval.';
-- pre_request() finds a session by the JWT claim "sid" (the id alone) or by
-- the token's hash; neither index is unique without tenant_id (the
-- isolation rules), ids and hashes are random and a lookup that finds two
-- rows rejects the request.
CREATE INDEX sessions_id_idx ON lowcode.sessions (id);
CREATE INDEX sessions_token_hash_idx ON lowcode.sessions (token_hash);
-- No index names a column the worker changes (state, ended_at, expires_at,
-- last_seen_at), not even in a partial index's predicate: that keeps its
-- updates HOT.  The worker finds its work in lowcode.session_timers instead.
CREATE INDEX sessions_principal_idx ON lowcode.sessions (tenant_id, principal);

ALTER TABLE lowcode.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_tenant ON lowcode.sessions FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
SELECT pg_catalog.pg_extension_config_dump('lowcode.sessions', '');
GRANT SELECT ON lowcode.sessions TO lowcode_operator;

-- The worker's agenda: when to look at a session again.  A timer that is
-- not a purge fires at a lower bound of an active session's expiry (the
-- worker then expires the session, or stores its real expiry and sets a new
-- timer); a purge timer fires when an ended session's retention is over
-- (due_at is its ended_at; the worker deletes it lowcode.session_retention
-- later).  Timers are only ever added and deleted, and the only index is
-- on (purge, due_at), whose new entries go to its right edge: keeping the
-- agenda costs a fraction of what an index on lowcode.sessions would.  A
-- session may have a stale timer besides its current one; firing it does
-- nothing.  Kept by: the insert trigger below (every way rows arrive,
-- create_session, COPY, a restore), the update trigger (revocations, and an
-- expires_at moved earlier by hand), the worker's expiry step, and a
-- reconciliation when a worker starts (for rows loaded with triggers off).
-- Not dumped: a restore recreates it from the restored sessions.
CREATE TABLE lowcode.session_timers (
  due_at      timestamptz NOT NULL,
  tenant_id   uuid NOT NULL,
  session_id  uuid NOT NULL,
  purge       boolean NOT NULL
);
CREATE INDEX session_timers_due_idx ON lowcode.session_timers (purge, due_at);
ALTER TABLE lowcode.session_timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.session_timers FORCE ROW LEVEL SECURITY;
CREATE POLICY session_timers_tenant ON lowcode.session_timers FOR SELECT
  USING (tenant_id = (SELECT lowcode.current_tenant()));
COMMENT ON TABLE lowcode.session_timers IS
  'When the database worker looks at a session again: its expiry (a lower bound), or the end of its retention.';

CREATE FUNCTION lowcode.session_timers_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
  SELECT CASE WHEN n.state = 'active' THEN n.expires_at ELSE coalesce(n.ended_at, now()) END,
         n.tenant_id, n.id, n.state <> 'active'
    FROM new_sessions n;
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_timers_insert AFTER INSERT ON lowcode.sessions
  REFERENCING NEW TABLE AS new_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION lowcode.session_timers_on_insert();

-- A revocation ends a session: its purge timer.  An expires_at moved earlier
-- (by hand: nothing in pg_lowcode does) needs a timer that fires then.  The
-- worker's own updates (state 'expired', expires_at moved later, last-seen
-- flush) match neither condition, so this trigger costs them nothing.
CREATE FUNCTION lowcode.session_timers_on_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
  VALUES (CASE WHEN NEW.state = 'active' THEN NEW.expires_at ELSE coalesce(NEW.ended_at, now()) END,
          NEW.tenant_id, NEW.id, NEW.state <> 'active');
  RETURN NULL;
END
$$;
CREATE TRIGGER sessions_timers_update AFTER UPDATE ON lowcode.sessions
  FOR EACH ROW
  WHEN ((OLD.state = 'active' AND NEW.state = 'revoked')
        OR (NEW.state = 'active' AND NEW.expires_at < OLD.expires_at))
  EXECUTE FUNCTION lowcode.session_timers_on_update();
-- Also when rows arrive by logical replication (session_replication_role = replica).
ALTER TABLE lowcode.sessions ENABLE ALWAYS TRIGGER sessions_timers_insert;
ALTER TABLE lowcode.sessions ENABLE ALWAYS TRIGGER sessions_timers_update;
REVOKE ALL ON FUNCTION lowcode.session_timers_on_insert(), lowcode.session_timers_on_update() FROM PUBLIC;

-----------------------------------------------------------------------------
-- C helpers
-----------------------------------------------------------------------------
-- A new opaque token: "lcs_" + base64url of 32 bytes from pg_strong_random.
CREATE FUNCTION lowcode.session_new_token() RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_session_new_token'
LANGUAGE C VOLATILE STRICT;

-- The proof of a token, for the JWT claim "sid_proof": "lcp_" || base64url(SHA-256(token)).
CREATE FUNCTION lowcode.session_proof(token text) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_session_proof'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lowcode.session_proof(text) IS
  'The value of the JWT claim "sid_proof" for the session of this token (a session id alone proves nothing).';

-- SHA-256 of the token's proof (SHA-256 of SHA-256 of the token), as stored in sessions.token_hash.
CREATE FUNCTION lowcode.session_token_hash(token text) RETURNS bytea
AS 'MODULE_PATHNAME', 'lowcode_session_token_hash_v2'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The session validated by pre_request() in this transaction, or NULL.
CREATE FUNCTION lowcode.current_session_id() RETURNS uuid
AS 'MODULE_PATHNAME', 'lowcode_current_session_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.current_session_id() IS
  'The id of the session validated by lowcode.pre_request() in the current transaction, or NULL.';

-- State of the shared memory table of last-seen times.
CREATE FUNCTION lowcode.session_memory_stats(
  OUT capacity bigint, OUT entries bigint, OUT dropped_touches bigint, OUT evictions bigint)
AS 'MODULE_PATHNAME', 'lowcode_session_memory_stats'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.session_memory_stats() IS
  'Shared memory table of session last-seen times: capacity (lowcode.max_tracked_sessions), entries in use, touches that found it full.';

-- Forget the last-seen times of this database kept in shared memory (used
-- when sessions end, and by tests).
CREATE FUNCTION lowcode.session_forget(tenant uuid, session_id uuid) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_session_forget'
LANGUAGE C VOLATILE;

-- One sweep of this database's sessions, as the database worker runs it:
-- flush last-seen times, expire, delete old sessions and events.  For
-- operators and tests; the worker calls the same C code.
CREATE FUNCTION lowcode.sweep(OUT flushed bigint, OUT expired bigint, OUT deleted_sessions bigint,
                              OUT deleted_events bigint)
AS 'MODULE_PATHNAME', 'lowcode_sweep'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp;
COMMENT ON FUNCTION lowcode.sweep() IS
  'Run one sweep of the database worker now: flush last-seen times, expire sessions, delete old sessions and events.';

-----------------------------------------------------------------------------
-- The contract
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.create_session(tenant uuid, principal text, attributes jsonb DEFAULT '{}',
                                       idle_timeout interval DEFAULT NULL,
                                       lifetime interval DEFAULT NULL,
                                       ip inet DEFAULT NULL, user_agent text DEFAULT NULL)
RETURNS TABLE (session_id uuid, token text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t        record;
  idle     interval;
  life     interval;
  new_tok  text;
  new_id   uuid;
  abs_exp  timestamptz;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'create_session: tenant must not be NULL';
  END IF;
  IF principal IS NULL OR length(principal) NOT BETWEEN 1 AND 256 THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001',
      MESSAGE = 'create_session: principal must be 1 to 256 characters',
      HINT = 'Pass the user id of the identity provider.';
  END IF;
  IF attributes IS NULL OR jsonb_typeof(attributes) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001',
      MESSAGE = 'create_session: attributes must be a JSON object';
  END IF;
  IF user_agent IS NOT NULL AND length(user_agent) > 1024 THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'create_session: user_agent is longer than 1024 characters';
  END IF;

  SELECT te.status, ti.session_idle_timeout, ti.session_absolute_lifetime
    INTO t
    FROM lowcode.tenants te JOIN lowcode.tiers ti ON ti.name = te.tier
   WHERE te.id = tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LS002', MESSAGE = format('create_session: no tenant with id %s', tenant);
  END IF;
  IF t.status <> 'active' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS003', MESSAGE = format('create_session: tenant %s is suspended', tenant);
  END IF;

  -- Durations are stored as pure seconds (see the table's CHECK).
  idle := make_interval(secs => extract(epoch FROM coalesce(create_session.idle_timeout, t.session_idle_timeout)));
  life := make_interval(secs => extract(epoch FROM coalesce(lifetime, t.session_absolute_lifetime)));
  IF idle <= interval '0' OR life <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'LS004', MESSAGE = 'create_session: idle_timeout and lifetime must be positive';
  END IF;
  IF idle > make_interval(secs => extract(epoch FROM t.session_idle_timeout))
     OR life > make_interval(secs => extract(epoch FROM t.session_absolute_lifetime)) THEN
    RAISE EXCEPTION USING ERRCODE = 'LS004',
      MESSAGE = 'create_session: idle_timeout or lifetime longer than the tenant''s tier allows',
      DETAIL = format('The tier allows an idle timeout of %s and a lifetime of %s.',
                      t.session_idle_timeout, t.session_absolute_lifetime);
  END IF;

  -- The tenant's max_sessions (tier, or the operator's override) is enforced
  -- by the quota component's trigger on lowcode.sessions (LQ433, HTTP 403).

  new_tok := lowcode.session_new_token();
  abs_exp := now() + life;
  INSERT INTO lowcode.sessions AS s (tenant_id, principal, token_hash, idle_timeout, absolute_expires_at,
                                     expires_at, ip, user_agent, attributes)
  VALUES (tenant, principal, lowcode.session_token_hash(new_tok), idle, abs_exp,
          least(now() + idle, abs_exp), create_session.ip, create_session.user_agent, attributes)
  RETURNING s.id INTO new_id;

  session_id := new_id;
  token := new_tok;
  expires_at := least(now() + idle, abs_exp);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text) IS
  'Create a session for a principal of a tenant; returns its id, its token (shown once: only its hash is kept) and when it expires unless used.';

CREATE FUNCTION lowcode.revoke_session(session_id uuid, reason text DEFAULT 'revoked')
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  n int;
BEGIN
  IF session_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'revoke_session: session_id must not be NULL';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM lowcode.sessions s WHERE s.id = revoke_session.session_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'LS006', MESSAGE = format('revoke_session: no session with id %s', session_id);
  END IF;
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.id = revoke_session.session_id AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_session(uuid, text) IS
  'Revoke one session; effective on its next request in every backend. False when it had already ended.';

CREATE FUNCTION lowcode.revoke_sessions(tenant uuid, principal text, reason text DEFAULT 'revoked')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  n int;
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  IF principal IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS001', MESSAGE = 'revoke_sessions: principal must not be NULL';
  END IF;
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.tenant_id = tenant AND s.principal = revoke_sessions.principal AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_sessions(uuid, text, text) IS
  'Revoke every active session of a principal of a tenant ("sign out everywhere"); returns how many.';

CREATE FUNCTION lowcode.revoke_tenant_sessions(tenant uuid, reason text DEFAULT 'revoked')
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  n int;
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.sessions s
     SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = reason
   WHERE s.tenant_id = tenant AND s.state = 'active';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION lowcode.revoke_tenant_sessions(uuid, text) IS
  'Revoke every active session of a tenant; returns how many.';

-- The current request's session (validated by pre_request()), or no row.
CREATE FUNCTION lowcode.session_info()
RETURNS TABLE (session_id uuid, tenant_id uuid, principal text, created_at timestamptz,
               last_seen_at timestamptz, expires_at timestamptz, absolute_expires_at timestamptz,
               attributes jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT s.id, s.tenant_id, s.principal, s.created_at,
         greatest(s.last_seen_at, lowcode.session_last_seen(s.tenant_id, s.id)),
         least(greatest(s.last_seen_at, lowcode.session_last_seen(s.tenant_id, s.id)) + s.idle_timeout,
               s.absolute_expires_at),
         s.absolute_expires_at, s.attributes
    FROM lowcode.sessions s
   WHERE s.id = lowcode.current_session_id()
     AND s.tenant_id = lowcode.current_tenant()
     AND s.state = 'active'
$$;
COMMENT ON FUNCTION lowcode.session_info() IS
  'The session of the current request (validated by lowcode.pre_request()), or no row.';

-- The caller's own sign-out: revokes the current request's session.
CREATE FUNCTION lowcode.end_session() RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  WITH r AS (
    UPDATE lowcode.sessions s
       SET state = 'revoked', revoked_at = now(), ended_at = now(), revoke_reason = 'signed out'
     WHERE s.id = lowcode.current_session_id()
       AND s.tenant_id = lowcode.current_tenant()
       AND s.state = 'active'
    RETURNING 1)
  SELECT count(*) > 0 FROM r
$$;
COMMENT ON FUNCTION lowcode.end_session() IS
  'Sign out: revoke the session of the current request. False when the request has no session.';

-- Last-seen time of a session in shared memory (NULL when not tracked).
CREATE FUNCTION lowcode.session_last_seen(tenant uuid, session_id uuid) RETURNS timestamptz
AS 'MODULE_PATHNAME', 'lowcode_session_last_seen'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text),
  lowcode.revoke_session(uuid, text), lowcode.revoke_sessions(uuid, text, text),
  lowcode.revoke_tenant_sessions(uuid, text), lowcode.session_new_token(),
  lowcode.session_memory_stats(), lowcode.session_forget(uuid, uuid), lowcode.sweep(),
  lowcode.session_last_seen(uuid, uuid), lowcode.session_info(), lowcode.end_session()
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.create_session(uuid, text, jsonb, interval, interval, inet, text),
  lowcode.revoke_session(uuid, text), lowcode.revoke_sessions(uuid, text, text),
  lowcode.revoke_tenant_sessions(uuid, text)
  TO lowcode_identity, lowcode_operator;
GRANT EXECUTE ON FUNCTION lowcode.session_memory_stats(), lowcode.sweep() TO lowcode_operator;

INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.session_info()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.end_session()', 'EXECUTE'),
  ('FUNCTION', 'lowcode.current_session_id()', 'EXECUTE');

-- Tell the launcher, once this transaction commits, that this database now
-- has the extension, so its database worker starts at once.
CREATE FUNCTION lowcode.worker_notify_launcher() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_worker_notify_launcher'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.worker_notify_launcher() FROM PUBLIC;
SELECT lowcode.worker_notify_launcher();

-- The background workers of this cluster, as the launcher knows them.
CREATE FUNCTION lowcode.worker_status(OUT database_oid oid, OUT database_name name, OUT pid integer,
                                      OUT state text, OUT last_sweep_at timestamptz, OUT sweeps bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lowcode_worker_status'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION lowcode.worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.worker_status() TO lowcode_operator;
