#!/usr/bin/env python3
"""Helpers of compare_prometheus.sh (python3 stdlib only).

  wait-series URL QUERY EXPECTED TIMEOUT_S
      Polls Prometheus's query API until QUERY returns the single value
      EXPECTED; prints the Unix time at which it did. Exit 1 on timeout.
  collect URL FULL_FROM EVALS TIMEOUT_S OUT_JSON
      Polls /api/v1/rules until every rule group has EVALS evaluations that
      started at or after the Unix time FULL_FROM (the query window full of
      samples), then reads Prometheus's own /metrics. Writes OUT_JSON.
  table PROM_JSON BASELINE_RSS VIGIL_JSON STORE_TXT
      Prints the side-by-side table.
"""
import datetime
import json
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def query(base, expr):
    data = json.loads(get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    return data["data"]["result"]


def wait_series(base, expr, expected, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            result = query(base, expr)
            if result and float(result[0]["value"][1]) == expected:
                print(f"{time.time():.3f}")
                return 0
        except OSError:
            pass
        time.sleep(0.5)
    print(f"timed out waiting for {expr} == {expected:g}", file=sys.stderr)
    return 1


def parse_time(text):
    # RFC 3339 with up to nanoseconds ("2026-11-28T08:30:01.123456789Z").
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        raise ValueError(f"bad time {text!r}")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.datetime.fromisoformat(m.group(1) + zone).timestamp()
    return base + float("0." + (m.group(2) or "0"))


def own_metrics(base):
    """Prometheus's /metrics as {name{labels}: value}, the lines we need."""
    wanted = ("process_resident_memory_bytes", "prometheus_tsdb_head_series ",
              "prometheus_tsdb_head_samples_appended_total",
              "prometheus_rule_group_last_duration_seconds")
    out = {}
    for line in get(f"{base}/metrics").splitlines():
        if line.startswith(wanted):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def collect(base, full_from, evals, timeout, out_path):
    deadline = time.time() + timeout
    seen = {}  # group -> {lastEvaluation: (group seconds, rule query, samples)}
    while True:
        groups = json.loads(get(f"{base}/api/v1/rules"))["data"]["groups"]
        for g in groups:
            runs = seen.setdefault(g["name"], {})
            started = parse_time(g["lastEvaluation"])
            if started >= full_from and g["evaluationTime"] > 0:
                rule = g["rules"][0]
                runs[g["lastEvaluation"]] = {"seconds": g["evaluationTime"], "query": rule["query"],
                                             "health": rule["health"]}
        if seen and all(len(runs) >= evals for runs in seen.values()):
            break
        if time.time() > deadline:
            print("timed out collecting rule evaluations: " +
                  ", ".join(f"{k}={len(v)}" for k, v in seen.items()), file=sys.stderr)
            return 1
        time.sleep(1)
    result = {"groups": {}, "metrics": own_metrics(base)}
    for g in groups:
        runs = seen[g["name"]]
        health = sorted({r["health"] for r in runs.values()})
        if health != ["ok"]:
            print(f"rule group {g['name']}: health {health}: {g['rules'][0].get('lastError')}",
                  file=sys.stderr)
            return 1
        record = g["rules"][0]["name"]
        result["groups"][g["name"]] = {
            "query": next(iter(runs.values()))["query"],
            "seconds": [r["seconds"] for r in runs.values()],
            # Series of the last evaluation's result (stale series are gone).
            "result_series": int(float(query(base, f"count({record})")[0]["value"][1])),
        }
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    return 0


# Rule group of compare_prometheus.sh -> (promql_bench case, input series).
CASES = [("sum_rate", "BM_SumRate", 100_000),
         ("histogram_quantile", "BM_HistogramQuantile", 10_000),
         ("group_left_ratio", "BM_GroupLeftRatio", 100_000)]

TO_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def store_figures(path):
    figures = {}
    for line in open(path):
        m = re.match(r"\s+(RSS delta per series \(everything\)|RSS delta per sample \(everything\)|"
                     r"Stats per series, labels \+ index \(no samples\)|"
                     r"Stats per sample, chunks \(headers \+ encoded\))\s+([\d.]+)", line)
        if m:
            figures[m.group(1)] = float(m.group(2))
    return figures


def table(prom_path, baseline_rss, vigil_path, store_path):
    prom = json.load(open(prom_path))
    # Names carry the case's options: "BM_SumRate/min_time:3.000".
    vigil = {b["name"].split("/")[0]: b for b in json.load(open(vigil_path))["benchmarks"]}
    rows = []
    for group, case, series in CASES:
        g = prom["groups"][group]
        p = statistics.median(g["seconds"])
        b = vigil[case]
        v = b["real_time"] * TO_SECONDS[b["time_unit"]]
        cpu = b["cpu_time"] * TO_SECONDS[b["time_unit"]]
        rows.append((g["query"], series, p, min(g["seconds"]), v, cpu, len(g["seconds"])))
        if g["result_series"] != b["result_series"]:
            print(f"result mismatch for {g['query']}: prometheus {g['result_series']} series,"
                  f" vigil {b['result_series']:.0f}", file=sys.stderr)
            return 1
    width = max(len(r[0]) for r in rows)
    print(f"{'expression':<{width}} {'series':>7} {'prom s':>7} {'(min)':>7} {'prom us/s':>9} "
          f"{'vigil s':>7} {'vigil us/s':>10} {'(cpu)':>6} {'prom/vigil':>10}")
    for expr, series, p, p_min, v, cpu, _ in rows:
        print(f"{expr:<{width}} {series:>7} {p:>7.4f} {p_min:>7.4f} {p / series * 1e6:>9.2f} "
              f"{v:>7.4f} {v / series * 1e6:>10.2f} {cpu / series * 1e6:>6.2f} {p / v:>9.1f}x")
    print("Both engines returned the same number of result series for each expression.")
    evals = sorted({r[6] for r in rows})
    evals_text = str(evals[0]) if len(evals) == 1 else f"{evals[0]}-{evals[-1]}"
    print(f"prom s: median (and min) of the rule group's evaluation time over {evals_text}"
          " evaluations with a full window, wall clock, including the write of the recorded"
          " series, while scraping; vigil s: wall time per Engine::InstantQuery (promql_bench"
          " real_time), cpu: its CPU time per series; prom/vigil: ratio of the wall times.")

    m = prom["metrics"]

    def total(name):  # summed over the metric's label sets
        return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))

    last = {re.search(r'rule_group="[^"]*;([^"]*)"', k).group(1): v
            for k, v in m.items() if k.startswith("prometheus_rule_group_last_duration_seconds{")}
    print("prometheus_rule_group_last_duration_seconds at the end: " +
          ", ".join(f"{k} {v:.4f}" for k, v in sorted(last.items())))
    rss = total("process_resident_memory_bytes")
    series = total("prometheus_tsdb_head_series")
    samples = total("prometheus_tsdb_head_samples_appended_total")
    delta = rss - baseline_rss
    s = store_figures(store_path)
    print()
    print("Memory                                   prometheus      vigil  target")
    print(f"  RSS per series (everything)            {rss / series:>10.0f}")
    print(f"  RSS delta per series (everything)      {delta / series:>10.0f} "
          f"{s['RSS delta per series (everything)']:>10.0f}")
    print(f"  RSS delta per sample (everything)      {delta / samples:>10.1f} "
          f"{s['RSS delta per sample (everything)']:>10.2f}")
    print(f"  labels + index per series (accounted)  {'n/a':>10} "
          f"{s['Stats per series, labels + index (no samples)']:>10.1f}  <= 1024")
    print(f"  chunk bytes per sample (accounted)     {'n/a':>10} "
          f"{s['Stats per sample, chunks (headers + encoded)']:>10.2f}  <= 16")
    print(f"prometheus: RSS {rss / 2**20:.0f} MiB (before the first scrape"
          f" {baseline_rss / 2**20:.0f} MiB), {series:.0f} head series (scraped + recorded),"
          f" {samples:.0f} samples appended (scraped + recorded).")
    print("vigil: store_bench, 100000 series x 20 samples in a fresh store (RSS delta) and the"
          " store's own accounting (Stats).")
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "wait-series" and len(argv) == 6:
        return wait_series(argv[2], argv[3], float(argv[4]), float(argv[5]))
    if cmd == "collect" and len(argv) == 7:
        return collect(argv[2], float(argv[3]), int(argv[4]), float(argv[5]), argv[6])
    if cmd == "table" and len(argv) == 6:
        return table(argv[2], float(argv[3]), argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
