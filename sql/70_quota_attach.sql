-- pg_lowcode install script, part 70: quota triggers on tables of other components.
-- Runs after the parts that create lowcode.sessions (40) and lowcode.submissions (60);
-- each trigger is attached only when its table exists, so this part installs
-- with or without them.

-- Session limit: an insert of an active session past the tenant's
-- max_sessions fails with HTTP 403.  A lock on the tenant's row serialises
-- concurrent session creations of one tenant, so the limit is exact.
-- Sessions past their expiry count until the worker marks them expired
-- (at most one sweep interval).
CREATE FUNCTION lowcode.quota_session_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  lim bigint;
  n bigint;
BEGIN
  IF coalesce(to_jsonb(NEW) ->> 'state', 'active') <> 'active' THEN
    RETURN NEW;
  END IF;
  SELECT l.max_sessions INTO lim FROM lowcode.quota_effective_limits(NEW.tenant_id) l;
  IF lim IS NULL THEN
    RETURN NEW;
  END IF;
  -- Serialise on the tenant's row, not on an advisory lock: advisory locks
  -- have no privileges, so any role could take the key and block the
  -- tenant's sign-ins; this row lock needs UPDATE on lowcode.tenants, which
  -- only operators have (NO KEY UPDATE does not wait for the KEY SHARE
  -- locks of foreign-key checks) (issue 13).
  PERFORM 1 FROM lowcode.tenants t WHERE t.id = NEW.tenant_id FOR NO KEY UPDATE;
  SELECT count(*) INTO n FROM lowcode.sessions s WHERE s.tenant_id = NEW.tenant_id AND s.state = 'active';
  IF n >= lim THEN
    PERFORM lowcode.quota_count_rejection(NEW.tenant_id, 'sessions');
    PERFORM lowcode.raise_http(403, 'LQ433', 'session limit reached',
      format('the tenant may have at most %s active sessions', lim),
      'Sign out of other sessions, or ask the platform operator for a higher max_sessions limit.');
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lowcode.quota_session_trigger() IS
  'Enforces max_sessions on lowcode.sessions (attached when the sessions component is installed).';

DO $$
BEGIN
  IF to_regclass('lowcode.sessions') IS NOT NULL THEN
    CREATE TRIGGER lowcode_quota_sessions BEFORE INSERT ON lowcode.sessions
      FOR EACH ROW EXECUTE FUNCTION lowcode.quota_session_trigger();
  END IF;
  IF to_regclass('lowcode.submissions') IS NOT NULL THEN
    PERFORM lowcode.attach_quota_trigger('lowcode.submissions');
  END IF;
END
$$;
