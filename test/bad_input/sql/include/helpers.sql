\set ECHO none
-- Helpers of the bad-input suite (test/bad_input), included by every test file with \i.
-- They live in pg_temp, so they vanish with the session and never touch the extension.
--
-- pg_temp.try(query): runs one statement and answers 'ok: <first column>' or
-- '<SQLSTATE>: <message>'.  Long values and messages are cut to 120 characters and
-- their full length is shown (pg_temp.cut), so a message that echoes a 10 MB input is visible.
-- Internal errors (XX000) and undocumented codes show up in the expected output.
SET client_min_messages = warning;
-- uuids other than the all-zero one are generated, so they are masked.
CREATE FUNCTION pg_temp.cut(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT regexp_replace(CASE WHEN length(t) > 120 THEN left(t, 120) || '...(' || length(t) || ' chars)' ELSE t END,
                         '(?!00000000-0000-0000-0000-000000000000)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
                         '<uuid>', 'g') $$;
CREATE FUNCTION pg_temp.try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE query INTO r;
  RETURN 'ok: ' || coalesce(pg_temp.cut(r), 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || pg_temp.cut(SQLERRM);
END $$;
-- pg_temp.state(): row counts of every extension table, to show that a rejected call changed nothing.
-- Usage accounting (tenant_usage*, tenant_storage) is left out: the database worker flushes the
-- shared-memory counters of any earlier test into it at any time.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t record;
  n bigint;
  s text := '';
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c
           WHERE c.relnamespace = 'lowcode'::regnamespace AND c.relkind IN ('r', 'p')
             AND c.relname NOT IN ('tenant_usage', 'tenant_usage_daily', 'tenant_storage')
           ORDER BY c.relname LOOP
    EXECUTE format('SELECT count(*) FROM lowcode.%I', t.relname) INTO n;
    s := s || t.relname || '=' || n || ' ';
  END LOOP;
  RETURN s;
END $$;
-- Huge and deeply nested inputs, built once per session.
CREATE FUNCTION pg_temp.deep_array(depth int) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (repeat('[', depth) || repeat(']', depth))::jsonb $$;
CREATE FUNCTION pg_temp.deep_object(depth int) RETURNS jsonb LANGUAGE sql AS
$$ SELECT (repeat('{"a":', depth) || '1' || repeat('}', depth))::jsonb $$;
CREATE FUNCTION pg_temp.many_keys(n int) RETURNS jsonb LANGUAGE sql AS
$$ SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, n) i $$;
CREATE FUNCTION pg_temp.big_array(n int) RETURNS jsonb LANGUAGE sql AS
$$ SELECT to_jsonb(array_agg(i)) FROM generate_series(1, n) i $$;
RESET client_min_messages;
-- Results print as "call => result", one line each.
\pset format unaligned
\pset fieldsep ' => '
\pset tuples_only on
\set ECHO all
