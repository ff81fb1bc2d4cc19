#!/usr/bin/env bash
# Side-by-side cost of Vigil's postgres and redis probes and Debian's
# prometheus-postgres-exporter / prometheus-redis-exporter against the same
# throwaway PostgreSQL and Redis servers on loopback (see README.md).
#
#   bench/dbprobes/compare_exporters.sh [RESULTS_FILE]
#
# Environment:
#   VIGIL_BIN   the daemon (default: build-db-rel/vigil, a Release build)
#   INTERVAL    one collection per INTERVAL, for every subject: the daemon's
#               probe interval (and module timeout), and the pace of the GETs
#               of the HTTP-driven runs (default 200ms; "Ns" or "Nms")
#   N           collections per HTTP-driven run (default 150)
#   DAEMON_SECS length of each daemon-driven window (default 30)
#   NO_INSTALL  set to 1 to fail instead of apt-get installing missing exporters
#
# Everything lives in a temp dir and on free loopback ports; every process the
# script starts is stopped by PID on exit, failure or signal, and the temp dir
# is removed (after a failure only its logs are kept). Each step has a
# time limit; a whole run takes about 6 minutes. Results: one JSON line per
# run on stdout, and also in RESULTS_FILE when given.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
vigil_bin=${VIGIL_BIN:-$repo/build-db-rel/vigil}
n=${N:-150}
daemon_secs=${DAEMON_SECS:-30}
interval=${INTERVAL:-200ms}
case $interval in
  *ms) period=$(python3 -c "print(${interval%ms} / 1000)") ;;
  *s) period=${interval%s} ;;
  *) echo "compare_exporters: INTERVAL must be like 200ms or 1s" >&2; exit 2 ;;
esac
results=${1:-/dev/null}
pg_password=vigil-test
redis_password=vigil-test

die() { echo "compare_exporters: $*" >&2; exit 1; }

[[ -x $vigil_bin ]] || die "no Vigil daemon at $vigil_bin (build it: cmake -S $repo -B $repo/build-db-rel -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build $repo/build-db-rel --target vigil)"
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || die "PostgreSQL 15 is missing (apt-get install postgresql postgresql-contrib)"
command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
missing=()
command -v prometheus-postgres-exporter >/dev/null || missing+=(prometheus-postgres-exporter)
command -v prometheus-redis-exporter >/dev/null || missing+=(prometheus-redis-exporter)
if ((${#missing[@]})); then
  if [[ ${NO_INSTALL:-0} == 1 || $(id -u) -ne 0 ]]; then
    die "missing ${missing[*]}; install with: apt-get install -y ${missing[*]}"
  fi
  echo "installing ${missing[*]} with apt-get" >&2
  timeout 300 apt-get install -y "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

tmp=$(mktemp -d /tmp/vigil-dbbench.XXXXXX)
chmod 755 "$tmp"
pids=()

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  "$repo/scripts/testenv/postgres.sh" stop "$tmp/pg" >/dev/null 2>&1 || true
  "$repo/scripts/testenv/redis.sh" stop "$tmp/redis" >/dev/null 2>&1 || true
  if ((rc != 0)); then
    rm -rf "$tmp/pg/data" "$tmp"/*-state  # the logs stay
    echo "compare_exporters: failed (exit $rc); logs kept in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a background process, remembers its PID in $started.
start_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  started=$!
  pids+=("$started")
}

forget() {  # forget PID: no longer ours to stop
  local kept=()
  for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
  pids=("${kept[@]}")
}

stop_started() {
  stop_pid "$1"
  forget "$1"
}

wait_http() {
  local url=$1 pid=$2
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || die "process $pid exited before serving $url"
    curl -sf -o /dev/null "$url" && return 0
    sleep 0.1
  done
  die "$url did not answer within 10s"
}

read -r pg_port redis_port http_port <<<"$(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- servers and their contents -------------------------------------------------
export VIGIL_PG_PASSWORD=$pg_password VIGIL_REDIS_PASSWORD=$redis_password
postmaster=$(timeout 120 "$repo/scripts/testenv/postgres.sh" start "$tmp/pg" "$pg_port")
redis_pid=$(timeout 30 "$repo/scripts/testenv/redis.sh" start "$tmp/redis" "$redis_port")

as_pg=()
if [[ $(id -u) -eq 0 ]]; then as_pg=(runuser -u postgres --); fi
pgbin=/usr/lib/postgresql/15/bin
psql_test=("${as_pg[@]}" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pg" -p "$pg_port" -U postgres -d test)
timeout 120 "${as_pg[@]}" "$pgbin/pgbench" -h "$tmp/pg" -p "$pg_port" -U postgres -i -s 2 -q test >"$tmp/pgbench-init.log" 2>&1
timeout 60 "${psql_test[@]}" >/dev/null <<'SQL'
DO $$ BEGIN
  FOR i IN 1..20 LOOP
    EXECUTE format('CREATE TABLE app_%s (id bigserial PRIMARY KEY, body text, at timestamptz DEFAULT now())', i);
    EXECUTE format('INSERT INTO app_%s (body) SELECT md5(g::text) FROM generate_series(1, 1000 * %s) g', i, i);
  END LOOP;
END $$;
ANALYZE;
SQL
timeout 60 "${as_pg[@]}" "$pgbin/pgbench" -h "$tmp/pg" -p "$pg_port" -U postgres -c 2 -T 5 test >"$tmp/pgbench-run.log" 2>&1
timeout 60 python3 - "$redis_port" "$redis_password" <<'PY'
import socket, sys
port, password = int(sys.argv[1]), sys.argv[2]
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
commands = [cmd("AUTH", password)]
for i in range(20000):
    commands.append(cmd("SET", f"key:{i}", "x" * 100) if i % 4 else cmd("SET", f"ttl:{i}", "y" * 100, "EX", 3600))
    commands.append(cmd("SELECT", 1) + cmd("SET", f"db1:{i}", i) + cmd("SELECT", 0) if i % 50 == 0 else b"")
for i in range(5000):
    commands.append(cmd("GET", f"key:{i}") + cmd("GET", f"missing:{i}") + cmd("HINCRBY", "hash", i % 100, 1))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(commands))
s.shutdown(socket.SHUT_WR)
while s.recv(1 << 20):
    pass
PY

# measure LIMIT_SECONDS MODE ARGS...: runs measure.py, its JSON in $measured. In
# the background with `wait`, so that a signal stops the run at once (bash runs
# a trap only after a foreground command ends), and by PID on the way out.
measure() {
  local out=$tmp/measure.json extra=()
  [[ $2 == http ]] && extra=(--period "$period")
  timeout "$1" python3 "$here/measure.py" "${@:2}" "${extra[@]}" >"$out" &
  local pid=$!
  pids+=("$pid")
  wait "$pid"
  forget "$pid"
  measured=$(cat "$out")
}
psql_cmd="${as_pg[*]} $pgbin/psql -X -At -h $tmp/pg -p $pg_port -U postgres -d postgres"
# Quiet servers: no autovacuum (the data is vacuumed and analyzed already), and
# each server's CPU with nothing collecting, subtracted from every window.
timeout 120 "${psql_test[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" \
  -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
redis_spec="127.0.0.1:$redis_port:$redis_password"
measure 60 idle --seconds 10 --pg "$postmaster" --pg-app none --psql "$psql_cmd"
pg_idle=$measured
measure 60 idle --seconds 10 --redis "$redis_spec"
redis_idle=$measured
echo "idle CPU (s per s): PostgreSQL cluster $pg_idle, Redis $redis_idle" >&2
pg_pe=(--pg "$postmaster" --pg-app postgres_exporter --psql "$psql_cmd" --idle-rates "$pg_idle")
pg_vigil=(--pg "$postmaster" --pg-app vigil --psql "$psql_cmd" --idle-rates "$pg_idle")
redis_server=(--redis "$redis_spec" --idle-rates "$redis_idle")

emit() {  # emit SUBJECT JSON
  local line
  line=$(python3 -c 'import json,sys; d={"subject":sys.argv[1]}; d.update(json.loads(sys.argv[2])); print(json.dumps(d))' "$1" "$2")
  echo "$line" | tee -a "$results"
}
: >"$results"
emit environment "$(python3 -c '
import json, sys
print(json.dumps({"idle_cpu_ms_per_s": {"postgres_cluster": 1000 * json.loads(sys.argv[1])["cluster"],
                                        "redis": 1000 * json.loads(sys.argv[2])["server"]},
                  "loadavg": open("/proc/loadavg").read().split()[:3], "interval": sys.argv[3]}))
' "$pg_idle" "$redis_idle" "$interval")"

pg_url="postgresql://vigil:$pg_password@127.0.0.1:$pg_port/test?sslmode=disable&application_name=postgres_exporter"
pg_target="postgresql://127.0.0.1:$pg_port/test"

# --- postgres_exporter /metrics (default collectors, then + the shipped queries.yaml) ---
start_bg "$tmp/pe.log" env DATA_SOURCE_NAME="$pg_url" prometheus-postgres-exporter \
  --web.listen-address="127.0.0.1:$http_port" --log.level=warn
pe=$started
wait_http "http://127.0.0.1:$http_port/metrics" "$pe"
measure 300 http --url "http://127.0.0.1:$http_port/metrics" --pid "$pe" --n "$n" "${pg_pe[@]}"
emit postgres_exporter "$measured"
stop_started "$pe"

queries=/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml
if [[ -f $queries ]]; then
  start_bg "$tmp/pe-q.log" env DATA_SOURCE_NAME="$pg_url" prometheus-postgres-exporter \
    --web.listen-address="127.0.0.1:$http_port" --log.level=warn --extend.query-path="$queries"
  pe=$started
  wait_http "http://127.0.0.1:$http_port/metrics" "$pe"
  measure 300 http --url "http://127.0.0.1:$http_port/metrics" --pid "$pe" --n "$n" "${pg_pe[@]}"
  emit postgres_exporter+queries.yaml "$measured"
  stop_started "$pe"
fi

# --- Vigil: the daemon probing on its own schedule, then /probe on demand ---
vigil_config() {  # vigil_config FILE pg|redis|none [POSTGRES_OPTIONS]; timeout <= interval
  local timeout=2s extra=${3:-}
  [[ $2 == none ]] || timeout=$interval
  cat >"$1" <<YAML
global:
  scrape_interval: 1m
modules:
  postgres:
    prober: postgres
    timeout: $timeout
    postgres: {user: vigil, password_env: VIGIL_PG_PASSWORD, database: test, sslmode: disable$extra}
  redis:
    prober: redis
    timeout: $timeout
    redis: {password_env: VIGIL_REDIS_PASSWORD}
YAML
  if [[ $2 == pg ]]; then
    printf 'probes:\n  - {name: pg, module: postgres, target: "%s", interval: %s}\n' "$pg_target" "$interval" >>"$1"
  elif [[ $2 == redis ]]; then
    printf 'probes:\n  - {name: redis, module: redis, target: "redis://127.0.0.1:%s", interval: %s}\n' "$redis_port" "$interval" >>"$1"
  fi
}

run_vigil() {  # run_vigil NAME PROBES [POSTGRES_OPTIONS] -> $started
  vigil_config "$tmp/$1.yml" "$2" "${3:-}"
  mkdir -p "$tmp/$1-state"
  start_bg "$tmp/$1.log" "$vigil_bin" --config.file="$tmp/$1.yml" \
    --web.listen-address="127.0.0.1:$http_port" --storage.state-dir="$tmp/$1-state" --log.level=warn
  wait_http "http://127.0.0.1:$http_port/-/healthy" "$started"
}

run_vigil vigil-pg pg
v=$started
measure 300 daemon --metrics "http://127.0.0.1:$http_port/metrics" --target pg --pid "$v" --seconds "$daemon_secs" "${pg_vigil[@]}"
emit vigil_daemon_postgres "$measured"
stop_started "$v"

# The same without the cache of settings and sizes: what caching saves.
run_vigil vigil-pg-nocache pg ", settings_refresh: 0s, sizes_refresh: 0s"
v=$started
measure 300 daemon --metrics "http://127.0.0.1:$http_port/metrics" --target pg --pid "$v" --seconds "$daemon_secs" "${pg_vigil[@]}"
emit vigil_daemon_postgres_nocache "$measured"
stop_started "$v"

run_vigil vigil-ondemand none
v=$started
probe_url="http://127.0.0.1:$http_port/probe?module=postgres&target=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$pg_target")"
measure 300 http --url "$probe_url" --pid "$v" --n "$n" "${pg_vigil[@]}"
emit vigil_probe_postgres "$measured"
redis_probe_url="http://127.0.0.1:$http_port/probe?module=redis&target=redis://127.0.0.1:$redis_port"
measure 300 http --url "$redis_probe_url" --pid "$v" --n "$n" "${redis_server[@]}"
emit vigil_probe_redis "$measured"
stop_started "$v"

# --- Redis -----------------------------------------------------------------------
start_bg "$tmp/re.log" prometheus-redis-exporter --redis.addr="redis://127.0.0.1:$redis_port" \
  --redis.password="$redis_password" --web.listen-address="127.0.0.1:$http_port"
re=$started
wait_http "http://127.0.0.1:$http_port/metrics" "$re"
measure 300 http --url "http://127.0.0.1:$http_port/metrics" --pid "$re" --n "$n" "${redis_server[@]}"
emit redis_exporter "$measured"
stop_started "$re"

run_vigil vigil-redis redis
v=$started
measure 300 daemon --metrics "http://127.0.0.1:$http_port/metrics" --target redis --pid "$v" --seconds "$daemon_secs" "${redis_server[@]}"
emit vigil_daemon_redis "$measured"
stop_started "$v"

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
