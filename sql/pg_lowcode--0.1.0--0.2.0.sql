-- pg_lowcode upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_lowcode UPDATE.
--
-- Hand written.  It holds every difference between the frozen 0.1.0 install
-- script (sql/pg_lowcode--0.1.0.sql) and the current parts sql/NN_*.sql, so
-- that an upgraded database ends up exactly like a fresh 0.2.0 install:
-- test/t/003_extension_upgrade.pl compares the two object by object.
--
-- Rule: every change to sql/NN_*.sql is also written here, in the same commit.
--   * a new or changed function: CREATE OR REPLACE with the new definition (or
--     DROP + CREATE when the signature or return type changes), then the same
--     GRANT / REVOKE / COMMENT as the install script;
--   * a new table, column, index, constraint, policy or trigger: the same DDL,
--     plus pg_extension_config_dump() for a new configuration table;
--   * seeded rows: INSERT ... ON CONFLICT DO NOTHING (never overwrite what an
--     operator changed);
--   * objects are named schema-qualified (lowcode.x): search_path is not
--     guaranteed here.
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-----------------------------------------------------------------------------
-- Sessions (sql/40_session.sql): the worker's agenda moves to
-- lowcode.session_timers so that its updates of lowcode.sessions are HOT.
-----------------------------------------------------------------------------
DROP INDEX lowcode.sessions_expiry_idx;
DROP INDEX lowcode.sessions_ended_idx;
DROP INDEX lowcode.sessions_principal_idx;
CREATE INDEX sessions_principal_idx ON lowcode.sessions (tenant_id, principal);
-- Applies to pages written from now on; existing pages fill up as before.
ALTER TABLE lowcode.sessions SET (fillfactor = 50);

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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode AS $$
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

-- The agenda of the sessions that exist already.
INSERT INTO lowcode.session_timers (due_at, tenant_id, session_id, purge)
SELECT CASE WHEN s.state = 'active' THEN s.expires_at ELSE coalesce(s.ended_at, now()) END,
       s.tenant_id, s.id, s.state <> 'active'
  FROM lowcode.sessions s;
