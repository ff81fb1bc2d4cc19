#!/usr/bin/env bash
# Side-by-side PromQL benchmark: Debian's Prometheus 2.42 evaluating the three
# expressions of promql_bench.cc as recording rules over the same series,
# scraped from a local target, next to Vigil's promql_bench and store_bench.
#
# Window: scrape_interval and evaluation_interval 5s and [1m] ranges in both
# engines (promql_bench via VIGIL_PROMQL_BENCH_RANGE/INTERVAL), so the run
# takes about 2.5 minutes (build excluded) instead of the 5+ minutes a [5m]
# window of 15s scrapes would need. Backfilling with promtool was not chosen: backfilled
# blocks are not in the head, so neither the rule timings nor the RSS would
# reflect a Prometheus that scraped the series.
#
# Usage: bench/promql/compare_prometheus.sh
#   BUILD_DIR   Vigil Release build with VIGIL_BENCH=ON (default <repo>/build-bench;
#               configured and built here if the binaries are missing: not
#               counted in the time bound)
#   PROMETHEUS  Prometheus binary (default /usr/bin/prometheus)
#   EVALS       full-window rule evaluations to take the median of (default 8)
# Loopback only, free ports, everything in a temp dir; all processes started
# here are stopped by PID on exit, failure or interrupt. Bounded to 285 s
# after the build (every step is given only what is left).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
EVALS=${EVALS:-8}
RANGE=1m
INTERVAL=5s
RANGE_S=60
LIMIT_S=285

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [[ ! -x $BUILD_DIR/bench/promql/promql_bench || ! -x $BUILD_DIR/bench/store/store_bench ]]; then
  log "building promql_bench and store_bench in $BUILD_DIR (Release)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DVIGIL_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" --target promql_bench store_bench -j2 >/dev/null
fi
[[ -x $PROMETHEUS ]] || { log "no Prometheus at $PROMETHEUS"; exit 1; }

WORK=$(mktemp -d /tmp/vigil-compare.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)) && [[ -f $WORK/prometheus.log ]]; then
    log "failed (exit $rc); last lines of the Prometheus log:"
    tail -n 5 "$WORK/prometheus.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The run after the build is bounded by LIMIT_S: every waiting step gets
# what is left of it.
START=$SECONDS
left() {
  local n=$((LIMIT_S - (SECONDS - START)))
  ((n > 0)) || { log "out of time (${LIMIT_S}s)"; exit 1; }
  echo "$n"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PROM_PORT=$(free_port)
TARGET_PORT=$(free_port)
while [[ $TARGET_PORT == "$PROM_PORT" ]]; do TARGET_PORT=$(free_port); done
PROM_URL=http://127.0.0.1:$PROM_PORT

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: $INTERVAL
  scrape_timeout: $INTERVAL
  evaluation_interval: $INTERVAL
rule_files: [$WORK/rules.yml]
scrape_configs:
  - job_name: fleet
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$TARGET_PORT"]
EOF
# One rule per group, so prometheus_rule_group_last_duration_seconds times
# exactly one expression.
cat >"$WORK/rules.yml" <<EOF
groups:
  - name: sum_rate
    rules:
      - record: job:x:rate_sum
        expr: sum by (job) (rate(x[$RANGE]))
  - name: histogram_quantile
    rules:
      - record: job:h:p95
        expr: histogram_quantile(0.95, sum by (le, job) (rate(h_bucket[$RANGE])))
  - name: group_left_ratio
    rules:
      - record: x:job_ratio
        expr: x / on (job) group_left sum by (job) (x)
EOF

log "uptime: $(uptime)"
PROM_VERSION=$("$PROMETHEUS" --version 2>&1 | head -n 1 | cut -d' ' -f3)
log "starting Prometheus $PROM_VERSION on 127.0.0.1:$PROM_PORT"
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS+=("$PROM_PID")
for _ in $(seq 100); do
  curl -fs "$PROM_URL/-/ready" >/dev/null 2>&1 && break
  kill -0 "$PROM_PID" 2>/dev/null || { log "Prometheus exited"; exit 1; }
  sleep 0.2
done
curl -fs "$PROM_URL/-/ready" >/dev/null || { log "Prometheus not ready after 20s"; exit 1; }
sleep 1
BASELINE_RSS=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$PROM_PID/status")

log "starting the target (110000 series) on 127.0.0.1:$TARGET_PORT"
python3 "$HERE/fleet_exporter.py" "$TARGET_PORT" &
PIDS+=($!)

FIRST=$(python3 "$HERE/compare_report.py" wait-series "$PROM_URL" \
  'count(x) + count(h_bucket)' 110000 30)
FULL_FROM=$(python3 -c "print($FIRST + $RANGE_S + 1)")
log "all series scraped; waiting for ${RANGE_S}s of data and $EVALS full-window" \
  "evaluations per rule"
python3 "$HERE/compare_report.py" collect "$PROM_URL" "$FULL_FROM" "$EVALS" "$(($(left) - 60))" \
  "$WORK/prometheus.json"

log "stopping Prometheus and the target"
for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

log "running promql_bench (range $RANGE, samples every $INTERVAL)"
VIGIL_PROMQL_BENCH_RANGE=$RANGE VIGIL_PROMQL_BENCH_INTERVAL=$INTERVAL timeout "$(left)" \
  "$BUILD_DIR/bench/promql/promql_bench" \
  --benchmark_filter='SumRate|HistogramQuantile|GroupLeftRatio' \
  --benchmark_out="$WORK/vigil.json" --benchmark_out_format=json >"$WORK/vigil.txt" 2>&1 ||
  { tail -n 5 "$WORK/vigil.txt" >&2; exit 1; }
log "running store_bench (memory figures only)"
timeout "$(left)" "$BUILD_DIR/bench/store/store_bench" --benchmark_filter='^$' \
  >"$WORK/store.txt" 2>&1 ||
  { tail -n 5 "$WORK/store.txt" >&2; exit 1; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(uptime | sed 's/.*load/load/'), $(nproc) cores"
python3 "$HERE/compare_report.py" table "$WORK/prometheus.json" "$BASELINE_RSS" \
  "$WORK/vigil.json" "$WORK/store.txt"
