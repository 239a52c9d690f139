-- Report of bench/jsonschema_vs_ajv.sh: per workload, the best round of each
-- side (CPU time per document), pg_lowcode beyond its scan, and the ratio;
-- fast_path_off_us: pg_lowcode with lowcode.jsonschema_fast_path off.
\set ON_ERROR_STOP 1
\pset pager off
SET search_path = vsajv, public;
\copy ajv_runs FROM pstdin
SELECT w.name AS workload, w.nrows AS docs,
       round(s.cpu_ns / 1000.0 / w.nrows, 3) AS scan_us,
       round((v.cpu_ns - s.cpu_ns) / 1000.0 / w.nrows, 3) AS pg_lowcode_us_beyond_scan,
       round(a.us::numeric, 3) AS ajv_us,
       round(((v.cpu_ns - s.cpu_ns) / 1000.0 / w.nrows / a.us)::numeric, 2) AS pg_lowcode_over_ajv,
       round((f.cpu_ns - s.cpu_ns) / 1000.0 / w.nrows, 3) AS fast_path_off_us,
       v.valid AS pg_valid, f.valid AS fast_off_valid, a.valid AS ajv_valid
FROM workloads w
JOIN pg_best s ON s.name = w.name AND s.measure = 'scan'
JOIN pg_best v ON v.name = w.name AND v.measure = 'validate'
JOIN pg_best f ON f.name = w.name AND f.measure = 'validate_full'
JOIN (SELECT name, min(us_per_doc) AS us, max(valid) AS valid FROM ajv_runs GROUP BY name) a ON a.name = w.name
ORDER BY w.ord;
