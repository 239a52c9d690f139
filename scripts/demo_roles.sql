-- PostgREST's roles (docs/postgrest.md), created by scripts/demo.sh before
-- scripts/api_schema.sql and scripts/demo.sql; also the setup of the test of
-- the docs' SQL examples (test/t/350_doc_examples.pl).  Idempotent.
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
END $$;
GRANT anon, authenticated TO authenticator;
