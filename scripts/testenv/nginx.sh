#!/bin/sh
# Starts or stops a throw-away nginx for Vigil's HTTP probe tests, everything
# (config, pid file, logs, temp paths, TLS material) inside <dir>, listening on
# 127.0.0.1 only. Never touches the system nginx or systemd.
#
#   nginx.sh start <dir> <http_port> <https_port> [<owner_pid>]
#   nginx.sh stop <dir>
#
# With <owner_pid> (a test process), a detached watchdog stops nginx once that
# process is gone, so a crashed or killed test leaves no server behind.
#
# start writes:
#   <dir>/tls/ca.pem            test CA (valid 400 days) that signed the server cert
#   <dir>/tls/server.pem        server cert, CN 127.0.0.1, SAN IP:127.0.0.1 + DNS:localhost (800 days)
#   <dir>/tls/ca.notafter       the CA cert's notAfter as Unix seconds
#   <dir>/tls/server.notafter   the server cert's notAfter as Unix seconds
# The HTTPS listener presents server + CA, so the earliest expiry of the chain is the CA's.
# Paths served (both ports; gzip on for text/json bodies of 1 KB and more):
#   /health, /api/health  200 {"status":"ok","checks":{"db":{"latency_ms":12}}}
#   /redirect             302 to /health
#   /status/500           500
#   /big                  200, 2 MiB of text
#   /metrics              200, a static Prometheus text body (> 1 KB)
set -eu

usage() {
  echo "usage: $0 start <dir> <http_port> <https_port> [<owner_pid>] | stop <dir>" >&2
  exit 2
}

notafter() {
  date -u -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s
}

start() {
  dir=$(realpath -m "$1")
  http_port=$2
  https_port=$3
  owner=${4:-}
  mkdir -p "$dir/www/status" "$dir/tmp" "$dir/logs" "$dir/tls"
  # nginx workers run as nobody: everything they serve must be world-readable.
  chmod 755 "$dir" "$dir/www" "$dir/www/status" "$dir/tmp" "$dir/logs" "$dir/tls"

  tls=$dir/tls
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 400 -subj "/CN=Vigil Test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 800 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  cat "$tls/server.pem" "$tls/ca.pem" >"$tls/chain.pem"
  notafter "$tls/ca.pem" >"$tls/ca.notafter"
  notafter "$tls/server.pem" >"$tls/server.notafter"
  chmod 644 "$tls"/*

  printf '{"status":"ok","checks":{"db":{"latency_ms":12}}}' >"$dir/www/health.json"
  head -c 2097152 /dev/zero | tr '\0' 'v' >"$dir/www/big.txt"
  {
    echo '# HELP demo_requests_total Requests served.'
    echo '# TYPE demo_requests_total counter'
    i=0
    while [ $i -lt 40 ]; do
      echo "demo_requests_total{path=\"/p$i\",code=\"200\"} $((i * 7))"
      i=$((i + 1))
    done
  } >"$dir/www/metrics.txt"
  chmod 644 "$dir"/www/*

  cat >"$dir/nginx.conf" <<CONF
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/client;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  default_type application/octet-stream;
  gzip on;
  gzip_min_length 1024;
  gzip_types text/plain application/json;
  server {
    listen 127.0.0.1:$http_port;
    listen 127.0.0.1:$https_port ssl http2;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $tls/chain.pem;
    ssl_certificate_key $tls/server.key;
    root $dir/www;
    location = /health { default_type application/json; alias $dir/www/health.json; }
    location = /api/health { default_type application/json; alias $dir/www/health.json; }
    location = /redirect { return 302 /health; }
    location = /status/500 { default_type text/plain; return 500 "internal error\n"; }
    location = /big { default_type text/plain; alias $dir/www/big.txt; }
    location = /metrics { default_type text/plain; alias $dir/www/metrics.txt; }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
  # nginx writes its pid file once the listeners are bound.
  i=0
  while [ ! -s "$dir/nginx.pid" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      echo "nginx did not start; see $dir/logs/error.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  if [ -n "$owner" ]; then
    nohup sh -c 'while kill -0 "$1" 2>/dev/null && [ -s "$2/nginx.pid" ]; do sleep 1; done
                 "$3" stop "$2"' watchdog "$owner" "$dir" "$(realpath "$0")" \
      </dev/null >/dev/null 2>&1 &
  fi
}

stop() {
  dir=$(realpath -m "$1")
  [ -s "$dir/nginx.pid" ] || return 0
  pid=$(cat "$dir/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  rm -f "$dir/nginx.pid"
}

[ $# -ge 2 ] || usage
case $1 in
  start) [ $# -eq 4 ] || [ $# -eq 5 ] || usage; start "$2" "$3" "$4" "${5:-}" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
