// Scrape ingest benchmark: a realistic 8.8 MB, 100 512-series /metrics body
// (HTTP latency histograms with 12 buckets, request counters, per-pod
// kube-state-metrics gauges, node CPU counters) parsed alone, and parsed +
// appended through the Ingester into a no-op appender and into the store.
//
// Peer figure (from the issue: Prometheus's scrape loop on this machine class,
// 7.6 MB body): ~35 MB/s and ~0.5 M samples/s for parse + append.
// Run: build-*/bench/scrape/scrape_bench --benchmark_counters_tabular=true
// `scrape_bench --dump_body=PATH` writes the text-format body to PATH and
// exits (compare_prometheus.sh serves it to Prometheus and Vigil).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/storage.h"
#include "exporters/scrape/ingester.h"
#include "exporters/scrape/parser.h"

#ifdef VIGIL_SCRAPE_BENCH_WITH_STORE
#include "daemon/store/store.h"
#endif

namespace vigil::scrape {
namespace {

constexpr double kPrometheusMBps = 35.0;
constexpr double kPrometheusSamplesPerSec = 0.5e6;

struct Body {
  std::string text;
  size_t samples = 0;
};

// Writes one family's HELP/TYPE header. OpenMetrics names a counter family
// without its "_total" suffix.
void Header(std::string& out, Format format, std::string_view name, std::string_view type,
            std::string_view help) {
  std::string_view family = name;
  if (format == Format::kOpenMetrics && type == "counter" && family.ends_with("_total")) {
    family.remove_suffix(6);
  }
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", family, help, family,
                 type);
}

Body MakeBody(Format format) {
  Body body;
  std::string& out = body.text;
  out.reserve(9 << 20);
  auto sample = [&](std::string_view series, double value) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", series, value);
    ++body.samples;
  };
  const std::vector<std::string> services = {"api-gateway", "checkout", "catalog", "payments",
                                             "search",      "users",    "orders",  "inventory"};
  const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE"};
  const std::vector<std::string> codes = {"200", "404", "500"};
  const std::vector<std::string> buckets = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                            "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  uint64_t seed = 42;
  auto next = [&seed]() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };

  // HTTP request latency histograms and request counters: 2 400 label sets.
  Header(out, format, "http_request_duration_seconds", "histogram",
         "Latency of HTTP requests by handler.");
  std::vector<std::string> label_sets;
  for (int h = 0; h < 200; ++h) {
    for (const auto& method : methods) {
      for (const auto& code : codes) {
        label_sets.push_back(
            fmt::format("handler=\"/api/v1/r{}\",method=\"{}\",code=\"{}\"", h, method, code));
      }
    }
  }
  for (const auto& labels : label_sets) {
    uint64_t cumulative = 0;
    for (const auto& le : buckets) {
      cumulative += next() % 1000;
      sample(fmt::format("http_request_duration_seconds_bucket{{{},le=\"{}\"}}", labels, le),
             static_cast<double>(cumulative));
    }
    sample(fmt::format("http_request_duration_seconds_sum{{{}}}", labels),
           static_cast<double>(next() % 100000) / 7.0);
    sample(fmt::format("http_request_duration_seconds_count{{{}}}", labels),
           static_cast<double>(cumulative));
  }
  Header(out, format, "http_requests_total", "counter", "HTTP requests served.");
  for (const auto& labels : label_sets) {
    sample(fmt::format("http_requests_total{{{}}}", labels),
           static_cast<double>(next() % 10000000));
  }

  // Per-pod series as kube-state-metrics exposes them: 8 000 pods.
  const std::vector<std::string> phases = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
  const std::vector<std::string> conditions = {"true", "false", "unknown"};
  std::vector<std::string> pods;
  for (int i = 0; i < 8000; ++i) {
    pods.push_back(fmt::format("namespace=\"team-{}\",pod=\"{}-{:05x}\"", i % 40,
                               services[i % services.size()],
                               (static_cast<uint32_t>(i) * 2654435761U) & 0xfffff));
  }
  Header(out, format, "kube_pod_status_phase", "gauge", "The pods current phase.");
  for (const auto& pod : pods) {
    for (const auto& phase : phases) {
      sample(fmt::format("kube_pod_status_phase{{{},phase=\"{}\"}}", pod, phase),
             phase == "Running" ? 1.0 : 0.0);
    }
  }
  Header(out, format, "kube_pod_status_ready", "gauge",
         "Describes whether the pod is ready to serve requests.");
  for (const auto& pod : pods) {
    for (const auto& condition : conditions) {
      sample(fmt::format("kube_pod_status_ready{{{},condition=\"{}\"}}", pod, condition),
             condition == "true" ? 1.0 : 0.0);
    }
  }

  // Node CPU counters: 64 CPUs x 8 modes.
  Header(out, format, "node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
  const std::vector<std::string> modes = {"idle",    "iowait", "irq",    "nice",
                                          "softirq", "steal",  "system", "user"};
  for (int cpu = 0; cpu < 64; ++cpu) {
    for (const auto& mode : modes) {
      sample(fmt::format("node_cpu_seconds_total{{cpu=\"{}\",mode=\"{}\"}}", cpu, mode),
             static_cast<double>(next() % 100000000) / 100.0);
    }
  }
  if (format == Format::kOpenMetrics) out += "# EOF\n";
  return body;
}

const Body& TextBody() {
  static const Body body = MakeBody(Format::kPrometheusText);
  return body;
}
const Body& OpenMetricsBody() {
  static const Body body = MakeBody(Format::kOpenMetrics);
  return body;
}

class CountingSink : public SampleSink {
 public:
  util::Result<void> OnSample(const ParsedSample& sample) override {
    ++samples;
    labels += sample.labels.size();
    benchmark::DoNotOptimize(sample.value);
    return {};
  }
  size_t samples = 0;
  size_t labels = 0;
};

class NullAppender : public model::Appender {
 public:
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override {
    benchmark::DoNotOptimize(&labels);
    benchmark::DoNotOptimize(t);
    benchmark::DoNotOptimize(v);
    ++appended;
    return {};
  }
  size_t appended = 0;
};

void Report(benchmark::State& state, const Body& body) {
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.text.size()));
  state.counters["samples/s"] = benchmark::Counter(iterations * static_cast<double>(body.samples),
                                                   benchmark::Counter::kIsRate);
}

void BM_Parse(benchmark::State& state, Format format) {
  const Body& body = format == Format::kOpenMetrics ? OpenMetricsBody() : TextBody();
  Parser parser;
  for (auto _ : state) {
    CountingSink sink;
    auto stats = parser.Parse(body.text, format, sink);
    if (!stats || sink.samples != body.samples) {
      state.SkipWithError(stats ? "sample count mismatch" : stats.error().message.c_str());
      break;
    }
  }
  Report(state, body);
}
BENCHMARK_CAPTURE(BM_Parse, text, Format::kPrometheusText)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Parse, openmetrics, Format::kOpenMetrics)->Unit(benchmark::kMillisecond);

IngesterOptions BenchOptions() {
  IngesterOptions options;
  options.target_labels = model::Labels{{"instance", "10.0.3.17:8080"}, {"job", "kubernetes-pods"}};
  return options;
}

// Steady state: the series cache is warm, as on every scrape after the first.
template <typename AppenderT>
void IngestSteadyState(benchmark::State& state, AppenderT& appender) {
  const Body& body = TextBody();
  Ingester ingester(BenchOptions());
  int64_t t = 1'700'000'000'000;
  if (auto warm = ingester.Ingest(body.text, Format::kPrometheusText, t, appender); !warm) {
    state.SkipWithError(warm.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    t += 15'000;
    auto report = ingester.Ingest(body.text, Format::kPrometheusText, t, appender);
    if (!report || report->samples_appended != body.samples) {
      state.SkipWithError(report ? report->first_append_error.c_str()
                                 : report.error().message.c_str());
      break;
    }
  }
  Report(state, body);
}

void BM_IngestNullAppender(benchmark::State& state) {
  NullAppender appender;
  IngestSteadyState(state, appender);
}
BENCHMARK(BM_IngestNullAppender)->Unit(benchmark::kMillisecond);

#ifdef VIGIL_SCRAPE_BENCH_WITH_STORE
void BM_IngestStore(benchmark::State& state) {
  store::Store store;
  IngestSteadyState(state, store);
}
BENCHMARK(BM_IngestStore)->Unit(benchmark::kMillisecond);
#endif

// First scrape of a target: every label set is built and cached.
void BM_IngestFirstScrape(benchmark::State& state) {
  const Body& body = TextBody();
  NullAppender appender;
  for (auto _ : state) {
    Ingester ingester(BenchOptions());
    auto report = ingester.Ingest(body.text, Format::kPrometheusText, 1'700'000'000'000, appender);
    if (!report || report->series_added != body.samples) {
      state.SkipWithError("first scrape did not build every series");
      break;
    }
  }
  Report(state, body);
}
BENCHMARK(BM_IngestFirstScrape)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::scrape

int main(int argc, char** argv) {
  using vigil::scrape::TextBody;
  constexpr std::string_view kDumpFlag = "--dump_body=";
  if (argc == 2 && std::string_view(argv[1]).starts_with(kDumpFlag)) {
    const std::string path(std::string_view(argv[1]).substr(kDumpFlag.size()));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(TextBody().text.data(), static_cast<std::streamsize>(TextBody().text.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("%zu bytes, %zu samples\n", TextBody().text.size(), TextBody().samples);
    return 0;
  }
  benchmark::AddCustomContext(
      "body", fmt::format("{:.2f} MB, {} samples (text format)",
                          static_cast<double>(TextBody().text.size()) / 1e6, TextBody().samples));
  benchmark::AddCustomContext(
      "peer",
      fmt::format("Prometheus scrape ingest: ~{} MB/s, ~{} M samples/s",
                  vigil::scrape::kPrometheusMBps, vigil::scrape::kPrometheusSamplesPerSec / 1e6));
#ifdef VIGIL_SCRAPE_BENCH_WITH_STORE
  benchmark::AddCustomContext("appender", "vigil::store::Store (BM_IngestStore)");
#else
  benchmark::AddCustomContext("appender", "vigil::store not built: no-op appender only");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
