-- Bad input for lowcode.set_compatibility(subject text, mode text).
-- Runs in one transaction, rolled back at the end, inside a tenant context (claims of tenant bi-reg)
-- with one subject bi.form (version 1, with an x-rule).
-- Documented (docs/errors.md): LG001 bad subject name, LG005 unknown mode, LG014 a global subject's name.
-- Documented as accepted (docs/registry.md): subject NULL sets the tenant's mode, mode NULL inherits;
-- a mode in lower case is accepted.  Those run after the check.
\getenv abs_srcdir PG_ABS_SRCDIR
\set helpers :abs_srcdir '/sql/include/helpers.sql'
\i :helpers
BEGIN;
SELECT lowcode.create_tenant('bi-reg') IS NOT NULL AS created;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', (SELECT id FROM lowcode.tenants WHERE slug = 'bi-reg'), 'sub', 'bi')::text, false) IS NOT NULL AS in_tenant_context;
SELECT lowcode.register_schema('bi.form', '{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "x-rules": [{"rule": "a < 100", "message": "a is too big", "path": "/a"}]}') IS NOT NULL AS registered;
CREATE TEMP TABLE before AS SELECT pg_temp.state() AS s;
-- Each call and its answer (SQLSTATE: message, or ok: first column).
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_compatibility('', 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility('1abc', 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility(repeat('x', 10000000), 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form' || chr(0), 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility(convert_from('\xff'::bytea, 'UTF8'), 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility(42, 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', '')::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', 'FULL ')::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', repeat('F', 10000000))::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', 'FULL' || chr(0))::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', convert_from('\xff'::bytea, 'UTF8'))::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', 42)::text$$)
) v(q);
-- Nothing the rejected calls touched has changed.
SELECT s = pg_temp.state() AS unchanged FROM before;
-- Accepted by design (see the header); these change the store, so they run after the check above.
SELECT q, pg_temp.try(q) FROM (VALUES
  ($$SELECT lowcode.set_compatibility(NULL, 'FULL')::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', NULL)::text$$),
  ($$SELECT lowcode.set_compatibility('bi.form', 'full')::text$$)
) v(q);
ROLLBACK;
