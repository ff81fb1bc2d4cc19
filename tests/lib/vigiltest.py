"""Shared helpers for Vigil's end-to-end tests: free ports, HTTP calls and
starting/stopping the real vigil binary. Standard library only."""

import datetime
import gzip
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

VIGIL = os.environ.get("VIGIL_BINARY", "vigil")
SOURCE_DIR = os.environ.get("VIGIL_SOURCE_DIR", os.getcwd())


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers, body bytes); never raises on HTTP errors."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_text(url, **kw):
    status, headers, body = http("GET", url, **kw)
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body.decode()


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def parse_time(text):
    """An RFC 3339 time as Alertmanager writes it (".5Z" in webhooks, ".500Z" in
    its API) as a datetime, so that both spellings compare equal."""
    return datetime.datetime.fromisoformat(text)


def metric_value(metrics_text, series):
    """The value of the exact series line `series` (e.g. 'up{job="x"}') or None."""
    for line in metrics_text.splitlines():
        if line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return None


class VigilProcess:
    """Runs the real vigil binary on a free loopback port with a config file
    in its own temporary directory; stop() sends SIGTERM and waits."""

    def __init__(self, config_text, extra_args=(), env=None):
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-e2e-")
        self.config_path = os.path.join(self.dir.name, "vigil.yml")
        self.port = free_port()
        self.write_config(config_text)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir.name, "vigil.log")
        self.args = [VIGIL, f"--config.file={self.config_path}",
                     f"--web.listen-address=127.0.0.1:{self.port}",
                     f"--storage.state-dir={os.path.join(self.dir.name, 'state')}",
                     *extra_args]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def write_config(self, text):
        """Writes the config; "$PORT" in it becomes vigil's own port."""
        with open(self.config_path, "w") as f:
            f.write(text.replace("$PORT", str(self.port)))

    def start(self, wait_ready=True):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        if wait_ready:
            wait_until(lambda: http("GET", self.base + "/-/ready")[0] == 200, timeout=20,
                       what="vigil to be ready")
        return self

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=5.0):
        """SIGTERM, then the exit code; fails the test if it takes over `timeout`."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"vigil did not stop within {timeout}s of SIGTERM")
        finally:
            self.log.close()

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.dir.cleanup()


class Alertmanager:
    """Debian's prometheus-alertmanager on a free loopback port (clustering off),
    routing every alert to a webhook receiver at `webhook_url` with resolved
    notifications on. stop() ends it by PID; start() again keeps its port."""

    def __init__(self, webhook_url):
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-am-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_path = os.path.join(self.dir.name, "alertmanager.yml")
        with open(self.config_path, "w") as f:
            f.write(f"""\
route:
  receiver: hook
  group_by: ['alertname', 'job']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: '{webhook_url}'
        send_resolved: true
""")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir.name, "am.log"), "a")
        self.proc = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={self.config_path}",
             f"--storage.path={os.path.join(self.dir.name, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: http("GET", self.base + "/-/ready")[0] == 200, timeout=20,
                   what="alertmanager to be ready")
        return self

    def alerts(self):
        """Active alerts as Alertmanager's API v2 lists them."""
        status, _, body = http("GET", self.base + "/api/v2/alerts")
        assert status == 200, status
        return json.loads(body)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
            self.log.close()

    def close(self):
        self.stop()
        self.dir.cleanup()


class MetricsTarget:
    """A scrape target the test controls: serves `http_requests_total` counters
    on /metrics from a thread, growing by the configured rates every scrape."""

    def __init__(self):
        import http.server
        import threading
        target = self
        self.lock = threading.Lock()
        self.counts = {"200": 0.0, "500": 0.0}
        self.rates = {"200": 10.0, "500": 0.0}  # added per scrape

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with target.lock:
                    for code, rate in target.rates.items():
                        target.counts[code] += rate
                    body = "# TYPE http_requests_total counter\n" + "".join(
                        f'http_requests_total{{status="{code}"}} {value}\n'
                        for code, value in target.counts.items())
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set_error_rate(self, errors_per_scrape):
        with self.lock:
            self.rates["500"] = errors_per_scrape

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver:
    """Records every notification Alertmanager posts to it (JSON bodies)."""

    def __init__(self):
        import http.server
        import threading
        receiver = self
        self.lock = threading.Lock()
        self.notifications = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.notifications.append(payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def states(self, alertname, job=None):
        """[(status, startsAt as a datetime)] of every notified alert named
        `alertname` (and of `job` when given), in order."""
        with self.lock:
            return [(a["status"], parse_time(a["startsAt"])) for n in self.notifications
                    for a in n["alerts"] if a["labels"].get("alertname") == alertname
                    and (job is None or a["labels"].get("job") == job)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """Debian's prometheus server on a free loopback port, with `config_text`
    as its config and its TSDB in its own temporary directory. The server gets
    SIGTERM if the test process dies; stop() ends it by PID."""

    def __init__(self, config_text):
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-prom-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_path = os.path.join(self.dir.name, "prometheus.yml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(self.dir.name, "prometheus.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.dir.name, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        wait_until(lambda: http("GET", self.base + "/-/ready")[0] == 200, timeout=20,
                   what="prometheus to be ready")
        return self

    def api(self, path, **params):
        """The `data` of a successful Prometheus HTTP API answer, e.g.
        api("/api/v1/query", query="up"); fails the test on any error."""
        import urllib.parse
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = http("GET", url)
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "success", (url, status, answer)
        return answer["data"]

    def query(self, expr):
        """The instant vector `expr` evaluates to now, as {labels: value}, the
        labels a tuple of (name, value) pairs sorted by name, __name__ included."""
        data = self.api("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in data["result"]}

    def targets(self, job):
        """The active targets of scrape pool `job` as /api/v1/targets lists them."""
        return [t for t in self.api("/api/v1/targets", state="active")["activeTargets"]
                if t["scrapePool"] == job]

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()

    def close(self):
        self.stop()
        self.dir.cleanup()


def _die_with_parent():
    """In a child before exec: ask Linux for SIGTERM when the parent dies."""
    import ctypes
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class StaticTarget:
    """A scrape target serving the fixed exposition text `body` on /metrics
    from a thread, so every scraper sees exactly the same values."""

    def __init__(self, body):
        import http.server
        import threading
        data = body.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
