-- Bad input for lowcode.register_workflow_function(name text, fn regprocedure): operator only, lets "call" actions call fn(jsonb) RETURNS jsonb.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW005 bad name or signature; regprocedure input 42883/42704.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.register_workflow_function(NULL, 'lower(text)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', NULL)::text$$),
  ($$SELECT lowcode.register_workflow_function('', 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('1f', 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function(repeat('f', 10000000), 'jsonb_strip_nulls(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'lower(text)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'jsonb_each(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'no_such(jsonb)')::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 0::oid::regprocedure)::text$$),
  ($$SELECT lowcode.register_workflow_function('f', 'jsonb_set(jsonb, text[], jsonb, boolean)')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
