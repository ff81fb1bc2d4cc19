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
#   redis.sh start-tls <dir> <port>
#                                 the same server, but TLS only on 127.0.0.1:<port> (no
#                                 plain port, no unix socket), with a test CA and a server
#                                 certificate for IP:127.0.0.1 and DNS:localhost made with
#                                 openssl in <dir>/tls (ca.pem; other-ca.pem is a CA that
#                                 did not sign it; client.pem/client.key a client
#                                 certificate the CA signed); kept when the server is
#                                 started again. Client certificates are required when
#                                 $VIGIL_REDIS_TLS_AUTH_CLIENTS is "yes" (default "no").
#   redis.sh stop <dir>           SIGTERM by PID, then SIGKILL if still there.
set -euo pipefail

password=${VIGIL_REDIS_PASSWORD:-vigil-test}
acl_password=${VIGIL_REDIS_ACL_PASSWORD:-vigil-acl}

usage() {
  echo "usage: $0 start <dir> <port> | start-tls <dir> <port> | stop <dir>" >&2
  exit 2
}

# A CA, a server certificate it signed, and an unrelated CA, in $1 (once).
make_certs() {
  local tls=$1
  [[ -s $tls/server.pem ]] && return 0
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 400 \
    -subj "/CN=Vigil Redis Test CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 400 \
    -subj "/CN=Vigil Other CA" -keyout "$tls/other-ca.key" -out "$tls/other-ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 800 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=vigil" \
    -keyout "$tls/client.key" -out "$tls/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$tls/client.ext"
  openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 800 -extfile "$tls/client.ext" -out "$tls/client.pem" 2>/dev/null
}

start() {
  local dir=$1 port=$2 tls=${3:-}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local listen=(--port "$port" --unixsocket "$dir/redis.sock" --unixsocketperm 700)
  local cli=()
  if [[ -n $tls ]]; then
    make_certs "$dir/tls"
    listen=(--port 0 --tls-port "$port" --tls-cert-file "$dir/tls/server.pem"
      --tls-key-file "$dir/tls/server.key" --tls-ca-cert-file "$dir/tls/ca.pem"
      --tls-auth-clients "${VIGIL_REDIS_TLS_AUTH_CLIENTS:-no}")
    cli=(--tls --cacert "$dir/tls/ca.pem" --cert "$dir/tls/client.pem" --key "$dir/tls/client.key")
  fi
  redis-server "${listen[@]}" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    --save "" --appendonly no \
    --requirepass "$password" \
    --user vigil on ">$acl_password" "~*" "+@connection" "+info" "+config|get"
  for _ in $(seq 1 100); do
    if [[ -s $dir/redis.pid ]] &&
      REDISCLI_AUTH=$password redis-cli "${cli[@]}" -h 127.0.0.1 -p "$port" ping 2>/dev/null |
      grep -q PONG; then
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
  start-tls) [[ $# -eq 3 ]] || usage; start "$2" "$3" tls ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
