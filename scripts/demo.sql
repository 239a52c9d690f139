-- The five-minute tour of pg_lowcode, run by scripts/demo.sh.
\set QUIET on
\pset footer off
\echo '== Tenants and tiers'
SELECT coalesce((SELECT id FROM lowcode.tenants WHERE slug = 'demo'),
                lowcode.create_tenant('demo', 'Demo Company', 'pro')) AS tenant \gset
SELECT slug, name, tier, status FROM lowcode.tenants WHERE slug = 'demo';

\echo '== A user table made tenant-safe'
CREATE TABLE IF NOT EXISTS public.contacts (id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, email text);
SELECT lowcode.make_tenant_table('public.contacts');
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated; END IF;
END $$;
SELECT lowcode.grant_api_role('authenticated');
GRANT SELECT, INSERT, UPDATE, DELETE ON public.contacts TO authenticated;

\echo '== A PostgREST request, replayed: the tenant comes from the verified JWT'
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
SELECT set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', :'tenant')::text, true),
       set_config('request.method', 'POST', true) \gset
SELECT lowcode.pre_request();
INSERT INTO public.contacts (name, email) VALUES ('Ada', 'ada@example.com') RETURNING name, email, tenant_id = lowcode.current_tenant() AS in_my_tenant;
COMMIT;
\echo '== Without a tenant, pre_request() answers 401 in PostgREST''s error form'
\set ON_ERROR_STOP off
BEGIN READ ONLY;
SELECT set_config('role', 'authenticated', true) \gset
SELECT lowcode.pre_request();
ROLLBACK;
\set ON_ERROR_STOP on
\echo '== ...and sees no rows at all'
BEGIN READ ONLY;
SELECT set_config('role', 'authenticated', true) \gset
SELECT count(*) AS visible_rows FROM public.contacts;
COMMIT;

\echo '== The isolation report (problems found in this database)'
SELECT severity, problem, object_name FROM lowcode.isolation_report();
