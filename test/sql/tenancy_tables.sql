-- make_tenant_table, grant_api_role, isolation_report, events, trace ids.
\set VERBOSITY terse
SELECT lowcode.create_tenant('tt-one') AS t1 \gset
SELECT lowcode.create_tenant('tt-two') AS t2 \gset

-- an empty table: column, index, RLS, policies
CREATE TABLE items (id serial, name text, UNIQUE (name));
SELECT lowcode.make_tenant_table('items');
\d items
SELECT polname, polcmd, pg_get_expr(polqual, polrelid) AS using, pg_get_expr(polwithcheck, polrelid) AS check
  FROM pg_policy WHERE polrelid = 'items'::regclass ORDER BY polname;
-- idempotent: a second call changes nothing and creates no second index
SELECT lowcode.make_tenant_table('items');
SELECT count(*) AS tenant_indexes FROM pg_index WHERE indrelid = 'items'::regclass AND indkey[0] = 3;

-- a table with rows needs the owner of those rows
CREATE TABLE legacy (id int PRIMARY KEY);
INSERT INTO legacy VALUES (1), (2);
SELECT lowcode.make_tenant_table('legacy');
SELECT lowcode.make_tenant_table('legacy', '00000000-0000-0000-0000-000000000009');
SELECT lowcode.make_tenant_table('legacy', :'t1');
SELECT count(*) FILTER (WHERE tenant_id = :'t1') AS owned FROM legacy;
SELECT pg_get_expr(adbin, adrelid) AS tenant_default FROM pg_attrdef
  WHERE adrelid = 'legacy'::regclass AND adnum = 2;

-- bad input
SELECT lowcode.make_tenant_table(NULL);
CREATE VIEW v AS SELECT 1 AS x;
SELECT lowcode.make_tenant_table('v');
CREATE TABLE wrongtype (tenant_id text);
SELECT lowcode.make_tenant_table('wrongtype');
CREATE TABLE nulls (tenant_id uuid);
INSERT INTO nulls VALUES (NULL);
SELECT lowcode.make_tenant_table('nulls');
SELECT lowcode.make_tenant_table('lowcode.tenants');
SELECT relrowsecurity FROM pg_class WHERE relname IN ('wrongtype', 'nulls');

-- rows are written to and read from the current tenant only
SET ROLE lowcode_operator;
RESET ROLE;
CREATE ROLE tt_api;
SELECT lowcode.grant_api_role('tt_api');
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO tt_api;
GRANT USAGE ON SEQUENCE items_id_seq TO tt_api;
SET ROLE tt_api;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'t1')::text, false) IS NOT NULL AS ctx;
INSERT INTO items (name) VALUES ('one-a'), ('one-b');
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'t2')::text, false) IS NOT NULL AS ctx;
INSERT INTO items (name) VALUES ('two-a');
SELECT name FROM items ORDER BY name;
UPDATE items SET tenant_id = :'t1';
INSERT INTO items (name, tenant_id) VALUES ('x', :'t1');
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS no_ctx;
SELECT count(*) AS visible_without_context FROM items;
INSERT INTO items (name) VALUES ('orphan');
-- API roles cannot call operator functions
SELECT lowcode.create_tenant('sneaky');
SELECT lowcode.make_tenant_table('items');
SELECT * FROM lowcode.isolation_report();
RESET ROLE;
SELECT tenant_id = :'t1' AS is_t1, name FROM items ORDER BY name;

-- an API role that is an operator sees every tenant through operator policies
GRANT lowcode_operator TO tt_api;
SELECT problem, object_name FROM lowcode.isolation_report() WHERE problem = 'api_role_is_operator';
REVOKE lowcode_operator FROM tt_api;
SELECT count(*) AS operator_problems FROM lowcode.isolation_report() WHERE problem = 'api_role_is_operator';
-- the extension's own operator policies are not reported as open
SELECT count(*) AS open_extension_policies FROM lowcode.isolation_report()
 WHERE problem = 'policy_not_tenant_scoped' AND object_name LIKE '%lowcode.%';

-- grant_api_role refuses roles that bypass RLS, and unknown roles
CREATE ROLE tt_bypass BYPASSRLS;
SELECT lowcode.grant_api_role('tt_bypass');
SELECT lowcode.grant_api_role('no_such_role');
SELECT role_name FROM lowcode.api_roles WHERE role_name LIKE 'tt\_%' ORDER BY 1;

-- events and trace ids
SELECT set_config('request.headers', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}', false) IS NOT NULL AS h;
SELECT lowcode.current_trace_id();
SELECT set_config('request.headers', '{"traceparent": "garbage"}', false) IS NOT NULL AS h;
SELECT lowcode.current_trace_id() IS NULL AS invalid_traceparent_ignored;
SELECT set_config('request.headers', 'not json', false) IS NOT NULL AS h;
SELECT lowcode.current_trace_id() IS NULL AS malformed_headers_ignored;
SELECT set_config('request.headers', '', false) IS NOT NULL AS h;
SELECT lowcode.emit_event(:'t1', 'form.created', '{"x": 1}') > 0 AS emitted;
SELECT lowcode.emit_event(:'t1', 'Bad Type');
SELECT lowcode.emit_event(NULL, 'a.b');
SELECT tenant_id = :'t1' AS mine, type, payload FROM lowcode.events WHERE tenant_id IN (:'t1', :'t2') ORDER BY id;

-- problems the report sees
SELECT problem, object_name FROM lowcode.isolation_report()
 WHERE object_name ~ '(items|legacy|wrongtype|nulls)' ORDER BY 1, 2;

DROP TABLE items, legacy, wrongtype, nulls;
DROP VIEW v;
DROP OWNED BY tt_api, tt_bypass;
DROP ROLE tt_api, tt_bypass;
DELETE FROM lowcode.api_roles WHERE role_name = 'tt_api';
