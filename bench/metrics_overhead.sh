#!/usr/bin/env bash
# The cost of the per-tenant metrics (issue 20), and a dashboard fed by a benchmark run.
#
# 1. Overhead, in ONE pgbench run per round with metrics on and off interleaved (each
#    transaction picks one at random: both see the same machine noise), 1 client,
#    prepared statements, 1,000 tenants:
#      - "pre_request": PostgREST's transaction around pre_request() alone
#        (BEGIN READ ONLY; set_config x7; pre_request(); COMMIT);
#      - "request": the same with a point read of a tenant table (GET /items?id=eq.N).
#    lowcode.metrics is switched per transaction (SET LOCAL, in both variants).
#    Goal: the difference <= 1% of a request.  Also the cost of one counting call
#    (lowcode.metrics_count, 1,000,000 calls, on minus off).
# 2. Dashboard: 60 s of mixed traffic (5 tenants with skewed load, GETs, submissions of
#    two subjects, some invalid, requests without a tenant, a rate-limited tenant) while
#    lowcode.metrics is sampled every second; the samples are rendered with gnuplot into
#    docs/operations-dashboard.png (or $METRICS_DASHBOARD_PNG), the panels of
#    monitoring/grafana-dashboard.json.
# Usage: bench/metrics_overhead.sh [SECONDS_PER_ROUND=20] [ROUNDS=3] [DASHBOARD_SECONDS=60]
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECS=${1:-20}
ROUNDS=${2:-3}
DASH_SECS=${3:-60}

# gnuplot renders the dashboard (Debian package; the benchmark installs it, not the tests)
if ! command -v gnuplot >/dev/null; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi

BENCH_CONF="lowcode.sweep_interval = '1s'" bench_start
W=$BENCH_DIR/scripts; as_server_user mkdir -p "$W"

bpsql -d postgres >/dev/null <<'SQL'
CREATE EXTENSION pg_lowcode;
CREATE ROLE authenticated;
SELECT lowcode.grant_api_role('authenticated');
INSERT INTO lowcode.tenants (id, slug, name, tier)
SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid, 't' || n, 'Tenant ' || n, 'enterprise'
  FROM generate_series(1, 1000) n;
CREATE TABLE items (id bigint NOT NULL, title text, qty int);
SELECT lowcode.make_tenant_table('items');
ALTER TABLE items ADD PRIMARY KEY (tenant_id, id);
INSERT INTO items (tenant_id, id, title, qty)
SELECT ('00000000-0000-0000-0000-' || lpad((i % 1000 + 1)::text, 12, '0'))::uuid, i, 'item ' || i, i % 17
  FROM generate_series(0, 99999) i;
GRANT SELECT ON items TO authenticated;
VACUUM ANALYZE items;
SQL

write_script() {  # name, on|off, statement
  as_server_user tee "$W/$1.sql" >/dev/null <<SCRIPT
\set t random(1, 1000)
\set k random(0, 99)
\set id :k * 1000 + :t - 1
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
select set_config('lowcode.metrics', '$2', true), set_config('search_path', '"public", "lowcode"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role":"authenticated","tenant_id":"00000000-0000-0000-0000-' || lpad(:t::text, 12, '0') || '"}', true), set_config('request.method', 'GET', true), set_config('request.path', '/items', true), set_config('request.headers', '{"accept":"application/json","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}', true), set_config('request.cookies', '{}', true);
select "lowcode"."pre_request"();
$3
COMMIT;
SCRIPT
}
POINT="WITH pgrst_source AS (SELECT * FROM items WHERE id = :id) SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;"
write_script pre_on on ""
write_script pre_off off ""
write_script request_on on "$POINT"
write_script request_off off "$POINT"

echo "== metrics overhead: 1 client, on and off interleaved in one pgbench run of ${SECS}s, $ROUNDS rounds"
echo "   (shared 2-vCPU machine, other jobs running: noisy; compare the ratios)"
for q in pre request; do
  for r in $(seq "$ROUNDS"); do
    as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -M prepared -T "$SECS" \
      -f "$W/${q}_on.sql@1" -f "$W/${q}_off.sql@1" postgres 2>/dev/null |
      awk -v q="$q" '/^SQL script [0-9]+:/ { s = ($0 ~ /_on/) ? "on" : "off" }
                     /latency average/ && s != "" { lat[s] = $(NF-1) }
                     END { printf "  %-11s metrics on %7.1f us | off %7.1f us | on/off %.4f (%+.2f%%)\n", q, lat["on"]*1000, lat["off"]*1000, lat["on"]/lat["off"], (lat["on"]/lat["off"]-1)*100 }'
  done
done

echo "== one counting call (lowcode.metrics_count, 1,000,000 calls over 1,000 tenants, median of 5, on minus off)"
bpsql -d postgres -tA <<'SQL'
CREATE TEMP TABLE timings (what text, ms float8);
CREATE FUNCTION pg_temp.t(what text, setting text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('lowcode.metrics', setting, false);
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    PERFORM count(lowcode.metrics_count(('00000000-0000-0000-0000-' || lpad((g % 1000 + 1)::text, 12, '0'))::uuid, 'rule_evaluations'))
       FROM generate_series(1, 1000000) g;
    INSERT INTO timings VALUES (what, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  PERFORM set_config('lowcode.metrics', 'on', false);
END $$;
SELECT pg_temp.t('on', 'on'), pg_temp.t('off', 'off'), pg_temp.t('on', 'on'), pg_temp.t('off', 'off');
SELECT format('  %s ns per call (on %s ms, off %s ms per 1,000,000)',
              round(((on_ms - off_ms) * 1e6 / 1e6)::numeric, 1), round(on_ms::numeric), round(off_ms::numeric))
  FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what = 'on') AS on_ms,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE what = 'off') AS off_ms
          FROM timings) s;
SQL

echo "== dashboard: ${DASH_SECS}s of mixed traffic, lowcode.metrics sampled every second"
bpsql -d postgres >/dev/null <<'SQL'
SELECT lowcode.metrics_reset();
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000005', 'requests_per_second', 20);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000005', 'request_burst', 20);
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', '00000000-0000-0000-0000-00000000000' || n)::text, false),
       lowcode.register_schema('order', '{"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}}}'),
       lowcode.register_schema('contact', '{"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}}}')
  FROM generate_series(1, 5) n;
RESET request.jwt.claims;
GRANT INSERT, SELECT ON lowcode.submissions TO authenticated;
CREATE SCHEMA bench;
-- one HTTP request as PostgREST sends it; a refusal or a failed validation is caught so that
-- pgbench goes on (the metrics count it before the error is raised)
CREATE FUNCTION bench.request(t int, kind int, r int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('request.jwt.claims', CASE WHEN kind = 9 THEN '{}'
            ELSE json_build_object('tenant_id', '00000000-0000-0000-0000-' || lpad(t::text, 12, '0'))::text END, true),
          set_config('request.headers', '{"traceparent":"00-' || md5(random()::text) || '-00f067aa0ba902b7-01"}', true);
  PERFORM lowcode.pre_request();
  IF kind <= 5 THEN
    PERFORM count(*) FROM items WHERE id = r;
  ELSIF kind <= 7 THEN
    PERFORM lowcode.submit('order', jsonb_build_object('qty', CASE WHEN r % 10 = 0 THEN 0 ELSE r % 50 + 1 END));
  ELSE
    PERFORM lowcode.submit('contact', CASE WHEN r % 4 = 0 THEN jsonb_build_object('name', 'no email')
                                           ELSE jsonb_build_object('email', 'a' || r || '@example.com') END);
  END IF;
EXCEPTION WHEN OTHERS THEN
  NULL;
END $$;
SQL
as_server_user tee "$W/mixed.sql" >/dev/null <<'SCRIPT'
\set t random_exponential(1, 5, 1.5)
\set kind random(1, 9)
\set r random(0, 99999)
SELECT bench.request(:t, :kind, :r);
SCRIPT
# the burst tenant (5) at ~40 requests/s against its limit of 20
as_server_user tee "$W/burst.sql" >/dev/null <<'SCRIPT'
\set r random(0, 99999)
SELECT bench.request(5, 1, :r);
SCRIPT
SAMPLES=$BENCH_DIR/metrics_samples.tsv
as_server_user rm -f "$SAMPLES"
( for s in $(seq 0 "$DASH_SECS"); do
    bpsql -d postgres -tA -F $'\t' -c "SELECT $s, metric, coalesce(tenant, ''), coalesce(labels->>'status', labels->>'subject', labels->>'database', ''), coalesce(labels->>'le', ''), value FROM lowcode.metrics_rows(0)" >> "$SAMPLES" || true
    sleep 1
  done ) &
SAMPLER=$!
# skewed mixed traffic all along, the burst tenant (5) at 40 requests/s against its limit of 20,
# and half way through tenant 2 gets busier
as_server_user tee "$W/busy.sql" >/dev/null <<'SCRIPT'
\set r random(0, 99999)
SELECT bench.request(2, 1, :r);
SCRIPT
half=$((DASH_SECS / 2))
as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -c 2 -T "$DASH_SECS" -R 250 -f "$W/mixed.sql" postgres >/dev/null 2>&1 &
P1=$!
as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -c 1 -T "$DASH_SECS" -R 40 -f "$W/burst.sql" postgres >/dev/null 2>&1 &
P2=$!
sleep "$half"
as_server_user "$STAGE_BIN/pgbench" -n -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -c 1 -T "$((DASH_SECS - half))" -R 150 -f "$W/busy.sql" postgres >/dev/null 2>&1 || true
wait "$P1" "$P2" "$SAMPLER" || true
DASH_PNG=${METRICS_DASHBOARD_PNG:-$TOP/docs/operations-dashboard.png}
python3 "$TOP/bench/metrics_dashboard.py" "$SAMPLES" "$DASH_PNG"
echo "  $(wc -l < "$SAMPLES") samples -> $DASH_PNG"
