#!/usr/bin/env bash
# Cost of the row/storage quota trigger on inserts and deletes.
#
# A table made with make_tenant_table (so with the lowcode_quota trigger),
# one tenant with max_rows and max_storage_bytes set (so every row is counted
# and checked); INSERT ... SELECT of ROWS rows and DELETE of them, with the
# trigger enabled and disabled (ALTER TABLE ... DISABLE TRIGGER), alternating
# ROUNDS times; medians and the cost per row.
# Usage: bench/quota_rows.sh [ROWS=100000] [ROUNDS=3]
set -euo pipefail
BENCH_PORT=${BENCH_PORT:-55463}
source "$(dirname "$0")/common.sh"
ROWS=${1:-100000}
ROUNDS=${2:-3}
bench_start

bpsql -d postgres <<SQL
CREATE EXTENSION pg_lowcode;
INSERT INTO lowcode.tenants (id, slug, name, tier) VALUES ('00000000-0000-0000-0000-000000000001', 'rows', 'Rows', 'pro');
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000001', 'max_rows', 100000000);
SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000001', 'max_storage_bytes', 100000000000);
CREATE TABLE items (id bigint NOT NULL, title text, qty int);
SELECT lowcode.make_tenant_table('items');
ALTER TABLE items ADD PRIMARY KEY (tenant_id, id);
CREATE TABLE runs (mode text, op text, ms float8);
CREATE PROCEDURE run(mode text) LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; t1 timestamptz; t2 timestamptz;
BEGIN
  EXECUTE format('ALTER TABLE items %s TRIGGER lowcode_quota', CASE WHEN mode = 'on' THEN 'ENABLE' ELSE 'DISABLE' END);
  PERFORM set_config('request.jwt.claims', '{"tenant_id":"00000000-0000-0000-0000-000000000001"}', false);
  COMMIT;
  t0 := clock_timestamp();
  INSERT INTO items (id, title, qty) SELECT g, 'item ' || g, g % 17 FROM generate_series(1, $ROWS) g;
  COMMIT;
  t1 := clock_timestamp();
  DELETE FROM items;
  COMMIT;
  t2 := clock_timestamp();
  INSERT INTO runs VALUES (mode, 'insert', extract(epoch FROM t1 - t0) * 1000), (mode, 'delete', extract(epoch FROM t2 - t1) * 1000);
  COMMIT;
END \$\$;
SQL
for r in $(seq 1 "$ROUNDS"); do
  bpsql -d postgres -c "CALL run('on')" -c "CALL run('off')" -c "VACUUM items"
done
bpsql -d postgres <<SQL
SELECT op, mode, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
       string_agg(round(ms::numeric)::text, ' ' ORDER BY ms) AS runs_ms
  FROM runs GROUP BY op, mode ORDER BY op DESC, mode DESC;
SELECT op, round(((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE mode = 'on')
               - percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE mode = 'off')) * 1000 / $ROWS)::numeric, 2)
         AS trigger_us_per_row,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE mode = 'on')
            / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE mode = 'off'))::numeric, 2) AS ratio
  FROM runs GROUP BY op ORDER BY op DESC;
SELECT rows_used, rows_inserted, rows_deleted FROM lowcode.tenant_stats;
SQL
