#!/usr/bin/env python3
"""Render the panels of monitoring/grafana-dashboard.json from lowcode.metrics samples.

Input: a TSV of samples taken once a second by bench/metrics_overhead.sh
(second, metric, tenant, label, le, value).  Output: a PNG drawn by gnuplot
(Debian's gnuplot-nox), the same queries as the Grafana panels:
  - requests per second per tenant       rate(lowcode_requests_admitted_total[5s])
  - refusals per second by status        sum by (status) (rate(lowcode_requests_refused_total[5s]))
  - validation failures per s by subject sum by (subject) (rate(lowcode_subject_validation_failures_total[5s]))
  - latency quantiles p50/p95/p99        histogram_quantile(q, sum by (le) (rate(..._bucket[5s])))
  - worker lag per database              lowcode_worker_lag_seconds
Standard library only.
"""
import collections
import os
import subprocess
import sys
import tempfile

WINDOW = 5  # seconds, as a rate()/[5s] range

def load(path):
    series = collections.defaultdict(dict)  # (metric, tenant, label, le) -> {second: value}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 6:
                continue
            s, metric, tenant, label, le, value = parts
            series[(metric, tenant, label, le)][int(s)] = float(value)
    return series

def rate(points, t):
    if t - WINDOW not in points or t not in points:
        return None
    return max(0.0, points[t] - points[t - WINDOW]) / WINDOW

def grouped_rates(series, metric, key):
    """{group: {t: rate}} summed over series of metric grouped by key(tenant, label)."""
    out = collections.defaultdict(lambda: collections.defaultdict(float))
    seconds = sorted({t for k, v in series.items() if k[0] == metric for t in v})
    for (m, tenant, label, le), pts in series.items():
        if m != metric:
            continue
        g = key(tenant, label)
        for t in seconds:
            r = rate(pts, t)
            if r is not None:
                out[g][t] += r
    return out

def quantiles(series, qs):
    buckets = collections.defaultdict(dict)  # le -> {t: summed cumulative count}
    for (m, tenant, label, le), pts in series.items():
        if m != "lowcode_request_duration_seconds_bucket":
            continue
        for t, v in pts.items():
            buckets[le][t] = buckets[le].get(t, 0.0) + v
    les = sorted(buckets, key=lambda x: float("inf") if x == "+Inf" else float(x))
    seconds = sorted({t for b in buckets.values() for t in b})
    out = {q: {} for q in qs}
    for t in seconds:
        if t - WINDOW not in buckets.get("+Inf", {}):
            continue
        d = [(le, buckets[le].get(t, 0) - buckets[le].get(t - WINDOW, 0)) for le in les]
        total = d[-1][1]
        if total <= 0:
            continue
        for q in qs:
            rank, prev_le, prev_c = q * total, 0.0, 0.0
            for le, c in d:
                if c >= rank:
                    if le == "+Inf":
                        out[q][t] = prev_le * 1000
                    else:
                        hi = float(le)
                        frac = (rank - prev_c) / (c - prev_c) if c > prev_c else 1
                        out[q][t] = (prev_le + (hi - prev_le) * frac) * 1000
                    break
                prev_le, prev_c = (float(le) if le != "+Inf" else prev_le), c
    return out

def short(tenant):
    return tenant if tenant in ("none", "other") else "tenant " + tenant.lstrip("0-")

def main():
    samples, png = sys.argv[1], sys.argv[2]
    series = load(samples)
    tmp = tempfile.mkdtemp()
    panels = []

    def write(name, groups, title, ylabel, top=None):
        items = sorted(groups.items(), key=lambda kv: -sum(kv[1].values()))
        if top:
            items = items[:top]
        files = []
        for i, (g, pts) in enumerate(items):
            fn = os.path.join(tmp, f"{name}_{i}.dat")
            with open(fn, "w") as f:
                for t in sorted(pts):
                    f.write(f"{t} {pts[t]}\n")
            files.append((fn, str(g)))
        panels.append((title, ylabel, files))

    write("traffic", grouped_rates(series, "lowcode_requests_admitted_total", lambda t, l: short(t)),
          "Requests admitted per second, per tenant", "req/s", top=6)
    write("refused", grouped_rates(series, "lowcode_requests_refused_total", lambda t, l: "HTTP " + l),
          "Refusals per second, by status", "req/s")
    write("valfail", grouped_rates(series, "lowcode_subject_validation_failures_total", lambda t, l: l),
          "Validation failures per second, by subject", "failures/s")
    q = quantiles(series, [0.5, 0.95, 0.99])
    write("latency", {"p50": q[0.5], "p95": q[0.95], "p99": q[0.99]},
          "Request latency quantiles (pre_request to commit)", "ms")
    lag = collections.defaultdict(dict)
    for (m, tenant, label, le), pts in series.items():
        if m == "lowcode_worker_lag_seconds":
            lag[label] = pts
    write("lag", lag, "Worker lag (seconds since the last sweep)", "s")

    gp = [f"set terminal pngcairo size 1500,950 font 'DejaVu Sans,10'",
          f"set output '{png}'", "set termoption noenhanced",
          "set multiplot layout 3,2 title 'pg_lowcode metrics during bench/metrics_overhead.sh (the panels of monitoring/grafana-dashboard.json)'",
          "set key outside right top", "set grid", "set xlabel 'seconds'", "set style data lines"]
    for title, ylabel, files in panels:
        gp.append(f"set title '{title}'")
        gp.append(f"set ylabel '{ylabel}'")
        if files:
            gp.append("plot " + ", ".join(f"'{fn}' using 1:2 title '{t}' lw 2" for fn, t in files))
        else:
            gp.append("plot NaN title 'no data'")
    gp.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(gp), text=True, check=True)

main()
