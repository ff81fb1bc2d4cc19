"""End-to-end test of the vigil daemon: the real binary on a free loopback
port, every endpoint, reloads with good and bad configs (HTTP and SIGHUP),
systemd notifications, promtool's verdict on /metrics, and SIGTERM."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

from vigiltest import (VIGIL, SOURCE_DIR, VigilProcess, get_text, http, metric_value,
                       wait_until)

GOOD_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels:
    site: e2e
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['127.0.0.1:$PORT']
"""

SECRET = "s3cr3t-do-not-print"

CONFIG_WITH_SECRET = GOOD_CONFIG + f"""\
  - job_name: protected
    basic_auth:
      username: monitor
      password: {SECRET}
    static_configs:
      - targets: ['127.0.0.1:9100']
"""

BAD_CONFIG = """\
global:
  scrape_interval: 15x
"""


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.notify_dir = None

    def start(self, config=GOOD_CONFIG, env=None):
        self.vigil = VigilProcess(config, env=env)
        self.addCleanup(self.vigil.close)
        return self.vigil.start()

    def metrics(self):
        status, text = get_text(self.vigil.base + "/metrics")
        self.assertEqual(status, 200)
        return text

    def test_endpoints(self):
        v = self.start()
        self.assertEqual(get_text(v.base + "/-/healthy"), (200, "Vigil is Healthy.\n"))
        self.assertEqual(get_text(v.base + "/-/ready"), (200, "Vigil is Ready.\n"))
        status, page = get_text(v.base + "/")
        self.assertEqual(status, 200)
        self.assertIn("<h1>Vigil</h1>", page)
        self.assertIn('href="/metrics"', page)
        self.assertEqual(http("GET", v.base + "/no/such/page")[0], 404)
        self.assertEqual(http("GET", v.base + "/-/reload")[0], 405)

        text = self.metrics()
        self.assertEqual(metric_value(text, "vigil_config_last_reload_successful"), 1)
        self.assertGreater(metric_value(text, "vigil_config_last_reload_success_timestamp_seconds"),
                           time.time() - 60)
        build = [l for l in text.splitlines() if l.startswith("vigil_build_info{")]
        self.assertEqual(len(build), 1, text)
        self.assertIn('version="', build[0])
        self.assertTrue(build[0].endswith(" 1"))
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                     "process_start_time_seconds"):
            self.assertIsNotNone(metric_value(text, name), name)
        self.assertGreater(metric_value(text, "process_resident_memory_bytes"), 1e6)
        self.assertIn('vigil_http_requests_total{code="200",handler="/-/healthy"} 1', text)
        self.assertIn('vigil_http_request_duration_seconds_count{handler="/-/healthy"} 1', text)

        status, headers, body = http("GET", v.base + "/metrics",
                                     headers={"Accept-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Encoding"), "gzip")
        self.assertEqual(body[:2], b"\x1f\x8b")
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        self.assertEqual(v.stop(), 0)

    @unittest.skipUnless(shutil.which("promtool"), "promtool (Debian package prometheus) missing")
    def test_metrics_pass_promtool(self):
        v = self.start()
        text = self.metrics()
        result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                capture_output=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(v.stop(), 0)

    def test_reload_good_and_bad(self):
        v = self.start()
        first = metric_value(self.metrics(), "vigil_config_last_reload_success_timestamp_seconds")
        time.sleep(0.01)
        v.write_config(GOOD_CONFIG.replace("scrape_interval: 1s", "scrape_interval: 30s"))
        status, _, body = http("POST", v.base + "/-/reload")
        self.assertEqual(status, 200, body)
        text = self.metrics()
        self.assertEqual(metric_value(text, "vigil_config_last_reload_successful"), 1)
        self.assertGreater(
            metric_value(text, "vigil_config_last_reload_success_timestamp_seconds"), first)
        self.assertIn("scrape_interval: 30s", get_text(v.base + "/api/v1/status/config")[1])

        v.write_config(BAD_CONFIG)
        status, _, body = http("POST", v.base + "/-/reload")
        self.assertEqual(status, 500)
        self.assertIn(f"{v.config_path}:2:20: not a valid duration string: \"15x\"", body.decode())
        self.assertEqual(metric_value(self.metrics(), "vigil_config_last_reload_successful"), 0)
        # The old config keeps running.
        self.assertIn("scrape_interval: 30s", get_text(v.base + "/api/v1/status/config")[1])
        self.assertEqual(get_text(v.base + "/-/ready")[0], 200)
        self.assertIn("failed", get_text(v.base + "/")[1])

        # SIGHUP with the bad config: still serving, still failed.
        v.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertIsNone(v.proc.poll())
        self.assertEqual(metric_value(self.metrics(), "vigil_config_last_reload_successful"), 0)
        # SIGHUP with a fixed config: reload succeeds.
        v.write_config(GOOD_CONFIG)
        v.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: metric_value(self.metrics(),
                                        "vigil_config_last_reload_successful") == 1,
                   what="SIGHUP reload")
        self.assertIn("scrape_interval: 1s", get_text(v.base + "/api/v1/status/config")[1])
        logs = v.logs()
        self.assertIn("level=error", logs)
        self.assertIn("not a valid duration string", logs)
        self.assertEqual(v.stop(), 0)

    def test_scrapes_itself_into_the_store(self):
        v = self.start()
        status, page = get_text(v.base + "/")
        # Ready means the first scrape of every target finished.
        self.assertIn(f"http://127.0.0.1:{v.port}/metrics", page)
        self.assertIn("<td>up</td>", page)
        wait_until(lambda: metric_value(self.metrics(), "vigil_store_series") > 50,
                   what="scraped series in the store")
        # A second scrape adds samples but no new series of its own metrics.
        samples = metric_value(self.metrics(), "vigil_store_samples")
        wait_until(lambda: metric_value(self.metrics(), "vigil_store_samples") > samples,
                   what="a second scrape")
        self.assertEqual(v.stop(), 0)

    def test_secrets_never_shown(self):
        v = self.start(CONFIG_WITH_SECRET)
        for path in ("/api/v1/status/config", "/", "/metrics"):
            self.assertNotIn(SECRET, get_text(v.base + path)[1], path)
        self.assertIn("<secret>", get_text(v.base + "/api/v1/status/config")[1])
        v.stop()
        self.assertNotIn(SECRET, v.logs())

    def test_bad_initial_config_exits_nonzero(self):
        v = VigilProcess(BAD_CONFIG)
        self.addCleanup(v.close)
        v.start(wait_ready=False)
        self.assertEqual(v.proc.wait(timeout=10), 1)
        self.assertIn("not a valid duration string", v.logs())

    def test_systemd_notifications(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"vigil-e2e-notify-{os.getpid()}")
        if os.path.exists(path):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        self.addCleanup(lambda: (sock.close(), os.unlink(path)))
        v = self.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        got = []

        def receive_until(state):
            while True:
                msg = sock.recv(256).decode()
                got.append(msg)
                if state in msg:
                    return

        receive_until("READY=1")
        receive_until("WATCHDOG=1")
        receive_until("WATCHDOG=1")  # repeated every WATCHDOG_USEC/2
        http("POST", v.base + "/-/reload")
        receive_until("RELOADING=1")
        receive_until("READY=1")
        self.assertEqual(v.stop(), 0)
        receive_until("STOPPING=1")

    def test_sigterm_stops_quickly_with_open_connections(self):
        v = self.start()
        idle = socket.create_connection(("127.0.0.1", v.port))  # keep-alive client
        self.addCleanup(idle.close)
        started = time.monotonic()
        self.assertEqual(v.stop(timeout=5), 0)
        self.assertLess(time.monotonic() - started, 5)


class CommandLineTest(unittest.TestCase):
    def run_vigil(self, *args):
        # The bundled vigil.yml reads the demo passwords from the environment.
        env = dict(os.environ, VIGIL_PG_PASSWORD="x", VIGIL_REDIS_PASSWORD="y")
        return subprocess.run([VIGIL, *args], capture_output=True, text=True, timeout=30,
                              env=env)

    def test_version(self):
        r = self.run_vigil("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^vigil, version \d+\.\d+\.\d+ \(revision: \S+\)\n  compiler: ")

    def test_check_config(self):
        bundled = os.path.join(SOURCE_DIR, "vigil.yml")
        ok = self.run_vigil("check", "config", bundled)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("SUCCESS", ok.stdout)
        v = VigilProcess(BAD_CONFIG + "bogus_key: 1\n")
        self.addCleanup(v.close)
        bad = self.run_vigil("check", "config", bundled, v.config_path)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stderr.splitlines(), [
            f"{v.config_path}:2:20: not a valid duration string: \"15x\"",
            f"{v.config_path}:3:1: unknown field \"bogus_key\" in config",
        ])

    def test_unknown_flag(self):
        r = self.run_vigil("--no.such-flag=1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown flag --no.such-flag", r.stderr)


if __name__ == "__main__":
    unittest.main()
