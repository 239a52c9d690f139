-- Bad input for lowcode.attach_workflow(tbl regclass, workflow text, state_col name DEFAULT 'state', key_col name DEFAULT 'id'): governs a table by a workflow.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LW005 missing, non-text or non-unique columns, a system table; LW001 bad workflow name; 42501 not the owner; regclass input 42P01.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.attach_workflow(NULL, 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', NULL)::text$$),
  ($$SELECT lowcode.attach_workflow('', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('no_such', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow(0::oid::regclass, 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('pg_class', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('lowcode.submissions', 'w')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', '')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'nope')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'n')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', 'state')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', 'state', 'n')::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w', repeat('c', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', repeat('w', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow('bi_wf', 'w' || chr(0))::text$$),
  ($$SELECT lowcode.attach_workflow(42, 'w')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
