#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 server for tests, on a loopback port.
#
#   postgres.sh start <dir> <port>   initdb in <dir>/data (as the postgres user when run
#                                    as root), start with pg_stat_statements, create the
#                                    login role "vigil" (password in $VIGIL_PG_PASSWORD,
#                                    default "vigil-test") with pg_monitor, and the
#                                    database "test" owned by it. Prints the server PID.
#   postgres.sh start-replica <dir> <port> <primary_dir> <primary_port>
#                                    a streaming hot standby of the server started with
#                                    <primary_dir>: pg_basebackup -R over the primary's unix
#                                    socket into <dir>/data (first time only), then start.
#                                    Prints the server PID.
#   postgres.sh stop <dir>           fast shutdown through pg_ctl, then SIGKILL by PID.
#
# The unix socket lives in <dir>; nothing outside <dir> is touched.
set -euo pipefail

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
password=${VIGIL_PG_PASSWORD:-vigil-test}

usage() {
  echo "usage: $0 start <dir> <port> | start-replica <dir> <port> <primary_dir> <primary_port> | stop <dir>" >&2
  exit 2
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1
  fi
  run "$dir" "$port"
  local psql=(as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres)
  "${psql[@]}" -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil') THEN
    CREATE ROLE vigil LOGIN PASSWORD '$password';
  END IF;
END \$\$;
GRANT pg_monitor TO vigil;
SQL
  if [[ -z $("${psql[@]}" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE test OWNER vigil"
  fi
  "${psql[@]}" -d test -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
  head -1 "$dir/data/postmaster.pid"
}

# Starts the server of <dir>/data on <port>; waits until it accepts connections.
run() {
  local dir=$1 port=$2
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c fsync=off" \
    start >/dev/null
}

start_replica() {
  local dir=$1 port=$2 primary_dir=$3 primary_port=$4
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_pg "$bindir/pg_basebackup" -h "$primary_dir" -p "$primary_port" -U postgres \
      -D "$dir/data" -R -X stream --checkpoint=fast --no-sync >"$dir/basebackup.log" 2>&1
  fi
  run "$dir" "$port"
  head -1 "$dir/data/postmaster.pid"
}

stop() {
  local dir=$1
  [[ -f $dir/data/postmaster.pid ]] || return 0
  local pid
  pid=$(head -1 "$dir/data/postmaster.pid")
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 || true
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

case ${1:-} in
  start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
  start-replica) [[ $# -eq 5 ]] || usage; start_replica "$2" "$3" "$4" "$5" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
