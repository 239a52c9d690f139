-- The signed tenant context (issue 17, src/tenancy/tenancy_context.c) on one
-- node: what a Citus worker verifies.  pre_request() publishes it only when
-- lowcode.context_secret is set; current_tenant() refuses (LT012) any context
-- that does not verify; the API role can neither read the secret nor make a
-- context for another tenant.
\set VERBOSITY terse
SELECT lowcode.create_tenant('ctx-a', NULL, 'enterprise') AS ta \gset
SELECT lowcode.create_tenant('ctx-b', NULL, 'enterprise') AS tb \gset
CREATE ROLE ctx_api NOLOGIN;
SELECT lowcode.grant_api_role('ctx_api');

-- without a secret: nothing is published (a single node needs none)
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT current_setting('lowcode.context') = '' AS no_context_published;
ROLLBACK;

-- with the secret: pre_request() publishes v1:<tenant>:<expiry>:<max_rows>:<max_storage_bytes>:<hmac>
-- (the enterprise tier has no row or storage limit: -1)
SET lowcode.context_secret = 'regress-secret';
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT current_setting('lowcode.context') ~ ('^v1:' || :'ta' || ':[0-9]+:-1:-1:[0-9a-f]{64}$') AS signed;
SELECT current_setting('lowcode.context') AS ctx \gset
SELECT lowcode.current_tenant() = :'ta' AS tenant_a;
ROLLBACK;

-- a fresh transaction with only the context (as a worker sees it): verified
BEGIN;
SET LOCAL lowcode.context = :'ctx';
SELECT lowcode.current_tenant() = :'ta' AS verified_on_its_own;
ROLLBACK;

\set VERBOSITY default
-- forgeries: another tenant under A's signature, a bad signature, garbage, an expired context
BEGIN;
SELECT set_config('lowcode.context', replace(:'ctx', :'ta', :'tb'), true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SELECT set_config('lowcode.context', left(:'ctx', -1) || CASE WHEN right(:'ctx', 1) = '0' THEN '1' ELSE '0' END, true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
-- limits changed under the signature: the signature no longer matches
BEGIN;
SELECT set_config('lowcode.context', replace(:'ctx', ':-1:-1:', ':5:-1:'), true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SELECT set_config('lowcode.context', replace(:'ctx', ':-1:-1:', ':-2:-1:'), true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SELECT set_config('lowcode.context', replace(:'ctx', ':-1:-1:', ':-1:1e9:'), true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SET LOCAL lowcode.context = 'v1:garbage';
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SET LOCAL lowcode.context = 'v1:not-a-uuid:1:-1:-1:00';
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SET LOCAL lowcode.context = 'v2:00000000-0000-0000-0000-000000000000:1:00';
SELECT lowcode.current_tenant();
ROLLBACK;
BEGIN;
SELECT set_config('lowcode.context', regexp_replace(:'ctx', ':[0-9]+:', ':12x:'), true) IS NOT NULL AS set;
SELECT lowcode.current_tenant();
ROLLBACK;
-- an expired context: signed with a lifetime of 1 second, used 2 seconds later
SET lowcode.context_lifetime = '1s';
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT current_setting('lowcode.context') AS short_ctx \gset
ROLLBACK;
RESET lowcode.context_lifetime;
SELECT pg_sleep(2.1);
BEGIN;
SET LOCAL lowcode.context = :'short_ctx';
SELECT lowcode.current_tenant();
ROLLBACK;

-- a node without the secret refuses any context
RESET lowcode.context_secret;
BEGIN;
SET LOCAL lowcode.context = :'ctx';
SELECT lowcode.current_tenant();
ROLLBACK;
SET lowcode.context_secret = 'regress-secret';

\set VERBOSITY terse
-- the API role: cannot read or set the secret; a context it sets itself must verify
SET ROLE ctx_api;
SELECT current_setting('lowcode.context_secret');
SET lowcode.context_secret = 'mine';
BEGIN;
SET LOCAL lowcode.context = 'v1:00000000-0000-0000-0000-000000000000:9999999999:0000000000000000000000000000000000000000000000000000000000000000';
SELECT lowcode.current_tenant();
ROLLBACK;
-- claims set by the role after pre_request(): the pinned tenant stays, and so does the signed context
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'ta')::text, true) IS NOT NULL AS set;
SELECT lowcode.pre_request();
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'tb')::text, true) IS NOT NULL AS set;
SELECT lowcode.current_tenant() = :'ta' AS still_a;
SELECT split_part(current_setting('lowcode.context'), ':', 2) = :'ta' AS context_still_a;
ROLLBACK;
RESET ROLE;
RESET lowcode.context_secret;
DROP OWNED BY ctx_api;
DROP ROLE ctx_api;
DELETE FROM lowcode.tenants WHERE slug IN ('ctx-a', 'ctx-b');
