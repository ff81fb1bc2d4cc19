// PromQL engine benchmark: instant queries of typical alert rules over a
// store holding 5 minutes of 15s samples, the evaluation time at the end.
// Each case reports ns_per_series: CPU time divided by the input series.
// The environment variables VIGIL_PROMQL_BENCH_RANGE (default "5m") and
// VIGIL_PROMQL_BENCH_INTERVAL (default "15s") change the range of the queries
// and the spacing of the samples, e.g. to "1m" and "5s" for
// compare_prometheus.sh.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/promql/engine.h"
#include "daemon/promql/parser.h"
#include "daemon/store/store.h"
#include "daemon/util/duration.h"

namespace vigil::promql {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

// The sample spacing and the query range; the store holds range/interval + 1
// samples per series and queries are evaluated at the last one.
struct Window {
  std::string range;  // as written in the queries, e.g. "5m"
  int64_t range_ms = 0;
  int64_t interval = 0;  // ms
  int samples = 0;
  int64_t end = 0;
};

int64_t DurationFromEnv(const char* name, const char* fallback, std::string* text) {
  const char* value = std::getenv(name);
  *text = value != nullptr ? value : fallback;
  auto d = util::ParseDuration(*text);
  if (!d || d->count() <= 0) {
    std::fprintf(stderr, "%s: invalid duration \"%s\"\n", name, text->c_str());
    std::exit(1);
  }
  return d->count();
}

const Window& GetWindow() {
  static const Window kWindow = [] {
    Window w;
    std::string interval;
    w.range_ms = DurationFromEnv("VIGIL_PROMQL_BENCH_RANGE", "5m", &w.range);
    w.interval = DurationFromEnv("VIGIL_PROMQL_BENCH_INTERVAL", "15s", &interval);
    w.samples = static_cast<int>(w.range_ms / w.interval) + 1;
    w.end = kStart + (w.samples - 1) * w.interval;
    return w;
  }();
  return kWindow;
}

void Check(const util::Result<void>& r) {
  if (!r) {
    std::fprintf(stderr, "append failed: %s\n", r.error().message.c_str());
    std::exit(1);
  }
}

// 100,000 counters x{job, instance}: 100 jobs of 1,000 instances.
const store::Store& CounterStore() {
  static const std::unique_ptr<store::Store> kStore = [] {
    auto s = std::make_unique<store::Store>();
    const Window& w = GetWindow();
    for (int i = 0; i < 100'000; ++i) {
      model::Labels l{{"__name__", "x"},
                      {"job", "job-" + std::to_string(i % 100)},
                      {"instance", "host-" + std::to_string(i)}};
      for (int k = 0; k < w.samples; ++k) {
        Check(s->Append(l, kStart + k * w.interval, k * 10.0 + i));
      }
    }
    return s;
  }();
  return *kStore;
}

// 10,000 bucket series h_bucket{job, instance, le}: 1,000 histograms of 10
// buckets, in 10 jobs.
const store::Store& HistogramStore() {
  static const std::unique_ptr<store::Store> kStore = [] {
    auto s = std::make_unique<store::Store>();
    const Window& w = GetWindow();
    const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
    for (int h = 0; h < 1'000; ++h) {
      for (int b = 0; b < 10; ++b) {
        model::Labels l{{"__name__", "h_bucket"},
                        {"job", "job-" + std::to_string(h % 10)},
                        {"instance", "host-" + std::to_string(h)},
                        {"le", kLe[b]}};
        for (int k = 0; k < w.samples; ++k) {
          Check(s->Append(l, kStart + k * w.interval, k * (b + 1) * 3.0));
        }
      }
    }
    return s;
  }();
  return *kStore;
}

void RunQuery(benchmark::State& state, const store::Store& store, const std::string& query,
              int series) {
  auto expr = ParseExpr(query);
  if (!expr) {
    state.SkipWithError(expr.error().message.c_str());
    return;
  }
  Engine engine;
  size_t out = 0;
  for (auto _ : state) {
    auto res = engine.InstantQuery(store, **expr, GetWindow().end);
    if (!res) {
      state.SkipWithError(res.error().message.c_str());
      return;
    }
    out = std::get<Vector>(*res).size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["ns_per_series"] = benchmark::Counter(
      static_cast<double>(series),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["result_series"] = static_cast<double>(out);
}

// The storage share of the cases above: the 100,000 series' window read
// as an instant query's range selector reads it (SelectEach: label views and
// decoded samples), no PromQL.
void BM_StoreSelectOnly(benchmark::State& state) {
  class Counter final : public model::SeriesVisitor {
   public:
    bool Visit(const model::LabelsView& labels, std::span<const model::Sample> samples) override {
      samples_ += samples.size() + labels.size();
      return true;
    }
    size_t samples_ = 0;
  };
  const store::Store& store = CounterStore();
  auto matcher = model::Matcher::Create(model::MatchType::kEqual, "__name__", "x");
  std::vector<model::Matcher> matchers{*matcher};
  const Window& w = GetWindow();
  for (auto _ : state) {
    Counter counter;
    store.SelectEach(matchers, w.end - w.range_ms, w.end, counter);
    benchmark::DoNotOptimize(counter.samples_);
  }
  state.counters["ns_per_series"] = benchmark::Counter(
      100'000.0, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_StoreSelectOnly)->Unit(benchmark::kMillisecond)->MinTime(3);

void BM_SumRate(benchmark::State& state) {
  RunQuery(state, CounterStore(), "sum by (job) (rate(x[" + GetWindow().range + "]))", 100'000);
}
BENCHMARK(BM_SumRate)->Unit(benchmark::kMillisecond)->MinTime(3);

void BM_HistogramQuantile(benchmark::State& state) {
  RunQuery(state, HistogramStore(),
           "histogram_quantile(0.95, sum by (le, job) (rate(h_bucket[" + GetWindow().range + "])))",
           10'000);
}
BENCHMARK(BM_HistogramQuantile)->Unit(benchmark::kMillisecond)->MinTime(3);

void BM_GroupLeftRatio(benchmark::State& state) {
  RunQuery(state, CounterStore(), "x / on (job) group_left sum by (job) (x)", 100'000);
}
BENCHMARK(BM_GroupLeftRatio)->Unit(benchmark::kMillisecond)->MinTime(3);

}  // namespace
}  // namespace vigil::promql

BENCHMARK_MAIN();
