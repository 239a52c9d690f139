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
  builtin                   boolean NOT NULL DEFAULT false,
  max_workflow_instances    bigint CHECK (max_workflow_instances >= 0), -- NULL: unlimited (issue 19)
  max_workflow_timers       bigint CHECK (max_workflow_timers >= 0)     -- NULL: unlimited
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
      work_mem_kb = NEW.work_mem_kb, builtin = t.builtin OR NEW.builtin,
      max_workflow_instances = NEW.max_workflow_instances, max_workflow_timers = NEW.max_workflow_timers
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
                           max_sessions, statement_timeout, work_mem_kb, builtin,
                           max_workflow_instances, max_workflow_timers) VALUES
  ('free',       'Free tier',       '15 minutes', '8 hours',    10,   20,     10000,   104857600,    100, '5 seconds',   4096, true,    10000,    10000),
  ('pro',        'Professional',    '30 minutes', '12 hours',  100,  200,   1000000, 10737418240,  10000, '15 seconds', 16384, true,  1000000,  2000000),
  ('enterprise', 'Enterprise',      '2 hours',    '24 hours', 1000, 2000,      NULL,        NULL,   NULL, '60 seconds', 65536, true,     NULL,     NULL);

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

-- A tenant's default language of messages (settings ->> 'locale', read by
-- the registry's validation when the request has no supported Accept-Language).
-- The supported locales are those of the validator's messages (src/jsonschema,
-- ajv-i18n's texts); a tag is taken by its primary subtag, as Accept-Language
-- is (de-CH is de, pt-PT pt-BR), and stored in its canonical form.
CREATE FUNCTION lowcode.tenant_locale_canonical(locale text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c text;
BEGIN
  IF locale ~ '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,7}$' THEN
    c := CASE lower(split_part(replace(locale, '_', '-'), '-', 1))
           WHEN 'en' THEN 'en' WHEN 'zh' THEN 'zh-CN' WHEN 'de' THEN 'de' WHEN 'es' THEN 'es'
           WHEN 'fr' THEN 'fr' WHEN 'ja' THEN 'ja' WHEN 'pt' THEN 'pt-BR' END;
  END IF;
  IF c IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LT009',
      MESSAGE = format('unsupported locale %s', CASE WHEN length(locale) > 40 THEN quote_literal(left(locale, 40)) || '...'
                                                     ELSE quote_literal(locale) END),
      DETAIL = 'The messages exist in en, zh-CN, de, es, fr, ja and pt-BR (a language tag such as de-CH counts as its language).',
      HINT = 'Give one of them, or NULL to remove the tenant''s default (messages then follow the setting lowcode.locale).';
  END IF;
  RETURN c;
END
$$;

CREATE FUNCTION lowcode.tenant_locale_store(tenant uuid, locale text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  c text := CASE WHEN locale IS NULL THEN NULL ELSE lowcode.tenant_locale_canonical(locale) END;
BEGIN
  UPDATE lowcode.tenants t
     SET settings = CASE WHEN c IS NULL THEN t.settings - 'locale' ELSE t.settings || jsonb_build_object('locale', c) END
   WHERE t.id = tenant;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'LT004', MESSAGE = format('no tenant with id %s', coalesce(tenant::text, 'NULL'));
  END IF;
  RETURN c;
END
$$;

-- An operator, for any tenant.
CREATE FUNCTION lowcode.set_tenant_locale(tenant uuid, locale text) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
  SELECT lowcode.tenant_locale_store(tenant, locale)
$$;
COMMENT ON FUNCTION lowcode.set_tenant_locale(uuid, text) IS
  'Operators: set a tenant''s default language of messages (en, zh-CN, de, es, fr, ja, pt-BR; NULL removes it); returns the stored locale.';

-- The tenant itself, in its request (as it sets its registry's compatibility mode).
CREATE FUNCTION lowcode.set_tenant_locale(locale text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lowcode, pg_temp AS $$
DECLARE
  t uuid := lowcode.current_tenant();
BEGIN
  IF t IS NULL THEN
    PERFORM lowcode.raise_http(401, 'LT401', 'no tenant for this request',
      'lowcode.set_tenant_locale(locale) sets the current tenant''s default language, and there is no tenant context',
      'Call it in a request (after lowcode.pre_request()), or as an operator call set_tenant_locale(tenant, locale).');
  END IF;
  RETURN lowcode.tenant_locale_store(t, locale);
END
$$;
COMMENT ON FUNCTION lowcode.set_tenant_locale(text) IS
  'The current tenant''s default language of messages (en, zh-CN, de, es, fr, ja, pt-BR; NULL removes it), used when a request has no supported Accept-Language; returns the stored locale.';

REVOKE ALL ON FUNCTION lowcode.tenant_locale_store(uuid, text), lowcode.set_tenant_locale(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.set_tenant_locale(uuid, text) TO lowcode_operator;
INSERT INTO lowcode.api_grants (object_type, object_name, privileges) VALUES
  ('FUNCTION', 'lowcode.set_tenant_locale(text)', 'EXECUTE');
