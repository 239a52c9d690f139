-- pg_lowcode 0.2.0 -> 0.3.0 (ALTER EXTENSION pg_lowcode UPDATE).
--
-- Every change to sql/NN_*.sql since 0.2.0 goes here too, in the order of the
-- parts; test/t/003_extension_upgrade.pl compares an upgraded database with a
-- fresh install object by object (scripts/upgrade_diff.py lists what differs
-- between two install scripts).
\echo Use "ALTER EXTENSION pg_lowcode UPDATE" to load this file. \quit

-----------------------------------------------------------------------------
-- issue 13: security (tenant-escape and privilege paths)
-----------------------------------------------------------------------------
-- Every function of the extension with a fixed search_path gets pg_temp last:
-- otherwise pg_temp is searched first for relations and types, and a caller's
-- temporary table or type could shadow a name a SECURITY DEFINER function uses.
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure AS sig, substr(cfg, length('search_path=') + 1) AS path
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_lowcode'
      CROSS JOIN LATERAL pg_catalog.unnest(p.proconfig) cfg
     WHERE cfg IN ('search_path=pg_catalog, lowcode', 'search_path=pg_catalog')
  LOOP
    EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = %s, pg_temp', f.sig, f.path);
  END LOOP;
END
$$;

-- The tenant context lives in the leader process: parallel workers must not
-- evaluate current_tenant() (policies call it as an InitPlan, run by the leader).
ALTER FUNCTION lowcode.current_tenant() PARALLEL RESTRICTED;
