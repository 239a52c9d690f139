-- Bad input for lowcode.attach_workflow_subject(subject text, workflow text): governs the tenant's submissions of a subject by a workflow.
-- Runs in the context of include/workflow_context.sql (a tenant, a workflow bi.flow attached to a table
-- bi_wf with one record), in one transaction rolled back at the end.
-- Documented (docs/errors.md): LG001 bad subject name, LW001 bad workflow name, LW005 states that cannot be a status; PGRST LW002 (404) no such workflow.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
\set context :abs_srcdir '/sql/include/workflow_context.sql'
\i :context
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.attach_workflow_subject(NULL, 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('', 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', '')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', 'no-such')::text$$),
  ($$SELECT lowcode.attach_workflow_subject(repeat('s', 10000000), 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', repeat('w', 10000000))::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s' || chr(0), 'bi.flow')::text$$),
  ($$SELECT lowcode.attach_workflow_subject('s', 'Caps')::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
ROLLBACK;
