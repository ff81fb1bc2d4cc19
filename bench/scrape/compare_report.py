#!/usr/bin/env python3
"""Helpers of compare_prometheus.sh (python3 stdlib only).

  prometheus URL PID JOB WARMUP SCRAPES TIMEOUT_S OUT_JSON
      Waits until Prometheus holds WARMUP + SCRAPES samples of
      scrape_duration_seconds{job=JOB}, then reads them and
      scrape_samples_scraped/up over the same scrapes from the query API (full
      precision). Writes OUT_JSON. Exit 1 on timeout or a failed scrape.
  vigil URL PID JOB WARMUP SCRAPES TIMEOUT_S OUT_JSON
      Polls Vigil's status page (the scrape targets table: last scrape time,
      duration, samples; the duration is the value Vigil appends as
      scrape_duration_seconds, printed to the millisecond) until it saw
      WARMUP + SCRAPES distinct scrapes of JOB. Writes OUT_JSON.
  Both also record the CPU time (user + system, all threads) process PID used
  from the poll that first saw WARMUP scrapes to the one that saw all of them.
  table PROM_JSON VIGIL_JSON BENCH_JSON BODY_BYTES BODY_SAMPLES WARMUP
      Prints the side-by-side table: medians over the scrapes after the warm-up.
"""
import html
import json
import os
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


def cpu_seconds(pid):
    """User + system CPU seconds of a process, all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_result(out_path, scrapes, cpu_window):
    with open(out_path, "w") as f:
        json.dump({"scrapes": scrapes, "cpu_seconds": cpu_window[1] - cpu_window[0]}, f)


def range_values(base, expr):
    """The samples of a range-vector selector's single series, as [(t, value)]."""
    result = query(base, expr)
    if len(result) != 1:
        return []
    return [(float(t), float(v)) for t, v in result[0]["values"]]


def prometheus(base, pid, job, warmup, scrapes, timeout, out_path):
    wanted = warmup + scrapes
    selector = f'{{job="{job}"}}[1h]'
    deadline = time.time() + timeout
    durations = []
    cpu_window = []
    while time.time() < deadline:
        try:
            durations = range_values(base, "scrape_duration_seconds" + selector)
        except OSError:
            durations = []
        if len(durations) >= warmup and not cpu_window:
            cpu_window.append(cpu_seconds(pid))
        if len(durations) >= wanted:
            cpu_window.append(cpu_seconds(pid))
            break
        time.sleep(1)
    if len(durations) < wanted:
        print(f"prometheus: {len(durations)} of {wanted} scrapes in {timeout}s", file=sys.stderr)
        return 1
    samples = dict(range_values(base, "scrape_samples_scraped" + selector))
    up = dict(range_values(base, "up" + selector))
    scrapes_out = []
    for t, seconds in durations[:wanted]:
        if up.get(t) != 1.0:
            print(f"prometheus: scrape at {t} failed (up={up.get(t)})", file=sys.stderr)
            return 1
        scrapes_out.append({"t": t, "seconds": seconds, "samples": samples.get(t, 0.0)})
    write_result(out_path, scrapes_out, cpu_window)
    return 0


ROW = re.compile(r"<tr><td>(?P<job>[^<]*)</td><td>[^<]*</td><td>(?P<state>.*?)</td><td>[^<]*</td>"
                 r"<td>(?P<time>[^<]*)</td><td>(?P<seconds>[0-9.]+)s</td><td>(?P<samples>\d+)</td>"
                 r"<td>(?P<error>[^<]*)</td></tr>")


def vigil(base, pid, job, warmup, scrapes, timeout, out_path):
    wanted = warmup + scrapes
    deadline = time.time() + timeout
    seen = {}  # last scrape time text -> (seconds, samples)
    cpu_window = []
    while time.time() < deadline:
        try:
            page = get(f"{base}/")
        except OSError:
            page = ""
        for row in ROW.finditer(page):
            if html.unescape(row["job"]) != job or not row["time"]:
                continue
            if row["state"] != "up":
                print(f"vigil: scrape failed: {html.unescape(row['error'])}", file=sys.stderr)
                return 1
            seen.setdefault(row["time"], (float(row["seconds"]), int(row["samples"])))
        if len(seen) >= warmup and not cpu_window:
            cpu_window.append(cpu_seconds(pid))
        if len(seen) >= wanted:
            cpu_window.append(cpu_seconds(pid))
            break
        time.sleep(1)
    if len(seen) < wanted:
        print(f"vigil: {len(seen)} of {wanted} scrapes in {timeout}s", file=sys.stderr)
        return 1
    scrapes_out = [{"t": t, "seconds": s, "samples": n}
                   for t, (s, n) in sorted(seen.items())[:wanted]]
    write_result(out_path, scrapes_out, cpu_window)
    return 0


def bench_figures(path):
    """scrape_bench's JSON output: {name: (ms per iteration (CPU), bytes/s, samples/s)}."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        out[name] = (b["cpu_time"], b["bytes_per_second"], b["samples/s"])
    return out


def table(prom_path, vigil_path, bench_path, body_bytes, body_samples, warmup):
    rows = []
    for name, path in (("prometheus 2.42", prom_path), ("vigil", vigil_path)):
        with open(path) as f:
            result = json.load(f)
        scrapes = result["scrapes"][warmup:]
        seconds = [s["seconds"] for s in scrapes]
        samples = {int(s["samples"]) for s in scrapes}
        if samples != {body_samples}:
            print(f"{name}: scraped {sorted(samples)} samples per scrape, expected {body_samples}",
                  file=sys.stderr)
            return 1
        median = statistics.median(seconds)
        rows.append((name, len(seconds), median, min(seconds), max(seconds),
                     result["cpu_seconds"] / len(seconds)))
    print(f"body: {body_bytes / 1e6:.2f} MB, {body_samples} samples per scrape; "
          f"medians over {rows[0][1]} scrapes after {warmup} warm-up scrapes")
    print(f"{'scraper':<17}{'scrapes':>8}{'median s':>10}{'min s':>9}{'max s':>9}"
          f"{'MB/s':>9}{'M samples/s':>13}{'CPU s/scrape':>14}")
    for name, n, median, low, high, cpu in rows:
        print(f"{name:<17}{n:>8}{median:>10.4f}{low:>9.4f}{high:>9.4f}"
              f"{body_bytes / 1e6 / median:>9.1f}{body_samples / 1e6 / median:>13.3f}{cpu:>14.4f}")
    print(f"vigil / prometheus ingest rate (median scrape_duration_seconds): "
          f"{rows[0][2] / rows[1][2]:.1f}x")
    print(f"prometheus / vigil CPU time per scrape (whole process): {rows[0][5] / rows[1][5]:.1f}x")
    figures = bench_figures(bench_path)
    print("scrape_bench, same body, CPU time per iteration (median of the repetitions):")
    for name, label in (("BM_Parse/text", "parse only"),
                        ("BM_IngestStore", "parse + ingest into the store (steady state)")):
        if name in figures:
            ms, bps, sps = figures[name]
            print(f"  {label:<46}{ms:>8.1f} ms {bps / 1e6:>8.1f} MB/s {sps / 1e6:>7.2f} M samples/s")
    return 0


def main(argv):
    command, args = argv[1], argv[2:]
    if command in ("prometheus", "vigil"):
        fn = prometheus if command == "prometheus" else vigil
        return fn(args[0], int(args[1]), args[2], int(args[3]), int(args[4]), float(args[5]),
                  args[6])
    if command == "table":
        return table(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
