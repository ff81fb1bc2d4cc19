"""Shared helpers for Vigil's end-to-end tests: free ports, HTTP calls and
starting/stopping the real vigil binary. Standard library only."""

import gzip
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
