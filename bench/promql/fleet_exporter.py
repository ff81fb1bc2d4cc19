#!/usr/bin/env python3
"""Scrape target for compare_prometheus.sh: the series of promql_bench.cc.

Serves GET /metrics on 127.0.0.1:<port> in the Prometheus text format:
  * 100,000 counters x{job="job-<i % 100>", instance="host-<i>"}, value
    n*10 + i on the n-th scrape (n = 0, 1, ...), as promql_bench's
    CounterStore holds at sample n;
  * 10,000 buckets h_bucket{job="job-<h % 10>", instance="host-<h>", le=...}
    of 1,000 histograms, value n*(b+1)*3 for bucket b, as HistogramStore.
Every request counts as one scrape. Single-threaded; stops on SIGTERM.
"""
import http.server
import signal
import sys

LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
X_SERIES = 100_000
HISTOGRAMS = 1_000

X_PREFIXES = [f'x{{instance="host-{i}",job="job-{i % 100}"}} ' for i in range(X_SERIES)]
H_PREFIXES = [(f'h_bucket{{instance="host-{h}",job="job-{h % 10}",le="{le}"}} ', b + 1)
              for h in range(HISTOGRAMS) for b, le in enumerate(LE)]


def render(n):
    parts = ["# TYPE x counter\n"]
    parts += [f"{p}{n * 10 + i}\n" for i, p in enumerate(X_PREFIXES)]
    parts.append("# TYPE h_bucket counter\n")
    parts += [f"{p}{n * m * 3}\n" for p, m in H_PREFIXES]
    return "".join(parts).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    scrapes = 0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = render(Handler.scrapes)
        Handler.scrapes += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fleet_exporter.py <port>")
    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
