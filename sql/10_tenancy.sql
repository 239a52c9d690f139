-- pg_lowcode install script, part 10: tiers, tenants, the tenant context, RLS helpers.

-----------------------------------------------------------------------------
-- Tiers
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tiers (
  name                      text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  description               text,
  session_idle_timeout      interval NOT NULL CHECK (session_idle_timeout > interval '0'),
  session_absolute_lifetime interval NOT NULL CHECK (session_absolute_lifetime > interval '0'),
  requests_per_second       integer NOT NULL CHECK (requests_per_second > 0),
  request_burst             integer NOT NULL CHECK (request_burst > 0),
  max_rows                  bigint CHECK (max_rows >= 0),          -- NULL: unlimited
  max_storage_bytes         bigint CHECK (max_storage_bytes >= 0), -- NULL: unlimited
  max_sessions              integer CHECK (max_sessions >= 0),     -- NULL: unlimited
  statement_timeout         interval NOT NULL CHECK (statement_timeout >= interval '0'),
  work_mem_kb               integer NOT NULL CHECK (work_mem_kb >= 64),
  builtin                   boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE lowcode.tiers IS 'Service tiers and their limits; every value lives here, not in code.';

-- Seeded tiers are re-inserted by CREATE EXTENSION when a dump is restored;
-- the dump then carries their current values too.  An INSERT of an existing
-- tier name therefore updates it instead of failing (this is what lets
-- pg_dump/pg_restore keep an operator's changes to the seeded tiers).
CREATE FUNCTION lowcode.tiers_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  IF pg_trigger_depth() = 1 AND EXISTS (SELECT 1 FROM lowcode.tiers WHERE name = NEW.name) THEN
    UPDATE lowcode.tiers t SET
      description = NEW.description, session_idle_timeout = NEW.session_idle_timeout,
      session_absolute_lifetime = NEW.session_absolute_lifetime,
      requests_per_second = NEW.requests_per_second, request_burst = NEW.request_burst,
      max_rows = NEW.max_rows, max_storage_bytes = NEW.max_storage_bytes,
      max_sessions = NEW.max_sessions, statement_timeout = NEW.statement_timeout,
      work_mem_kb = NEW.work_mem_kb, builtin = t.builtin OR NEW.builtin
    WHERE t.name = NEW.name;
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tiers_upsert BEFORE INSERT ON lowcode.tiers
  FOR EACH ROW EXECUTE FUNCTION lowcode.tiers_upsert();

INSERT INTO lowcode.tiers (name, description, session_idle_timeout, session_absolute_lifetime,
                           requests_per_second, request_burst, max_rows, max_storage_bytes,
                           max_sessions, statement_timeout, work_mem_kb, builtin) VALUES
  ('free',       'Free tier',       '15 minutes', '8 hours',    10,   20,     10000,   104857600,    100, '5 seconds',   4096, true),
  ('pro',        'Professional',    '30 minutes', '12 hours',  100,  200,   1000000, 10737418240,  10000, '15 seconds', 16384, true),
  ('enterprise', 'Enterprise',      '2 hours',    '24 hours', 1000, 2000,      NULL,        NULL,   NULL, '60 seconds', 65536, true);

SELECT pg_catalog.pg_extension_config_dump('lowcode.tiers', '');

-----------------------------------------------------------------------------
-- Tenants
-----------------------------------------------------------------------------
CREATE TABLE lowcode.tenants (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text NOT NULL UNIQUE
             CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tier       text NOT NULL REFERENCES lowcode.tiers (name) ON UPDATE CASCADE,
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  settings   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object')
);
COMMENT ON TABLE lowcode.tenants IS 'Tenants of the platform. A tenant sees its own row only.';
SELECT pg_catalog.pg_extension_config_dump('lowcode.tenants', '');

-----------------------------------------------------------------------------
-- Tenant context
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.current_tenant() RETURNS uuid
AS 'MODULE_PATHNAME', 'lowcode_current_tenant'
LANGUAGE C STABLE PARALLEL RESTRICTED;  -- the context lives in the leader (issue 13)
COMMENT ON FUNCTION lowcode.current_tenant() IS
  'The tenant of the current request, or NULL when there is none (then every policy denies).';

CREATE FUNCTION lowcode.pre_request() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_pre_request'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode.pre_request() IS
  'PostgREST db-pre-request hook: establishes the tenant context and rejects requests without a valid, active tenant.';

ALTER TABLE lowcode.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE lowcode.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_self ON lowcode.tenants FOR SELECT
  USING (id = (SELECT lowcode.current_tenant()));
CREATE POLICY tenants_operator ON lowcode.tenants FOR ALL
  USING (pg_has_role(current_user, 'lowcode_operator', 'MEMBER'))
  WITH CHECK (pg_has_role(current_user, 'lowcode_operator', 'MEMBER'));
GRANT SELECT ON lowcode.tiers TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON lowcode.tenants, lowcode.tiers TO lowcode_operator;

-----------------------------------------------------------------------------
-- Operator functions
-----------------------------------------------------------------------------
CREATE FUNCTION lowcode.create_tenant(slug text, name text DEFAULT NULL, tier text DEFAULT 'free')
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  new_id uuid;
BEGIN
  IF slug IS NULL OR slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
    RAISE EXCEPTION USING ERRCODE = 'LT001',
      MESSAGE = format('invalid tenant slug %L', slug),
      DETAIL = 'A slug is 1 to 63 characters: lowercase letters, digits and "-", not starting or ending with "-".',
      HINT = 'For example: acme-corp';
  END IF;
  IF tier IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tiers t WHERE t.name = create_tenant.tier) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT002', MESSAGE = format('unknown tier %L', tier),
      HINT = 'The tiers are listed in lowcode.tiers.';
  END IF;
  IF EXISTS (SELECT 1 FROM lowcode.tenants t WHERE t.slug = create_tenant.slug) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT003', MESSAGE = format('a tenant with slug %L already exists', slug);
  END IF;
  IF name IS NOT NULL AND length(name) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = 'LT001', MESSAGE = 'tenant name must be 1 to 200 characters';
  END IF;
  INSERT INTO lowcode.tenants (slug, name, tier)
  VALUES (create_tenant.slug, coalesce(create_tenant.name, create_tenant.slug), create_tenant.tier)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

CREATE FUNCTION lowcode.tenant_must_exist(tenant uuid) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  IF tenant IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tenants t WHERE t.id = tenant) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT004', MESSAGE = format('no tenant with id %s', coalesce(tenant::text, 'NULL'));
  END IF;
END
$$;

CREATE FUNCTION lowcode.suspend_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.tenants SET status = 'suspended' WHERE id = tenant;
END
$$;

CREATE FUNCTION lowcode.resume_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  UPDATE lowcode.tenants SET status = 'active' WHERE id = tenant;
END
$$;

CREATE FUNCTION lowcode.set_tenant_tier(tenant uuid, tier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
BEGIN
  PERFORM lowcode.tenant_must_exist(tenant);
  IF tier IS NULL OR NOT EXISTS (SELECT 1 FROM lowcode.tiers t WHERE t.name = set_tenant_tier.tier) THEN
    RAISE EXCEPTION USING ERRCODE = 'LT002', MESSAGE = format('unknown tier %L', tier),
      HINT = 'The tiers are listed in lowcode.tiers.';
  END IF;
  UPDATE lowcode.tenants t SET tier = set_tenant_tier.tier WHERE t.id = tenant;
END
$$;

REVOKE ALL ON FUNCTION lowcode.create_tenant(text, text, text), lowcode.suspend_tenant(uuid),
  lowcode.resume_tenant(uuid), lowcode.set_tenant_tier(uuid, text), lowcode.tenant_must_exist(uuid)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.create_tenant(text, text, text), lowcode.suspend_tenant(uuid),
  lowcode.resume_tenant(uuid), lowcode.set_tenant_tier(uuid, text)
  TO lowcode_operator;
