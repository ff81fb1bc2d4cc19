"""End-to-end delivery to a real Alertmanager (Debian's prometheus-alertmanager 0.25):
vigil scrapes a target whose error rate the test controls, evaluates a rule
file, and the alert must reach Alertmanager firing with its labels and
annotations, then resolved. Fault test: Alertmanager down for two minutes while
alerts change, then back: every state change arrives and the error counters
show the retries. HA test: two vigils with the same config, one alert."""

import json
import os
import time
import unittest

from vigiltest import (Alertmanager, MetricsTarget, VigilProcess, WebhookReceiver, get_text,
                       metric_value, parse_time, wait_until)

RULES = """\
groups:
  - name: service
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (job) (rate(http_requests_total{status=~"5.."}[10s]))
            / sum by (job) (rate(http_requests_total[10s])) > 0.1
        for: 2s
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} error rate is {{ $value | humanizePercentage }}"
"""


def config(target_ports, am_port, rules_path):
    jobs = "".join(f"""\
  - job_name: {job}
    static_configs:
      - targets: ['127.0.0.1:{port}']
""" for job, port in target_ports.items())
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels:
    cluster: e2e
rule_files: ['{rules_path}']
alerting:
  alertmanagers:
    - timeout: 2s
      static_configs:
        - targets: ['127.0.0.1:{am_port}']
scrape_configs:
""" + jobs


class AlertmanagerTest(unittest.TestCase):
    def setUp(self):
        self.receiver = WebhookReceiver()
        self.addCleanup(self.receiver.close)
        self.am = Alertmanager(self.receiver.url).start()
        self.addCleanup(self.am.close)
        self.target = MetricsTarget()
        self.addCleanup(self.target.close)
        self.web = MetricsTarget()
        self.addCleanup(self.web.close)

    def start_vigil(self):
        v = VigilProcess("", extra_args=["--rules.alert.resend-delay=2s"])
        self.addCleanup(v.close)
        rules_path = os.path.join(v.dir.name, "rules.yml")
        with open(rules_path, "w") as f:
            f.write(RULES)
        v.write_config(config({"api": self.target.port, "web": self.web.port}, self.am.port,
                              rules_path))
        return v.start()

    def firing(self, job="api"):
        return [a for a in self.am.alerts() if a["labels"].get("alertname") == "HighErrorRate"
                and a["labels"].get("job") == job]

    def test_alert_fires_and_resolves(self):
        v = self.start_vigil()
        self.target.set_error_rate(5)  # 5 errors per 15 requests: 33%
        wait_until(lambda: len(self.firing()) == 1, timeout=30, what="the alert in Alertmanager")
        alert = self.firing()[0]
        self.assertEqual(alert["labels"], {"alertname": "HighErrorRate", "job": "api",
                                           "severity": "page", "cluster": "e2e"})
        self.assertRegex(alert["annotations"]["summary"], r"^api error rate is \d+(\.\d+)?%$")
        # Once the 10s window holds only the new rate, resends carry the exact value.
        wait_until(lambda: self.firing()[0]["annotations"]["summary"] == "api error rate is 33.33%",
                   timeout=30, what="the annotation to settle")
        self.assertIn("/graph?g0.expr=", alert["generatorURL"])
        # The status page and /api/v1/rules show the rule, healthy, and the alert.
        page = get_text(v.base + "/")[1]
        self.assertIn("<td>service</td><td>HighErrorRate</td><td>alerting</td><td>ok</td>", page)
        rules = json.loads(get_text(v.base + "/api/v1/rules")[1])["data"]["groups"]
        self.assertEqual([(r["name"], r["health"], r["state"]) for r in rules[0]["rules"]],
                         [("HighErrorRate", "ok", "firing")])
        alerts = json.loads(get_text(v.base + "/api/v1/alerts")[1])["data"]["alerts"]
        self.assertEqual([a["labels"]["job"] for a in alerts if a["state"] == "firing"], ["api"])

        self.target.set_error_rate(0)
        wait_until(lambda: not self.firing(), timeout=40, what="the alert to resolve")
        wait_until(lambda: ("resolved", parse_time(alert["startsAt"]))
                   in self.receiver.states("HighErrorRate"),
                   timeout=20, what="the resolved notification")
        text = get_text(v.base + "/metrics")[1]
        self.assertGreaterEqual(metric_value(
            text, f'vigil_notifications_sent_total{{alertmanager="http://127.0.0.1:{self.am.port}'
                  f'/api/v2/alerts"}}'), 2)
        self.assertEqual(v.stop(), 0)

    def test_alertmanager_outage_loses_nothing(self):
        v = self.start_vigil()
        self.target.set_error_rate(5)
        wait_until(lambda: len(self.firing("api")) == 1, timeout=30, what="api's alert to fire")
        api_started = parse_time(self.firing("api")[0]["startsAt"])
        self.am.stop()
        outage_started = time.monotonic()
        # While Alertmanager is down, api's alert resolves and web's fires.
        self.target.set_error_rate(0)
        self.web.set_error_rate(5)
        time.sleep(120 - (time.monotonic() - outage_started))
        text = get_text(v.base + "/metrics")[1]
        am = f'alertmanager="http://127.0.0.1:{self.am.port}/api/v2/alerts"'
        self.assertGreater(metric_value(text, f"vigil_notifications_queue_length{{{am}}}"), 0)
        self.am.start()
        wait_until(lambda: ("resolved", api_started) in self.receiver.states("HighErrorRate", "api"),
                   timeout=60, what="api's resolution, sent during the outage")
        wait_until(lambda: len(self.firing("web")) == 1, timeout=60, what="web's alert")
        wait_until(lambda: "firing" in [s for s, _ in self.receiver.states("HighErrorRate", "web")],
                   timeout=30, what="web's firing notification")
        text = get_text(v.base + "/metrics")[1]
        self.assertGreater(metric_value(text, f"vigil_notifications_errors_total{{{am}}}"), 0)
        self.assertEqual(metric_value(text, f"vigil_notifications_dropped_total{{{am}}}"), 0)
        self.assertEqual(v.stop(), 0)

    def test_ha_pair_gives_one_alert(self):
        a = self.start_vigil()
        b = self.start_vigil()
        self.target.set_error_rate(5)
        wait_until(lambda: len(self.firing()) == 1, timeout=30, what="the alert")
        time.sleep(5)  # both have sent several times by now
        self.assertEqual(len(self.firing()), 1)
        for v in (a, b):
            text = get_text(v.base + "/metrics")[1]
            sent = metric_value(text, f'vigil_notifications_sent_total{{alertmanager="http://'
                                      f'127.0.0.1:{self.am.port}/api/v2/alerts"}}')
            self.assertGreaterEqual(sent, 1)
            self.assertEqual(v.stop(), 0)


if __name__ == "__main__":
    unittest.main()
