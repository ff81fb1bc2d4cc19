// Store benchmark. Prints memory figures first (100,000 series x 20 samples,
// 15s apart), beside the targets, then runs the Google Benchmark cases:
// selector lookup among 1,000,000 series and append throughput (one sample at
// a time, and a scrape's samples at once).
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/model/storage.h"
#include "daemon/store/store.h"

namespace vigil::store {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kInterval = 15'000;

// Resident set size of this process, from /proc/self/statm.
size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// Series i of a synthetic fleet: 100 metric names ("x" is one of them), 100
// jobs and a unique instance, as a scrape of many hosts would produce.
model::Labels FleetLabels(int i) {
  return model::Labels{{"__name__", i % 100 == 0 ? "x" : "metric_" + std::to_string(i % 100)},
                       {"job", "j" + std::to_string((i / 100) % 100)},
                       {"instance", "host-" + std::to_string(i)}};
}

model::Matcher Matcher(model::MatchType type, std::string name, std::string value) {
  return *model::Matcher::Create(type, std::move(name), std::move(value));
}

void Check(const util::Result<void>& result) {
  if (!result) {
    std::fprintf(stderr, "append failed: %s\n", result.error().message.c_str());
    std::exit(1);
  }
}

struct Footprint {
  size_t rss = 0;           // growth of the resident set size
  size_t stats = 0;         // growth of Stats::memory_bytes
  size_t sample_bytes = 0;  // Stats::sample_bytes at the end
};

// Loads `series` series with `samples` samples each into a fresh store and
// reports the growth of RSS and of Stats::memory_bytes. Runs in a forked child
// so that memory freed by an earlier measurement cannot be reused unseen.
Footprint Load(int series, int samples) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    close(fds[0]);
    std::vector<model::Labels> labels;
    labels.reserve(static_cast<size_t>(series));
    for (int i = 0; i < series; ++i) labels.push_back(FleetLabels(i));
    const size_t rss_before = RssBytes();
    Store store;
    const size_t stats_before = store.GetStats().memory_bytes;
    for (int s = 0; s < samples; ++s) {
      for (int i = 0; i < series; ++i) {
        // Gauge-like values: a few distinct floats per series.
        const double value = 100.0 + (i % 7) * 0.25 + (s % 3);
        Check(store.Append(labels[static_cast<size_t>(i)], kStart + s * kInterval, value));
      }
    }
    const Store::Stats stats = store.GetStats();
    const Footprint footprint{RssBytes() - rss_before, stats.memory_bytes - stats_before,
                              stats.sample_bytes};
    const bool ok = write(fds[1], &footprint, sizeof(footprint)) == sizeof(footprint);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  Footprint footprint;
  const bool ok = read(fds[0], &footprint, sizeof(footprint)) == sizeof(footprint);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "memory measurement failed\n");
    std::exit(1);
  }
  return footprint;
}

void ReportMemory() {
  constexpr int kSeries = 100'000;
  constexpr int kSamples = 20;
  const Footprint f = Load(kSeries, kSamples);
  const double series = kSeries;
  const double samples = series * kSamples;
  const double index_bytes = static_cast<double>(f.stats - f.sample_bytes);
  std::printf("Memory: %d series x %d samples, %lds apart, 3 labels per series, one unique\n",
              kSeries, kSamples, static_cast<long>(kInterval / 1000));
  std::printf("  %-46s %12s %12s\n", "", "vigil", "target");
  std::printf("  %-46s %12zu\n", "RSS delta, bytes", f.rss);
  std::printf("  %-46s %12zu\n", "Stats::memory_bytes", f.stats);
  std::printf("  %-46s %12.1f\n", "RSS delta per series (everything)", f.rss / series);
  std::printf("  %-46s %12.2f\n", "RSS delta per sample (everything)", f.rss / samples);
  std::printf("  %-46s %12.1f %12s\n", "Stats per series, labels + index (no samples)",
              index_bytes / series, "<= 1024");
  std::printf("  %-46s %12.2f %12s\n", "Stats per sample, chunks (headers + encoded)",
              static_cast<double>(f.sample_bytes) / samples, "<= 16");
  std::printf("  %-46s %12.1f\n", "Stats per series, everything incl. 20 samples",
              f.stats / series);
  std::printf("  Prometheus for comparison: ~1.3-2 B per sample of encoded chunk data.\n\n");
  std::fflush(stdout);
}

// One million series, built once and shared by the selector benchmarks. The
// first Compact() ranks every symbol in lexical order for large Selects
// (later calls only merge new symbols in), as the app's periodic Compact()
// does: timed here, once, so that the cases below measure the steady state.
const Store& MillionSeries() {
  static const Store* store = [] {
    auto* s = new Store();
    for (int i = 0; i < 1'000'000; ++i) Check(s->Append(FleetLabels(i), kStart, 1.0));
    const auto begin = std::chrono::steady_clock::now();
    s->Compact(kStart);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - begin;
    std::printf("First Compact() of 1M series, ranking all symbols: %.1f ms\n", took.count());
    std::fflush(stdout);
    return s;
  }();
  return *store;
}

void RunSelect(benchmark::State& state, const std::vector<model::Matcher>& matchers) {
  const Store& store = MillionSeries();
  size_t found = 0;
  for (auto _ : state) {
    auto result = store.Select(matchers, kStart - 300'000, kStart);
    found = result.size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["series_selected"] = static_cast<double>(found);
}

void BM_SelectNameAndJob(benchmark::State& state) {
  RunSelect(state, {Matcher(model::MatchType::kEqual, "__name__", "x"),
                    Matcher(model::MatchType::kEqual, "job", "j3")});
}
BENCHMARK(BM_SelectNameAndJob)->Unit(benchmark::kMicrosecond);

void BM_SelectJobAndInstanceRegex(benchmark::State& state) {
  RunSelect(state, {Matcher(model::MatchType::kEqual, "job", "j17"),
                    Matcher(model::MatchType::kRegexMatch, "instance", "host-1.*")});
}
BENCHMARK(BM_SelectJobAndInstanceRegex)->Unit(benchmark::kMicrosecond);

// A regex alone must test every one of the 1M instance values.
void BM_SelectInstanceRegexOnly(benchmark::State& state) {
  RunSelect(state, {Matcher(model::MatchType::kRegexMatch, "instance", "host-12345.")});
}
BENCHMARK(BM_SelectInstanceRegexOnly)->Unit(benchmark::kMillisecond);

// A matcher matching "" must look at every series.
void BM_SelectNameAndJobNotEqual(benchmark::State& state) {
  RunSelect(state, {Matcher(model::MatchType::kEqual, "__name__", "x"),
                    Matcher(model::MatchType::kNotEqual, "job", "j3")});
}
BENCHMARK(BM_SelectNameAndJobNotEqual)->Unit(benchmark::kMicrosecond);

// Appending to 10,000 existing series, round robin, 15s apart.
void BM_AppendExisting(benchmark::State& state) {
  constexpr int kSeries = 10'000;
  Store store(StoreOptions{.retention = std::chrono::hours(24 * 365)});
  std::vector<model::Labels> labels;
  for (int i = 0; i < kSeries; ++i) labels.push_back(FleetLabels(i));
  int64_t n = 0;
  for (auto _ : state) {
    const int i = static_cast<int>(n % kSeries);
    const int64_t t = kStart + (n / kSeries) * kInterval;
    benchmark::DoNotOptimize(store.Append(labels[i], t, static_cast<double>(n)));
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendExisting);

// Appending the first sample of new series: interning, postings, series map.
void BM_AppendNewSeries(benchmark::State& state) {
  Store store;
  std::vector<model::Labels> labels;
  for (int64_t i = 0; i < state.max_iterations; ++i)
    labels.push_back(FleetLabels(static_cast<int>(i)));
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(store.Append(labels[i++], kStart, 1.0));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendNewSeries)->Iterations(200'000);

// One scrape's worth of appends per iteration: 100,000 series that already
// hold samples get one sample each, 15s after the last, by ref (the default
// 15m retention, as in the daemon). Either one AppendRef per sample or the
// whole scrape as one AppendRefs batch, the way scrape::Ingester appends.
void AppendScrapes(benchmark::State& state, bool batched) {
  constexpr size_t kSeries = 100'000;
  Store store;
  std::vector<model::Labels> labels;
  labels.reserve(kSeries);
  for (size_t i = 0; i < kSeries; ++i) labels.push_back(FleetLabels(static_cast<int>(i)));
  std::vector<model::RefSample> batch(kSeries);
  for (size_t i = 0; i < kSeries; ++i) batch[i] = model::RefSample{0, &labels[i], kStart, 1.0};
  if (!store.AppendRefs(batch).empty()) {
    state.SkipWithError("first append failed");
    return;
  }
  int64_t n = 0;
  for (auto _ : state) {
    ++n;
    for (size_t i = 0; i < kSeries; ++i) {
      batch[i].t = kStart + n * kInterval;
      batch[i].v = static_cast<double>((i * 7 + static_cast<size_t>(n)) % 1000);
    }
    size_t rejected = 0;
    if (batched) {
      rejected = store.AppendRefs(batch).size();
    } else {
      for (model::RefSample& sample : batch) {
        if (!store.AppendRef(sample.ref, *sample.labels, sample.t, sample.v)) ++rejected;
      }
    }
    if (rejected != 0) {
      state.SkipWithError("an append was rejected");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kSeries));
}
BENCHMARK_CAPTURE(AppendScrapes, one_by_one, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(AppendScrapes, batch, true)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::store

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  vigil::store::ReportMemory();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
