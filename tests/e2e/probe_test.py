"""End-to-end probes of the real vigil binary against real servers started on
loopback ports (nginx from scripts/testenv/nginx.sh): blackbox-compatible
/probe, scheduled probes exported on /metrics with the target's labels, the
failure reason on the status page, and promtool's verdict on both outputs."""

import os
import shutil
import subprocess
import tempfile
import unittest

from vigiltest import SOURCE_DIR, VigilProcess, free_port, get_text, http, metric_value, wait_until

NGINX = os.path.join(SOURCE_DIR, "scripts", "testenv", "nginx.sh")


def setUpModule():
    global NGINX_DIR, HTTP_PORT, HTTPS_PORT
    NGINX_DIR = tempfile.mkdtemp(prefix="vigil-e2e-nginx-")
    HTTP_PORT, HTTPS_PORT = free_port(), free_port()
    subprocess.run([NGINX, "start", NGINX_DIR, str(HTTP_PORT), str(HTTPS_PORT), str(os.getpid())],
                   check=True, stdout=subprocess.DEVNULL)


def tearDownModule():
    subprocess.run([NGINX, "stop", NGINX_DIR], check=False)
    shutil.rmtree(NGINX_DIR, ignore_errors=True)


def config():
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
modules:
  http_2xx:
    prober: http
    timeout: 1s
  health_json:
    prober: http
    timeout: 1s
    http:
      fail_if_body_json_not_matches: ['status == "ok"', 'checks.db.latency_ms < 200']
probes:
  - name: frontend
    module: health_json
    target: http://127.0.0.1:{HTTP_PORT}/health
    interval: 1s
    labels: {{service: frontend}}
  - name: broken
    module: http_2xx
    target: http://127.0.0.1:{HTTP_PORT}/status/500
    interval: 1s
"""


class ProbeTest(unittest.TestCase):
    def setUp(self):
        self.vigil = VigilProcess(config())
        self.addCleanup(self.vigil.close)
        self.vigil.start()  # ready means every probe ran once

    def test_blackbox_compatible_probe_endpoint(self):
        base = self.vigil.base
        status, text = get_text(f"{base}/probe?module=http_2xx&target=http://127.0.0.1:{HTTP_PORT}/health")
        self.assertEqual(status, 200)
        self.assertEqual(metric_value(text, "probe_success"), 1)
        self.assertEqual(metric_value(text, "probe_http_status_code"), 200)
        self.assertGreater(metric_value(text, "probe_duration_seconds"), 0)
        self.assertIsNotNone(metric_value(text, 'probe_http_duration_seconds{phase="connect"}'))
        status, text = get_text(f"{base}/probe?module=http_2xx&target=http://127.0.0.1:{HTTP_PORT}/status/500")
        self.assertEqual(metric_value(text, "probe_success"), 0)
        self.assertEqual(metric_value(text, "probe_http_status_code"), 500)
        self.assertEqual(http("GET", f"{base}/probe?module=nope&target=x")[0], 400)
        self.assertEqual(http("GET", f"{base}/probe?module=http_2xx")[0], 400)

    @unittest.skipUnless(shutil.which("promtool"), "promtool (Debian package prometheus) missing")
    def test_outputs_pass_promtool(self):
        for path in (f"/probe?module=health_json&target=http://127.0.0.1:{HTTP_PORT}/health",
                     "/metrics"):
            text = get_text(self.vigil.base + path)[1]
            result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                    capture_output=True)
            self.assertEqual(result.returncode, 0, path + ": " + (result.stdout + result.stderr).decode())

    def test_scheduled_probes_are_exported_with_their_labels(self):
        text = get_text(self.vigil.base + "/metrics")[1]
        ok = (f'probe_success{{instance="http://127.0.0.1:{HTTP_PORT}/health",module="health_json",'
              f'service="frontend",target="frontend"}}')
        self.assertEqual(metric_value(text, ok), 1, text)
        bad = (f'probe_success{{instance="http://127.0.0.1:{HTTP_PORT}/status/500",'
               f'module="http_2xx",target="broken"}}')
        self.assertEqual(metric_value(text, bad), 0)
        wait_until(lambda: (metric_value(get_text(self.vigil.base + "/metrics")[1],
                                         'vigil_probe_failure_total{module="http_2xx",'
                                         'reason="http_status",target="broken"}') or 0) >= 2,
                   what="failures counted by reason")
        page = get_text(self.vigil.base + "/")[1]
        self.assertIn("http_status", page)
        self.assertEqual(self.vigil.stop(), 0)


if __name__ == "__main__":
    unittest.main()
