#!/usr/bin/env bash
# RLS overhead through PostgREST's replayed transaction, and the cost of current_tenant().
#
# 1,000,000 rows, 100 tenants, a table made safe with make_tenant_table, read
# through the exact transaction PostgREST sends (BEGIN READ ONLY; set_config x7;
# pre_request(); statement; COMMIT) with pgbench, one client, prepared statements:
#   - point read of one row by id, and a list read (first 50 rows of a tenant),
#     with RLS, against the same reads on an identical table with RLS off and an
#     explicit tenant_id = $1 filter.  Both variants run in ONE pgbench run,
#     each transaction choosing one at random, and the ratio of their average
#     latencies is printed (ROUNDS runs).  Goal: ratio <= 1.10.
#   - current_tenant() per call in claims mode, against
#     current_setting('request.jwt.claims', true)::jsonb ->> 'tenant_id'.
# Usage: bench/rls_overhead.sh [SECONDS_PER_RUN=10] [ROUNDS=3]
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECS=${1:-10}
ROUNDS=${2:-3}
bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

echo "loading 1,000,000 rows for 100 tenants..."
bpsql -d postgres <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'enterprise'
  FROM generate_series(1, 100) n;
CREATE TABLE items_rls (id bigint NOT NULL, title text, qty int, created_at timestamptz DEFAULT now());
SELECT lowcode.make_tenant_table('items_rls');
ALTER TABLE items_rls ADD PRIMARY KEY (tenant_id, id);
DROP INDEX items_rls_tenant_id_idx;   -- the primary key leads with tenant_id
INSERT INTO items_rls (tenant_id, id, title, qty)
SELECT ('00000000-0000-0000-0000-' || lpad((i % 100 + 1)::text, 12, '0'))::uuid, i, 'item ' || i, i % 17
  FROM generate_series(0, 999999) i;
CREATE TABLE items_plain (LIKE items_rls INCLUDING DEFAULTS);
INSERT INTO items_plain SELECT * FROM items_rls;
ALTER TABLE items_plain ADD PRIMARY KEY (tenant_id, id);
GRANT SELECT ON items_rls, items_plain TO authenticated;
VACUUM ANALYZE items_rls;
VACUUM ANALYZE items_plain;
SQL

# PostgREST's per-request transaction around a statement.
write_script() {  # name, statement
  as_server_user tee "$W/$1.sql" >/dev/null <<SCRIPT
\set t random(1, 100)
\set k random(0, 9999)
\set id :k * 100 + :t - 1
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/items', true), set_config('request.headers', '{"accept":"application/json"}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
$2
COMMIT;
SCRIPT
}
SHAPE_PRE="WITH pgrst_source AS ("
SHAPE_POST=") SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;"
TID="('00000000-0000-0000-0000-' || lpad(:t::text, 12, '0'))::uuid"
write_script point_rls   "$SHAPE_PRE SELECT * FROM items_rls WHERE id = :id $SHAPE_POST"
write_script point_plain "$SHAPE_PRE SELECT * FROM items_plain WHERE tenant_id = $TID AND id = :id $SHAPE_POST"
write_script list_rls    "$SHAPE_PRE SELECT * FROM items_rls ORDER BY id LIMIT 50 $SHAPE_POST"
write_script list_plain  "$SHAPE_PRE SELECT * FROM items_plain WHERE tenant_id = $TID ORDER BY id LIMIT 50 $SHAPE_POST"

# Check that both variants return the same rows before timing them.
bpsql -d postgres -tA <<'SQL' | grep -qx 't' || { echo "rls and plain reads differ"; exit 1; }
BEGIN;
SET LOCAL role authenticated;
SELECT set_config('request.jwt.claims', '{"tenant_id":"00000000-0000-0000-0000-000000000007"}', true);
SELECT (SELECT json_agg(x ORDER BY id) FROM (SELECT * FROM items_rls ORDER BY id LIMIT 50) x)::text
     = (SELECT json_agg(x ORDER BY id) FROM (SELECT * FROM items_plain WHERE tenant_id = '00000000-0000-0000-0000-000000000007' ORDER BY id LIMIT 50) x)::text;
COMMIT;
SQL

echo "plans (as the API role, tenant 7):"
bpsql -d postgres -tA <<'SQL' | sed 's/^/  /'
BEGIN;
SET LOCAL role authenticated;
SELECT set_config('request.jwt.claims', '{"tenant_id":"00000000-0000-0000-0000-000000000007"}', true) IS NULL;
EXPLAIN (COSTS OFF) SELECT * FROM items_rls WHERE id = 706;
EXPLAIN (COSTS OFF) SELECT * FROM items_plain WHERE tenant_id = '00000000-0000-0000-0000-000000000007' AND id = 706;
EXPLAIN (COSTS OFF) SELECT * FROM items_rls ORDER BY id LIMIT 50;
COMMIT;
SQL
echo
echo "PostgREST replayed transaction, 1 client, both variants mixed at random in one pgbench run of ${SECS}s"
echo "(each transaction picks RLS or plain, so both see the same machine noise), ROUNDS=$ROUNDS runs:"
for q in point list; do
  for r in $(seq "$ROUNDS"); do
    as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared -T "$SECS" \
      -f "$W/${q}_rls.sql@1" -f "$W/${q}_plain.sql@1" postgres 2>/dev/null |
      awk -v q="$q" '/^SQL script [0-9]+:/ { s = ($0 ~ /_rls/) ? "rls" : "plain" }
                     /latency average/ && s != "" { lat[s] = $(NF-1) }
                     END { printf "  %-5s read: RLS %7.1f us/req | explicit filter, RLS off %7.1f us/req | ratio %.3f\n", q, lat["rls"]*1000, lat["plain"]*1000, lat["rls"]/lat["plain"] }'
  done
done
echo
echo "current_tenant() per call (1,000,000 calls in one statement, median of 5, minus the empty loop):"
bpsql -d postgres -tA <<'SQL'
\o /dev/null
SELECT set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-000000000042"}', false);
CREATE TEMP TABLE timings (what text, ms float8);
CREATE FUNCTION pg_temp.t(what text, q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; i int;
BEGIN
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    INSERT INTO timings VALUES (what, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END $$;
SELECT pg_temp.t('empty', 'SELECT count(g) FROM generate_series(1, 1000000) g');
SELECT pg_temp.t('current_tenant', 'SELECT count(lowcode.current_tenant()) FROM generate_series(1, 1000000) g');
SELECT pg_temp.t('jsonb_claims', $q$SELECT count(current_setting('request.jwt.claims', true)::jsonb ->> 'tenant_id') FROM generate_series(1, 1000000) g$q$);
-- session mode: a session validated by pre_request() binds the tenant for the transaction
SET lowcode.tenant_context = 'session';
SELECT session_id AS sid, lowcode.session_proof(token) AS proof FROM lowcode.create_session('00000000-0000-0000-0000-000000000042', 'bench') \gset
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'tenant_id', '00000000-0000-0000-0000-000000000042', 'sid', :'sid', 'sid_proof', :'proof')::text, true);
SELECT lowcode.pre_request();
SELECT pg_temp.t('current_tenant_session', 'SELECT count(lowcode.current_tenant()) FROM generate_series(1, 1000000) g');
DO $$ BEGIN IF lowcode.current_tenant() IS NULL THEN RAISE EXCEPTION 'session binding lost'; END IF; END $$;
COMMIT;
RESET lowcode.tenant_context;
\o
WITH m AS (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY what)
SELECT format('  %-16s %s ns/call', what, round((ms - (SELECT ms FROM m WHERE what = 'empty'))::numeric, 1))
  FROM m WHERE what <> 'empty' ORDER BY what;
WITH m AS (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY what)
SELECT format('  ratio jsonb_claims / current_tenant (claims mode) = %s',
              round((((SELECT ms FROM m WHERE what = 'jsonb_claims') - (SELECT ms FROM m WHERE what = 'empty'))
                   / ((SELECT ms FROM m WHERE what = 'current_tenant') - (SELECT ms FROM m WHERE what = 'empty')))::numeric, 1));
SQL
