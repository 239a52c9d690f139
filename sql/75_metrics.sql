-- pg_lowcode install script, part 75: per-tenant metrics for Prometheus (src/metrics, docs/operations.md).

-- One row per sample: metric name as Prometheus spells it, its type, the tenant label
-- (NULL for metrics that have none), the other labels, and the value.  At most top_n
-- tenants per series (NULL: lowcode.metrics_top_n; 0: all); the others are summed under
-- tenant 'other'.  Needs pg_lowcode in shared_preload_libraries (55000 otherwise).
CREATE FUNCTION lowcode.metrics_rows(top_n integer DEFAULT NULL,
                                     OUT metric text, OUT type text, OUT tenant text,
                                     OUT labels jsonb, OUT value double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'lowcode_metrics_rows'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_rows(integer) IS
  'The per-tenant metrics, one row per Prometheus sample, top_n tenants per series (others summed as tenant "other").';

CREATE VIEW lowcode.metrics AS SELECT * FROM lowcode.metrics_rows();
COMMENT ON VIEW lowcode.metrics IS
  'The per-tenant metrics, one row per metric and labels (lowcode.metrics_top_n tenants per series).';

-- The same samples in the Prometheus text exposition format (version 0.0.4).
CREATE FUNCTION lowcode.metrics_prometheus(top_n integer DEFAULT NULL) RETURNS text
AS 'MODULE_PATHNAME', 'lowcode_metrics_prometheus'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_prometheus(integer) IS
  'The per-tenant metrics in the Prometheus text format.';

CREATE FUNCTION lowcode.metrics_count(tenant uuid, metric text, n bigint DEFAULT 1) RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_metrics_count'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_count(uuid, text, bigint) IS
  'Add n to a per-tenant counter (short names: requests_admitted, sessions_created, ...).';

CREATE FUNCTION lowcode.metrics_reset() RETURNS void
AS 'MODULE_PATHNAME', 'lowcode_metrics_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION lowcode.metrics_reset() IS 'Forget every metric (counters start again at zero).';

-- Sessions created, expired and revoked, per tenant.
CREATE FUNCTION lowcode.metrics_session_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'lowcode_metrics_session_trigger'
LANGUAGE C;
CREATE TRIGGER sessions_metrics_insert AFTER INSERT ON lowcode.sessions
  FOR EACH ROW EXECUTE FUNCTION lowcode.metrics_session_trigger();
CREATE TRIGGER sessions_metrics_update AFTER UPDATE OF state ON lowcode.sessions
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION lowcode.metrics_session_trigger();

-- Every tenant's traffic: operators and monitoring roles only.
REVOKE ALL ON FUNCTION lowcode.metrics_rows(integer), lowcode.metrics_prometheus(integer),
  lowcode.metrics_count(uuid, text, bigint), lowcode.metrics_reset(),
  lowcode.metrics_session_trigger() FROM PUBLIC;
REVOKE ALL ON lowcode.metrics FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lowcode.metrics_rows(integer), lowcode.metrics_prometheus(integer)
  TO lowcode_operator, pg_monitor;
GRANT SELECT ON lowcode.metrics TO lowcode_operator, pg_monitor;
GRANT EXECUTE ON FUNCTION lowcode.metrics_count(uuid, text, bigint), lowcode.metrics_reset() TO lowcode_operator;
