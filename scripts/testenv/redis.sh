#!/usr/bin/env bash
# Starts or stops a throwaway Redis server for tests, on a loopback port.
#
#   redis.sh start <dir> <port>   daemonized redis-server on 127.0.0.1:<port> and the unix
#                                 socket <dir>/redis.sock, with its pid file, log and
#                                 dump in <dir>; the default user needs the password
#                                 $VIGIL_REDIS_PASSWORD (default "vigil-test"); the ACL
#                                 user "vigil" (password $VIGIL_REDIS_ACL_PASSWORD,
#                                 default "vigil-acl") may only run what a probe needs:
#                                 AUTH/PING/HELLO, INFO and CONFIG GET. Prints the PID.
#   redis.sh stop <dir>           SIGTERM by PID, then SIGKILL if still there.
set -euo pipefail

password=${VIGIL_REDIS_PASSWORD:-vigil-test}
acl_password=${VIGIL_REDIS_ACL_PASSWORD:-vigil-acl}

usage() {
  echo "usage: $0 start <dir> <port> | stop <dir>" >&2
  exit 2
}

start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
    --save "" --appendonly no \
    --requirepass "$password" \
    --user vigil on ">$acl_password" "~*" "+@connection" "+info" "+config|get"
  for _ in $(seq 1 100); do
    if [[ -s $dir/redis.pid ]] &&
      REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      cat "$dir/redis.pid"
      return 0
    fi
    sleep 0.05
  done
  echo "redis-server on port $port did not come up; see $dir/redis.log" >&2
  exit 1
}

stop() {
  local dir=$1
  [[ -s $dir/redis.pid ]] || return 0
  local pid
  pid=$(cat "$dir/redis.pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
  start) [[ $# -eq 3 ]] || usage; start "$2" "$3" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
