"""End-to-end test with a real Prometheus (Debian's prometheus 2.42) next to the
real vigil binary, everything on loopback ports:
  - Prometheus scrapes Vigil's own /metrics: the target is up, every series and
    value Vigil exposes arrives intact, with its TYPE and HELP;
  - Prometheus scrapes Vigil's /probe with the classic blackbox-exporter scrape
    config, unchanged, against nginx (scripts/testenv/nginx.sh);
  - Vigil and Prometheus load the same alerting rule file over the same static
    target, and the alerts both report (labels, annotations, values) agree,
    which compares Vigil's PromQL and templates with Prometheus's."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

from vigiltest import (SOURCE_DIR, Prometheus, StaticTarget, VigilProcess, free_port, get_text,
                       metric_value, wait_until)

NGINX = os.path.join(SOURCE_DIR, "scripts", "testenv", "nginx.sh")

# Prometheus hands new targets to its scrapers at most every 5 s, so the first
# scrape of a job comes 5-6 s after start.
FIRST_SCRAPE_TIMEOUT = 30

STATIC_METRICS = """\
# HELP demo_requests_total Requests served.
# TYPE demo_requests_total counter
demo_requests_total{path="/a",code="200"} 1200
demo_requests_total{path="/a",code="500"} 30
demo_requests_total{path="/b",code="200"} 450
demo_requests_total{path="/b",code="500"} 5
demo_requests_total{path="/c",code="200"} 77
# HELP demo_temperature_celsius Room temperature.
# TYPE demo_temperature_celsius gauge
demo_temperature_celsius{room="lab"} 21.5
demo_temperature_celsius{room="office"} 19.25
demo_temperature_celsius{room="server"} 27.75
# HELP demo_latency_seconds Request latency.
# TYPE demo_latency_seconds histogram
demo_latency_seconds_bucket{path="/a",le="0.05"} 600
demo_latency_seconds_bucket{path="/a",le="0.1"} 900
demo_latency_seconds_bucket{path="/a",le="0.5"} 1150
demo_latency_seconds_bucket{path="/a",le="+Inf"} 1230
demo_latency_seconds_sum{path="/a"} 98.4
demo_latency_seconds_count{path="/a"} 1230
demo_latency_seconds_bucket{path="/b",le="0.05"} 10
demo_latency_seconds_bucket{path="/b",le="0.1"} 200
demo_latency_seconds_bucket{path="/b",le="0.5"} 440
demo_latency_seconds_bucket{path="/b",le="+Inf"} 455
demo_latency_seconds_sum{path="/b"} 61.7
demo_latency_seconds_count{path="/b"} 455
"""

# Alert name -> expression. Every rule fires at once (no `for`), so the alerts
# API of each server lists one alert per output series, with its value.
COMPARED_EXPRESSIONS = {
    "SumByCode": 'sum by (code) (demo_requests_total)',
    "SumWithoutPath": 'sum without (path) (demo_requests_total)',
    "CountByCode": 'count by (code) (demo_requests_total)',
    "GroupByPath": 'group by (path) (demo_requests_total)',
    "TopK": 'topk(2, demo_requests_total)',
    "BottomK": 'bottomk(1, demo_temperature_celsius)',
    "Avg": 'avg(demo_temperature_celsius)',
    "Stddev": 'stddev(demo_temperature_celsius)',
    "Quantile": 'quantile(0.3, demo_temperature_celsius)',
    "CountValues": 'count_values("reading", demo_temperature_celsius)',
    "RegexFilter": 'demo_requests_total{code=~"5..", path!="/b"}',
    "OneToOne": 'demo_requests_total{code="500"} / ignoring(code) demo_requests_total{code="200"}',
    "GroupLeft": ('demo_requests_total / ignoring(code) group_left '
                  'sum by (instance, job, path) (demo_requests_total)'),
    "Unless": 'demo_requests_total{code="200"} unless on (path) demo_requests_total{code="500"}',
    "Or": 'demo_temperature_celsius{room="lab"} or demo_temperature_celsius{room="office"}',
    "CompareBool": 'demo_requests_total > bool 100',
    "HistogramQuantile": 'histogram_quantile(0.9, demo_latency_seconds_bucket)',
    "HistogramMean": 'demo_latency_seconds_sum / demo_latency_seconds_count',
    "LabelReplace": 'label_replace(demo_temperature_celsius, "site", "hq-$1", "room", "(.*)")',
    "LabelJoin": 'label_join(demo_requests_total{path="/a"}, "key", ":", "path", "code")',
    "Math": 'round(sqrt(demo_temperature_celsius) * ln(demo_temperature_celsius), 0.001)',
    "ModuloPower": '(-demo_temperature_celsius % 7) + demo_temperature_celsius ^ 2',
    "Clamp": 'clamp(demo_temperature_celsius, 20, 25)',
    "OverTime": ('max_over_time(demo_temperature_celsius[10s]) '
                 '- min_over_time(demo_temperature_celsius[10s])'),
    "Changes": 'changes(demo_requests_total{path="/c"}[10s])',
    "Absent": 'absent(demo_missing_total{job="static"})',
    "Scalar": 'vector(scalar(count(demo_requests_total)) * 2 + 1)',
    "Up": 'up{job="static"}',
}


def rules_text():
    rules = "".join(f"""\
      - alert: {name}
        expr: '{expr}'
        labels:
          compared: "yes"
        annotations:
          value: "{{{{ $value }}}}"
          summary: "{{{{ $labels.job }}}} {name} is {{{{ $value | humanize }}}}"
""" for name, expr in COMPARED_EXPRESSIONS.items())
    return "groups:\n  - name: compared\n    interval: 1s\n    rules:\n" + rules


def vigil_config(static_port, rules_path):
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['{rules_path}']
modules:
  http_2xx:
    prober: http
    timeout: 1s
scrape_configs:
  - job_name: static
    static_configs:
      - targets: ['127.0.0.1:{static_port}']
"""


def prometheus_config(vigil_port, http_port, static_port, rules_path):
    return f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['{rules_path}']
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['127.0.0.1:{vigil_port}']
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets:
          - http://127.0.0.1:{http_port}/health
          - http://127.0.0.1:{http_port}/status/500
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{vigil_port}
  - job_name: static
    static_configs:
      - targets: ['127.0.0.1:{static_port}']
"""


SAMPLE_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse_exposition(text):
    """{series: value} of a text exposition, each series a tuple of sorted
    (name, value) label pairs including __name__; label escapes undone."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_LINE.match(line)
        assert match, f"unparsable sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = [("__name__", name)]
        rest = labels or ""
        while rest:
            pair = LABEL_PAIR.match(rest)
            assert pair, f"unparsable labels in: {line!r}"
            raw = pair.group(2)
            pairs.append((pair.group(1), re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                                                else m.group(1), raw)))
            rest = rest[pair.end():]
        samples[tuple(sorted(pairs))] = float(value)
    return samples


def with_target_labels(series, target):
    """`series` as Prometheus stores it when scraped from `target` without
    honor_labels: a scraped label that the target also has becomes
    exported_<name>, then the target's labels are added."""
    taken = {name for name, _ in series} | {name for name, _ in target}
    targets = dict(target)
    renamed = []
    for name, value in series:
        if name in targets:
            name = "exported_" + name
            while name in taken:
                name = "exported_" + name
        renamed.append((name, value))
    return tuple(sorted(renamed + list(target)))


def wait_for(predicate, timeout, what, describe):
    """wait_until(predicate), failing with `what` and describe(), the state
    the wait ended in."""
    try:
        wait_until(predicate, timeout=timeout, interval=0.2, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}: {describe()}") from None


def setUpModule():
    global HTTP_PORT, STATIC, VIGIL, PROMETHEUS
    if not shutil.which("prometheus"):
        raise unittest.SkipTest("prometheus (Debian package prometheus) missing")
    nginx_dir = tempfile.mkdtemp(prefix="vigil-e2e-nginx-")
    unittest.addModuleCleanup(shutil.rmtree, nginx_dir, ignore_errors=True)
    HTTP_PORT = free_port()
    subprocess.run([NGINX, "start", nginx_dir, str(HTTP_PORT), str(free_port()), str(os.getpid())],
                   check=True, stdout=subprocess.DEVNULL)
    unittest.addModuleCleanup(subprocess.run, [NGINX, "stop", nginx_dir], check=False)
    rules_dir = tempfile.mkdtemp(prefix="vigil-e2e-rules-")
    unittest.addModuleCleanup(shutil.rmtree, rules_dir, ignore_errors=True)
    rules_path = os.path.join(rules_dir, "compared.yml")
    with open(rules_path, "w") as f:
        f.write(rules_text())
    STATIC = StaticTarget(STATIC_METRICS)
    unittest.addModuleCleanup(STATIC.close)
    VIGIL = VigilProcess(vigil_config(STATIC.port, rules_path))
    unittest.addModuleCleanup(VIGIL.close)
    VIGIL.start()
    PROMETHEUS = Prometheus(prometheus_config(VIGIL.port, HTTP_PORT, STATIC.port, rules_path))
    unittest.addModuleCleanup(PROMETHEUS.close)
    PROMETHEUS.start()


class PrometheusScrapesVigilTest(unittest.TestCase):
    def healthy_targets(self, job, count):
        """The targets of `job` once all `count` of them were scraped successfully."""
        found = []

        def scraped():
            found[:] = PROMETHEUS.targets(job)
            return len(found) == count and all(t["health"] == "up" for t in found)

        wait_for(scraped, FIRST_SCRAPE_TIMEOUT, f"{count} healthy {job} target(s) in Prometheus",
                 lambda: f"{found}\n{PROMETHEUS.logs()}")
        return sorted(found, key=lambda t: t["labels"]["instance"])

    def test_own_metrics_scraped_by_prometheus(self):
        vigil_address = f"127.0.0.1:{VIGIL.port}"
        [target] = self.healthy_targets("vigil", 1)
        self.assertEqual(target["labels"], {"instance": vigil_address, "job": "vigil"})
        self.assertEqual(target["scrapeUrl"], f"http://{vigil_address}/metrics")
        self.assertEqual(target["lastError"], "")
        instance = (("instance", vigil_address), ("job", "vigil"))
        self.assertEqual(PROMETHEUS.query('up{job="vigil"}'),
                         {(("__name__", "up"), *instance): 1.0})

        text = get_text(VIGIL.base + "/metrics")[1]
        build = [k for k in parse_exposition(text) if ("__name__", "vigil_build_info") in k]
        self.assertEqual(len(build), 1, text)
        expected_build = tuple(sorted(set(build[0]) | set(instance)))
        self.assertEqual(PROMETHEUS.query("vigil_build_info"), {expected_build: 1.0})
        self.assertEqual(dict(expected_build)["version"], "0.1.0")

        # Every series Vigil exposed arrives in Prometheus with the same labels.
        exposed = {with_target_labels(k, instance): v for k, v in parse_exposition(text).items()}
        self.assertGreater(len(exposed), 50)
        stored = {}

        def all_stored():
            data = PROMETHEUS.api("/api/v1/series", **{"match[]": '{job="vigil"}'})
            stored.clear()
            stored.update((tuple(sorted(s.items())), None) for s in data)
            return set(exposed) <= set(stored)

        wait_for(all_stored, 10, "all of Vigil's series in Prometheus",
                 lambda: f"missing {sorted(set(exposed) - set(stored))[:5]}")
        # Values that do not change between scrapes arrive unchanged.
        for name in ("vigil_notifications_queue_capacity", "vigil_config_last_reload_successful",
                     "vigil_config_last_reload_success_timestamp_seconds", "process_max_fds",
                     "process_start_time_seconds"):
            series = [k for k in exposed if ("__name__", name) in k]
            self.assertEqual(len(series), 1, name)
            result = PROMETHEUS.query(f'{name}{{job="vigil"}}')
            self.assertEqual(result, {series[0]: exposed[series[0]]}, name)

        # TYPE and HELP were read as Vigil wrote them.
        for name, kind in (("vigil_build_info", "gauge"), ("vigil_http_requests_total", "counter"),
                           ("vigil_http_request_duration_seconds", "histogram")):
            help_line = [l for l in text.splitlines() if l.startswith(f"# HELP {name} ")]
            self.assertEqual(len(help_line), 1, name)
            metadata = PROMETHEUS.api("/api/v1/targets/metadata", metric=name,
                                      match_target='{job="vigil"}')
            self.assertEqual(metadata, [{"target": dict(instance), "type": kind,
                                         "help": help_line[0][len(f"# HELP {name} "):],
                                         "unit": ""}], name)

        # Prometheus rejected no sample of any scrape.
        scraped = PROMETHEUS.query('scrape_samples_scraped{job="vigil"}')
        self.assertEqual(PROMETHEUS.query('scrape_samples_post_metric_relabeling{job="vigil"}'),
                         {(("__name__", "scrape_samples_post_metric_relabeling"), *instance):
                          scraped[(("__name__", "scrape_samples_scraped"), *instance)]})
        own = get_text(PROMETHEUS.base + "/metrics")[1]
        for counter in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                        "prometheus_target_scrapes_sample_out_of_bounds_total",
                        "prometheus_target_scrapes_sample_out_of_order_total",
                        "prometheus_target_scrapes_exceeded_sample_limit_total"):
            self.assertEqual(metric_value(own, counter), 0, counter)

    def test_blackbox_scrape_config_against_probe(self):
        health = f"http://127.0.0.1:{HTTP_PORT}/health"
        broken = f"http://127.0.0.1:{HTTP_PORT}/status/500"
        targets = self.healthy_targets("blackbox", 2)
        self.assertEqual([t["labels"] for t in targets],
                         [{"instance": health, "job": "blackbox"},
                          {"instance": broken, "job": "blackbox"}])
        self.assertEqual([t["scrapeUrl"] for t in targets],
                         [f"http://127.0.0.1:{VIGIL.port}/probe?"
                          + urllib.parse.urlencode({"module": "http_2xx", "target": url})
                          for url in (health, broken)])
        self.assertEqual([t["lastError"] for t in targets], ["", ""])

        def by_instance(expr):
            return {dict(k)["instance"]: v for k, v in PROMETHEUS.query(expr).items()}

        self.assertEqual(by_instance('probe_success{job="blackbox"}'), {health: 1, broken: 0})
        self.assertEqual(by_instance('probe_http_status_code{job="blackbox"}'),
                         {health: 200, broken: 500})
        self.assertEqual(by_instance('up{job="blackbox"}'), {health: 1, broken: 1})
        durations = by_instance('probe_duration_seconds{job="blackbox"}')
        self.assertEqual(sorted(durations), sorted([health, broken]))
        for url, seconds in durations.items():
            self.assertTrue(0 < seconds < 1, (url, seconds))

    def firing_alerts(self):
        """{"vigil"|"prometheus": {alertname: sorted [(labels, annotations, value
        string)]}} once both servers fire every compared alert."""
        def alerts(server):
            status, text = get_text(server.base + "/api/v1/alerts")
            self.assertEqual(status, 200, text)
            result = {}
            for a in json.loads(text)["data"]["alerts"]:
                self.assertEqual(a["state"], "firing", a)
                result.setdefault(a["labels"]["alertname"], []).append(
                    (tuple(sorted(a["labels"].items())), tuple(sorted(a["annotations"].items())),
                     a["value"]))
            return {name: sorted(found) for name, found in result.items()}

        got = {}

        def both_fire_everything():
            got["vigil"], got["prometheus"] = alerts(VIGIL), alerts(PROMETHEUS)
            return all(set(found) == set(COMPARED_EXPRESSIONS) for found in got.values())

        wait_for(both_fire_everything, FIRST_SCRAPE_TIMEOUT,
                 "every compared alert firing in Vigil and Prometheus",
                 lambda: {server: sorted(set(COMPARED_EXPRESSIONS) - set(found))
                          for server, found in got.items()})
        return got

    def test_promql_agrees_with_prometheus(self):
        got = {server: {name: [(labels, annotations, float(value))
                               for labels, annotations, value in found]
                        for name, found in alerts.items()}
               for server, alerts in self.firing_alerts().items()}
        for name in COMPARED_EXPRESSIONS:
            with self.subTest(alert=name, expr=COMPARED_EXPRESSIONS[name]):
                self.assertEqual(got["vigil"][name], got["prometheus"][name])
        # A few values checked by hand, so that agreeing on a wrong answer fails too.
        static = (("instance", f"127.0.0.1:{STATIC.port}"), ("job", "static"))

        def value(name, *labels):
            want = tuple(sorted((("alertname", name), ("compared", "yes"), *labels)))
            return [v for l, _, v in got["vigil"][name] if l == want]

        self.assertEqual(value("SumByCode", ("code", "500")), [35])
        self.assertEqual(value("Scalar"), [11])
        self.assertEqual(value("Absent", ("job", "static")), [1])
        self.assertEqual(value("OverTime", *static, ("room", "server")), [0])
        self.assertEqual(value("Up", *static), [1])
        self.assertEqual(value("CountValues", ("reading", "19.25")), [1])
        # 90% of 1230 is the 207th of the 250 requests between 0.1 s and 0.5 s.
        [quantile] = value("HistogramQuantile", *static, ("path", "/a"))
        self.assertAlmostEqual(quantile, 0.1 + 0.4 * 207 / 250, places=12)

    # Prometheus writes alert values as Go's FormatFloat(v, 'e', -1, 64)
    # ("1e+00", "2.5e-02"); /api/v1/alerts must spell them the same.
    def test_alert_values_formatted_like_prometheus(self):
        got = self.firing_alerts()
        def values(server):
            return [v for name in COMPARED_EXPRESSIONS for _, _, v in got[server][name]]

        self.assertEqual(values("vigil"), values("prometheus"))


if __name__ == "__main__":
    unittest.main()
