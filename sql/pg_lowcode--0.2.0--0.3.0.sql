-- pg_lowcode 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_lowcode UPDATE).
--
-- Every change to sql/NN_*.sql since 0.2.0 goes here too, in the order of the
-- parts; test/t/003_extension_upgrade.pl compares an upgraded database with a
-- fresh install object by object (scripts/upgrade_diff.py lists what differs
-- between two install scripts).
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-- issue 15: forms: x-rules at any level (self, oldSelf, has(), messages, severity), checked in C
CREATE OR REPLACE FUNCTION lowcode.registry_check_rules(schema jsonb, subject text, base text DEFAULT '') RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_registry_check_rules'
LANGUAGE C STABLE;
