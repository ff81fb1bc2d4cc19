#!/bin/bash
# Vigil's HTTP probe against Debian's prometheus-blackbox-exporter (0.23), side
# by side in one run, probing the same local nginx (scripts/testenv/nginx.sh)
# with a fresh connection per probe (both always open a new connection):
#
#   (a) /probe mode: wrk drives GET /probe?module=http_2xx&target=<nginx>/health
#       on blackbox_exporter and on a Vigil daemon without targets, the same
#       number of probes on each, the same connections;
#   (b) scheduled mode: a second Vigil daemon probes <targets> copies of the
#       same URL from its config every <interval_s>; blackbox has no such mode,
#       so its /probe figure from (a) is the reference;
#   floor: floor_client.c, compiled here with cc, makes the same fresh-connection
#       GET of the same URL <probes> times, one connection at a time, with as
#       few syscalls as it can (its own CPU from getrusage): the least a probe
#       can cost on this machine, to which both daemons are compared;
#   memory: RSS per scheduled target (daemon (b) minus idle daemon (a), per
#       target) and RSS per probe in flight (<inflight> /probe requests against a
#       listener that accepts nothing, so each probe waits for its 5 s timeout;
#       peak RSS minus idle RSS, per probe).
#
# CPU is utime+stime of each server's whole process from /proc/PID/stat, read
# before and after the same work. Everything listens on 127.0.0.1 at free
# ports, lives in a temp dir, and every process started here is stopped by its
# PID on exit, failure or signal; the run ends after at most 15 minutes.
#
#   compare_blackbox.sh [probes=10000] [targets=2000] [interval_s=5]
#                       [connections=10] [inflight=200]
#
# VIGIL=<path> selects the daemon (default: build-http-rel/vigil, configured
# with -DCMAKE_BUILD_TYPE=Release). Needs nginx-light, openssl, wrk, python3
# (for free ports and the silent listener), cc and prometheus-blackbox-exporter.
set -euo pipefail

probes=${1:-10000}
targets=${2:-2000}
interval_s=${3:-5}  # >= the module's 5 s timeout, as the config requires
connections=${4:-10}
inflight=${5:-200}

repo=$(cd "$(dirname "$0")/../.." && pwd)
vigil_bin=${VIGIL:-$repo/build-http-rel/vigil}
blackbox_bin=/usr/bin/prometheus-blackbox-exporter
clk_tck=$(getconf CLK_TCK)
max_run_s=900

# Bounded time: the script re-runs itself under timeout(1), whose TERM runs the
# cleanup trap below (--foreground keeps Ctrl-C working).
if [[ -z ${COMPARE_BLACKBOX_TIMED:-} ]]; then
  COMPARE_BLACKBOX_TIMED=1 exec timeout --foreground "$max_run_s" "$0" "$@"
fi

for tool in nginx openssl wrk python3 curl cc "$blackbox_bin" "$vigil_bin"; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/vigil-blackbox-XXXXXX)
chmod 755 "$dir"  # nginx workers (nobody) read below it
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$repo/scripts/testenv/nginx.sh" stop "$dir/nginx" >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# utime+stime of a process, milliseconds.
cpu_ms() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }  # the fields after "pid (comm) "; utime/stime are 12th/13th here
  awk -v tck="$clk_tck" '{ printf "%d\n", ($12 + $13) * 1000 / tck }' <<<"$stat"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

wait_http() {  # url: waits up to 10 s for a 200
  for _ in $(seq 200); do
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  echo "no answer from $1" >&2
  return 1
}

nginx_http=$(free_port)
nginx_https=$(free_port)
"$repo/scripts/testenv/nginx.sh" start "$dir/nginx" "$nginx_http" "$nginx_https" >/dev/null
target="http://127.0.0.1:$nginx_http/health"

# A listener that never accepts: connections complete in the kernel backlog and
# the request is never answered, so each probe stays in flight until its timeout.
silent_port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
time.sleep(3600)' "$silent_port" &
pids+=($!)
silent_target="http://127.0.0.1:$silent_port/"

# blackbox_exporter with its http_2xx module as in its default config, with
# Vigil's 5 s timeout. Both probe an IP literal: no DNS lookup on either side.
bb_port=$(free_port)
cat >"$dir/blackbox.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 5s
EOF
"$blackbox_bin" --config.file="$dir/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
  >"$dir/blackbox.log" 2>&1 &
bb_pid=$!
pids+=("$bb_pid")

# Vigil (a): the bundled http_2xx module (GET, any 2xx, 5 s), no targets.
va_port=$(free_port)
cat >"$dir/vigil-a.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 5s
EOF
"$vigil_bin" --config.file="$dir/vigil-a.yml" --web.listen-address="127.0.0.1:$va_port" \
  --storage.state-dir="$dir/state-a" --log.level=warn >"$dir/vigil-a.log" 2>&1 &
va_pid=$!
pids+=("$va_pid")

wait_http "http://127.0.0.1:$bb_port/probe?module=http_2xx&target=$target"
wait_http "http://127.0.0.1:$va_port/probe?module=http_2xx&target=$target"
for port in "$bb_port" "$va_port"; do
  body=$(curl -s "http://127.0.0.1:$port/probe?module=http_2xx&target=$target")
  grep -qx "probe_success 1" <<<"$body" || { echo "probe of $target on :$port failed: $body" >&2; exit 1; }
done

# wrk (one thread, `connections` connections) counts successful probes (200
# with probe_success 1) and exits after PROBES responses: wrk's own stop waits
# out its -d duration. Requests still in flight then (< connections) finish on
# the server uncounted, the same for both servers.
cat >"$dir/probe.lua" <<'EOF'
function init(args) ok = 0; bad = 0; limit = tonumber(os.getenv("PROBES")) end
function response(status, headers, body)
  if status == 200 and body:find("\nprobe_success 1\n", 1, true) then ok = ok + 1 else bad = bad + 1 end
  if ok + bad == limit then
    io.write(string.format("RESULT %d %d\n", ok, bad))
    io.flush()
    os.exit(0)
  end
end
EOF

idle_rss_bb=$(rss_kb "$bb_pid")
idle_rss_va=$(rss_kb "$va_pid")

# Memory per probe in flight, first, while both processes are fresh.
inflight_rss() {  # pid port: peak RSS (kB) with `inflight` probes of the silent target waiting
  local pid=$1 port=$2 peak=0 rss
  timeout 20 wrk -t 2 -c "$inflight" -d 4s --timeout 10s \
    "http://127.0.0.1:$port/probe?module=http_2xx&target=$silent_target" >/dev/null 2>&1 &
  local wrk_pid=$!
  for _ in $(seq 30); do
    sleep 0.1
    rss=$(rss_kb "$pid")
    (( rss > peak )) && peak=$rss
  done
  wait "$wrk_pid" || true
  sleep 6  # the probes end at their 5 s timeout
  echo "$peak"
}
peak_bb=$(inflight_rss "$bb_pid" "$bb_port")
peak_va=$(inflight_rss "$va_pid" "$va_port")

run_probe_mode() {  # pid port: prints "ok bad cpu_ms wall_s"
  local pid=$1 port=$2 url out before after t0 t1
  url="http://127.0.0.1:$port/probe?module=http_2xx&target=$target"
  # Warm-up: steady-state heaps and connection handling before measuring.
  PROBES=500 timeout 60 wrk -t 1 -c "$connections" -d 60s -s "$dir/probe.lua" "$url" >/dev/null
  sleep 0.5
  before=$(cpu_ms "$pid")
  t0=$(date +%s.%N)
  out=$(PROBES=$probes timeout 300 wrk -t 1 -c "$connections" -d 300s -s "$dir/probe.lua" "$url")
  t1=$(date +%s.%N)
  sleep 0.2  # requests still in flight when wrk stopped finish
  after=$(cpu_ms "$pid")
  read -r ok bad < <(awk '/^RESULT/ { print $2, $3 }' <<<"$out")
  echo "$ok $bad $((after - before)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
}
read -r bb_ok bb_bad bb_cpu bb_wall < <(run_probe_mode "$bb_pid" "$bb_port")
read -r va_ok va_bad va_cpu va_wall < <(run_probe_mode "$va_pid" "$va_port")

# The floor: the same GET with a fresh connection, `probes` times, from a
# minimal client (after its own warm-up of probes/20 connections).
cc -O2 -o "$dir/floor_client" "$repo/bench/blackbox/floor_client.c"
read -r fl_ok fl_bad fl_cpu fl_wall < <(
  timeout 300 "$dir/floor_client" 127.0.0.1 "$nginx_http" /health "$probes" |
    awk '/^RESULT/ { print $2, $3, $4, $5 }')
[[ -n ${fl_cpu:-} ]] || { echo "floor_client gave no result" >&2; exit 1; }

# Vigil (b): `targets` scheduled probes of the same URL every `interval_s`.
vb_port=$(free_port)
{
  echo "modules:"
  echo "  http_2xx:"
  echo "    prober: http"
  echo "    timeout: 5s"
  echo "probes:"
  for ((i = 0; i < targets; i++)); do
    echo "  - {name: t$i, module: http_2xx, target: '$target', interval: ${interval_s}s}"
  done
} >"$dir/vigil-b.yml"
"$vigil_bin" --config.file="$dir/vigil-b.yml" --web.listen-address="127.0.0.1:$vb_port" \
  --storage.state-dir="$dir/state-b" --log.level=warn >"$dir/vigil-b.log" 2>&1 &
vb_pid=$!
pids+=("$vb_pid")
wait_http "http://127.0.0.1:$vb_port/-/healthy" || { tail -3 "$dir/vigil-b.log" >&2; exit 1; }

probe_counts() {  # "succeeded failed" so far, from the daemon's own counters
  curl -sf --max-time 10 "http://127.0.0.1:$vb_port/metrics" |
    awk '/^vigil_probe_success_total\{/ { ok += $NF } /^vigil_probe_failure_total\{/ { bad += $NF }
         END { printf "%d %d\n", ok, bad }'
}
sleep $(( 3 * interval_s + 2 ))  # every target ran a few probes: schedule and store settled
read -r ok0 bad0 < <(probe_counts)
cpu0=$(cpu_ms "$vb_pid")
window_s=$(( (probes * interval_s + targets - 1) / targets ))
(( window_s < 5 )) && window_s=5
sleep "$window_s"
cpu1=$(cpu_ms "$vb_pid")
read -r ok1 bad1 < <(probe_counts)
vb_ok=$((ok1 - ok0))
vb_bad=$((bad1 - bad0))
vb_cpu=$((cpu1 - cpu0))
rss_vb=$(rss_kb "$vb_pid")

per1000() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", c * 1000 / n; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "n/a" }'; }
bb_per=$(per1000 "$bb_cpu" $((bb_ok + bb_bad)))
va_per=$(per1000 "$va_cpu" $((va_ok + va_bad)))
vb_per=$(per1000 "$vb_cpu" $((vb_ok + vb_bad)))
fl_per=$(per1000 "$fl_cpu" $((fl_ok + fl_bad)))

echo "nginx $target, fresh connection per probe; wrk 1 thread, $connections connections"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo
printf '%-34s %9s %7s %9s %12s %8s\n' "mode" "probes" "failed" "CPU ms" "CPU ms/1000" "wall s"
printf '%-34s %9d %7d %9d %12s %8s\n' "blackbox 0.23 /probe (wrk)" $((bb_ok + bb_bad)) "$bb_bad" \
  "$bb_cpu" "$bb_per" "$bb_wall"
printf '%-34s %9d %7d %9d %12s %8s\n' "vigil /probe (wrk)" $((va_ok + va_bad)) "$va_bad" \
  "$va_cpu" "$va_per" "$va_wall"
printf '%-34s %9d %7d %9d %12s %8s\n' "vigil scheduled ($targets x ${interval_s}s)" \
  $((vb_ok + vb_bad)) "$vb_bad" "$vb_cpu" "$vb_per" "$window_s"
printf '%-34s %9d %7d %9d %12s %8s\n' "floor (minimal C client)" $((fl_ok + fl_bad)) "$fl_bad" \
  "$fl_cpu" "$fl_per" "$fl_wall"
echo
echo "vigil/blackbox CPU per probe: /probe $(ratio "$bb_per" "$va_per") (target <= 0.33)," \
  "scheduled $(ratio "$bb_per" "$vb_per") (target <= 0.125)"
target_per=$(awk -v b="$bb_per" 'BEGIN { print b / 8 }')  # the scheduled-mode target
echo "against the floor: blackbox $(ratio "$fl_per" "$bb_per")," \
  "vigil /probe $(ratio "$fl_per" "$va_per"), vigil scheduled $(ratio "$fl_per" "$vb_per");" \
  "the target 1/8 of blackbox is $(ratio "$fl_per" "$target_per") x the floor"
echo
awk -v bi="$idle_rss_bb" -v bp="$peak_bb" -v vi="$idle_rss_va" -v vp="$peak_va" -v vb="$rss_vb" \
  -v n="$inflight" -v t="$targets" 'BEGIN {
  printf "RSS idle: blackbox %.1f MB, vigil %.1f MB\n", bi / 1024, vi / 1024
  printf "RSS per probe in flight (%d waiting): blackbox %.1f kB, vigil %.1f kB\n", n, (bp - bi) / n, (vp - vi) / n
  printf "RSS per scheduled target (%d targets, %.1f MB): vigil %.1f kB\n", t, vb / 1024, (vb - vi) / t
}'
