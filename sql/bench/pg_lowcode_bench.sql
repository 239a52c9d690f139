-- pg_lowcode benchmark-only functions: not part of the extension's API.
--
-- Installed by "make install LOWCODE_BENCH=1" (which also compiles their
-- bodies, src/quota/quota_bench.c) and run by the benchmarks under bench/
-- as a superuser after CREATE EXTENSION pg_lowcode:
--   psql -f "$(pg_config --sharedir)/extension/pg_lowcode_bench.sql"
-- They live in their own schema, outside the extension, so that DROP
-- EXTENSION leaves them (drop the schema) and no tenant role can call them.

CREATE SCHEMA IF NOT EXISTS lowcode_bench;
REVOKE ALL ON SCHEMA lowcode_bench FROM PUBLIC;

CREATE OR REPLACE FUNCTION lowcode_bench.quota_check_cost(tenant uuid, iterations int,
                                         OUT check_ns float8, OUT empty_ns float8, OUT admitted bigint)
AS '$libdir/pg_lowcode', 'lowcode_quota_check_cost' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode_bench.quota_check_cost(uuid, int) IS
  'Benchmark: nanoseconds per rate check of pre_request() on the tenant''s bucket (it takes tokens), against an empty loop.';

CREATE OR REPLACE FUNCTION lowcode_bench.quota_check_cost(tenants uuid[], iterations int,
                                         OUT check_ns float8, OUT empty_ns float8, OUT admitted bigint)
AS '$libdir/pg_lowcode', 'lowcode_quota_check_cost_spread' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION lowcode_bench.quota_check_cost(uuid[], int) IS
  'Benchmark: nanoseconds per rate check over many tenants'' buckets in a pseudo-random order, against an empty loop.';

REVOKE ALL ON FUNCTION lowcode_bench.quota_check_cost(uuid, int),
  lowcode_bench.quota_check_cost(uuid[], int) FROM PUBLIC;
