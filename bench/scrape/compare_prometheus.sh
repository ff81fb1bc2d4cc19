#!/usr/bin/env bash
# Side-by-side scrape ingest benchmark: Debian's Prometheus 2.42 and the Vigil
# daemon scrape the same static /metrics body (scrape_bench's 8.8 MB body of
# 100 512 series, served by nginx) with the same settings, and both report
# scrape_duration_seconds (fetch + parse + append) per scrape; the medians over
# SCRAPES scrapes after WARMUP warm-up scrapes give MB/s, samples/s and the
# ratio. scrape_bench's parse and parse+ingest figures for the same body follow.
#
# The two scrapers run one after the other, not at once: on a 2-core machine
# two scrapes in flight together would slow each other down by chance.
#
# Usage: bench/scrape/compare_prometheus.sh
#   BUILD_DIR   Vigil Release build with VIGIL_BENCH=ON (default <repo>/build-bench;
#               configured and built here if vigil or scrape_bench is missing:
#               not counted in the time bound)
#   PROMETHEUS  Prometheus binary (default /usr/bin/prometheus)
#   NGINX       nginx binary (default /usr/sbin/nginx)
#   INTERVAL    scrape_interval of both, in seconds (default 3)
#   WARMUP      scrapes left out first (default 3)
#   SCRAPES     scrapes the medians are taken over (default 10)
# Loopback only, free ports, everything in a temp dir; all processes started
# here are stopped by PID on exit, failure or interrupt. Bounded to LIMIT_S
# (default 240) seconds after the build.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
NGINX=${NGINX:-/usr/sbin/nginx}
INTERVAL=${INTERVAL:-3}
WARMUP=${WARMUP:-3}
SCRAPES=${SCRAPES:-10}
LIMIT_S=${LIMIT_S:-240}
JOB=bench

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

if [[ ! -x $BUILD_DIR/vigil || ! -x $BUILD_DIR/bench/scrape/scrape_bench ]]; then
  log "building vigil and scrape_bench in $BUILD_DIR (Release)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DVIGIL_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" --target vigil scrape_bench -j2 >/dev/null
fi
VIGIL=$BUILD_DIR/vigil
SCRAPE_BENCH=$BUILD_DIR/bench/scrape/scrape_bench
[[ -x $PROMETHEUS ]] || { log "no Prometheus at $PROMETHEUS"; exit 1; }
[[ -x $NGINX ]] || { log "no nginx at $NGINX"; exit 1; }

WORK=$(mktemp -d /tmp/vigil-scrape-compare.XXXXXX)
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  local rc=$?
  stop_all
  if ((rc != 0)); then
    for f in nginx-error.log prometheus.log vigil.log; do
      [[ -s $WORK/$f ]] || continue
      log "failed (exit $rc); last lines of $f:"
      tail -n 5 "$WORK/$f" >&2 || true
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The run after the build is bounded by LIMIT_S: every waiting step gets what
# is left of it.
START=$SECONDS
left() {
  local n=$((LIMIT_S - (SECONDS - START)))
  ((n > 0)) || { log "out of time (${LIMIT_S}s)"; exit 1; }
  echo "$n"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
TARGET_PORT=$(free_port)
PROM_PORT=$(free_port)
VIGIL_PORT=$(free_port)

wait_http() {  # URL PID WHAT
  for _ in $(seq 100); do
    curl -fs -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { log "$3 exited"; exit 1; }
    sleep 0.2
  done
  log "$3 not ready after 20s"
  exit 1
}

# The body: scrape_bench's own, byte for byte. Workers of a root nginx run as
# nobody, hence the readable modes.
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/nginx"
DUMPED=$("$SCRAPE_BENCH" --dump_body="$WORK/www/metrics")  # "<bytes> bytes, <samples> samples"
read -r BODY_BYTES _ BODY_SAMPLES _ <<<"$DUMPED"
chmod 644 "$WORK/www/metrics"
log "body: $BODY_BYTES bytes, $BODY_SAMPLES samples"

# Static file, no compression (both scrapers ask for gzip; neither gets it),
# the Prometheus text format's content type.
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  gzip off;
  sendfile on;
  server {
    listen 127.0.0.1:$TARGET_PORT;
    location = /metrics {
      root $WORK/www;
      default_type "text/plain; version=0.0.4; charset=utf-8";
    }
  }
}
EOF
log "uptime: $(uptime)"
log "starting nginx on 127.0.0.1:$TARGET_PORT"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$TARGET_PORT/metrics" "$NGINX_PID" nginx
SERVED=$(curl -fs "http://127.0.0.1:$TARGET_PORT/metrics" | wc -c)
((SERVED == BODY_BYTES)) || { log "nginx served $SERVED bytes, not $BODY_BYTES"; exit 1; }

# The same scrape settings for both: interval, timeout, honor_labels, no
# relabeling, no limits.
SCRAPE_CONFIG="global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: ${INTERVAL}s
scrape_configs:
  - job_name: $JOB
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$TARGET_PORT']"
printf '%s\n' "$SCRAPE_CONFIG" >"$WORK/prometheus.yml"
printf '%s\n' "$SCRAPE_CONFIG" >"$WORK/vigil.yml"
# Each scraper gets at most what its scrapes need plus slack, and never more
# than is left of LIMIT_S.
PHASE_S=$(((WARMUP + SCRAPES + 3) * INTERVAL + 20))
phase_limit() {
  local n
  n=$(left)
  echo $((n < PHASE_S ? n : PHASE_S))
}

PROM_VERSION=$("$PROMETHEUS" --version 2>&1 | head -n 1 | cut -d' ' -f3)
log "Prometheus $PROM_VERSION on 127.0.0.1:$PROM_PORT: $((WARMUP + SCRAPES)) scrapes every ${INTERVAL}s"
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS+=("$PROM_PID")
wait_http "http://127.0.0.1:$PROM_PORT/-/ready" "$PROM_PID" Prometheus
PROM_LOAD=$(cut -d' ' -f1 /proc/loadavg)
python3 "$HERE/compare_report.py" prometheus "http://127.0.0.1:$PROM_PORT" "$PROM_PID" "$JOB" "$WARMUP" \
  "$SCRAPES" "$(phase_limit)" "$WORK/prometheus.json"
kill -TERM "$PROM_PID"
wait "$PROM_PID" 2>/dev/null || true

log "Vigil on 127.0.0.1:$VIGIL_PORT: $((WARMUP + SCRAPES)) scrapes every ${INTERVAL}s"
"$VIGIL" --config.file="$WORK/vigil.yml" --web.listen-address="127.0.0.1:$VIGIL_PORT" \
  --storage.state-dir="$WORK/vigil-state" >"$WORK/vigil.log" 2>&1 &
VIGIL_PID=$!
PIDS+=("$VIGIL_PID")
wait_http "http://127.0.0.1:$VIGIL_PORT/-/ready" "$VIGIL_PID" Vigil
VIGIL_LOAD=$(cut -d' ' -f1 /proc/loadavg)
python3 "$HERE/compare_report.py" vigil "http://127.0.0.1:$VIGIL_PORT" "$VIGIL_PID" "$JOB" "$WARMUP" \
  "$SCRAPES" "$(phase_limit)" "$WORK/vigil.json"
stop_all

log "running scrape_bench (parse, parse + ingest into the store)"
timeout "$(left)" "$SCRAPE_BENCH" --benchmark_filter='BM_Parse/text|BM_IngestStore' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$WORK/bench.json" --benchmark_out_format=json >"$WORK/bench.txt" 2>&1 ||
  { tail -n 5 "$WORK/bench.txt" >&2; exit 1; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(uptime | sed 's/.*load/load/'), $(nproc) cores" \
  "(1-min load at the start of the Prometheus phase $PROM_LOAD, of the Vigil phase $VIGIL_LOAD)"
python3 "$HERE/compare_report.py" table "$WORK/prometheus.json" "$WORK/vigil.json" \
  "$WORK/bench.json" "$BODY_BYTES" "$BODY_SAMPLES" "$WARMUP"
