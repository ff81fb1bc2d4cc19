// Writers, readers and a compactor hammer one Store for about a second while
// the readers check that every series they see is a consistent snapshot. Built
// twice: into store_test, and with ThreadSanitizer into store_tsan_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "daemon/model/storage.h"
#include "daemon/store/store.h"

namespace vigil::store {
namespace {

constexpr int kWriters = 3;
constexpr int kReaders = 2;
constexpr int kSeriesPerWriter = 40;
constexpr int64_t kStepMs = 10'000;
constexpr auto kRunFor = std::chrono::seconds(1);
constexpr auto kMaxRunFor = std::chrono::seconds(60);
constexpr int64_t kMinSteps = 100;  // 1000 s of sample time, > 6m retention

model::Labels SteadyLabels(int writer, int series) {
  return model::Labels{{"__name__", "steady"},
                       {"writer", "w" + std::to_string(writer)},
                       {"series", std::to_string(series)}};
}

// What a reader saw that breaks an invariant, or "" when all held.
std::string CheckSelected(const std::vector<model::Series>& selected) {
  for (size_t i = 0; i < selected.size(); ++i) {
    const model::Series& series = selected[i];
    if (i > 0 && !(selected[i - 1].labels < series.labels)) {
      return "not sorted by labels: " + series.labels.ToString();
    }
    if (series.samples.empty()) return "empty series returned: " + series.labels.ToString();
    for (size_t j = 0; j < series.samples.size(); ++j) {
      const model::Sample& s = series.samples[j];
      if (s.v != static_cast<double>(s.t)) return "value does not belong to its timestamp";
      if (j > 0 && s.t <= series.samples[j - 1].t) return "timestamps not strictly ascending";
    }
    // Steady series gain one sample per step and lose whole chunks from the
    // front, so a snapshot is always gap-free.
    if (series.labels.MetricName() == "steady") {
      const int64_t span = series.samples.back().t - series.samples.front().t;
      if (static_cast<int64_t>(series.samples.size()) != span / kStepMs + 1) {
        return "gap in " + series.labels.ToString();
      }
    }
  }
  return "";
}

TEST(StoreConcurrencyTest, ParallelAppendSelectAndCompactKeepInvariants) {
  Store store(StoreOptions{.retention = kMinRetention});
  std::atomic<bool> stop{false};
  // Each writer's newest timestamp. The compactor expires relative to the
  // slowest writer, so steady series always keep their open chunk while
  // ephemeral ones expire once every writer is 6 minutes (36 steps) past them.
  std::array<std::atomic<int64_t>, kWriters> progress{};
  std::atomic<uint64_t> appended{0};
  std::atomic<uint64_t> rejected_out_of_order{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> compactions{0};
  std::atomic<uint64_t> series_removed{0};
  std::vector<std::string> failures(kReaders);

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<model::Labels> steady;
      for (int i = 0; i < kSeriesPerWriter; ++i) steady.push_back(SteadyLabels(w, i));
      // Odd writers append their steady series as one batch by ref, as a
      // scrape does; even ones one sample at a time by labels.
      const bool batched = w % 2 == 1;
      std::vector<model::RefSample> batch;
      for (const auto& labels : steady) batch.push_back(model::RefSample{0, &labels, 0, 0});
      uint64_t ok = 0;
      uint64_t out_of_order = 0;
      for (int64_t step = 1; !stop.load(std::memory_order_relaxed); ++step) {
        const int64_t t = step * kStepMs;
        if (batched) {
          for (model::RefSample& sample : batch) {
            sample.t = t;
            sample.v = static_cast<double>(t);
          }
          ok += batch.size() - store.AppendRefs(batch).size();
        } else {
          for (const auto& labels : steady) {
            if (store.Append(labels, t, static_cast<double>(t)).has_value()) ++ok;
          }
        }
        // A short-lived series per step: created now, removed by compaction.
        const model::Labels ephemeral{{"__name__", "ephemeral"},
                                      {"writer", "w" + std::to_string(w)},
                                      {"step", std::to_string(step)}};
        if (store.Append(ephemeral, t, static_cast<double>(t)).has_value()) ++ok;
        if (step % 16 == 0 && !store.Append(steady[0], t - kStepMs, 0.0).has_value()) {
          ++out_of_order;
        }
        progress[w].store(t, std::memory_order_relaxed);
      }
      appended += ok;
      rejected_out_of_order += out_of_order;
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      const std::vector<std::vector<model::Matcher>> selectors = {
          {*model::Matcher::Create(model::MatchType::kEqual, "__name__", "steady")},
          {*model::Matcher::Create(model::MatchType::kRegexMatch, "writer", "w[01]"),
           *model::Matcher::Create(model::MatchType::kNotEqual, "series", "3")},
          {*model::Matcher::Create(model::MatchType::kEqual, "__name__", "ephemeral")},
      };
      while (!stop.load(std::memory_order_relaxed) && failures[r].empty()) {
        for (const auto& matchers : selectors) {
          failures[r] = CheckSelected(store.Select(matchers, 0, INT64_MAX));
          if (!failures[r].empty()) break;
        }
        const Store::Stats stats = store.GetStats();
        if (stats.samples > stats.appended_total) failures[r] = "more samples than appended";
        store.LabelValues("writer");
        ++reads;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      int64_t slowest = INT64_MAX;
      for (const auto& p : progress) slowest = std::min(slowest, p.load(std::memory_order_relaxed));
      series_removed += store.Compact(slowest).series_removed;
      ++compactions;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  // Run for kRunFor, and longer on a loaded machine until every writer has
  // gone far enough for compaction to have removed series (bounded).
  const auto start = std::chrono::steady_clock::now();
  auto enough = [&] {
    for (const auto& p : progress) {
      if (p.load(std::memory_order_relaxed) < kMinSteps * kStepMs) return false;
    }
    return series_removed.load() > 0 && reads.load() > 0;
  };
  while (std::chrono::steady_clock::now() - start < kRunFor ||
         (!enough() && std::chrono::steady_clock::now() - start < kMaxRunFor)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (auto& thread : threads) thread.join();

  RecordProperty("appended", std::to_string(appended.load()));
  RecordProperty("reads", std::to_string(reads.load()));
  RecordProperty("compactions", std::to_string(compactions.load()));
  RecordProperty("series_removed", std::to_string(series_removed.load()));
  for (int r = 0; r < kReaders; ++r) EXPECT_EQ(failures[r], "") << "reader " << r;
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(compactions.load(), 0u);
  EXPECT_GT(series_removed.load(), 0u);
  EXPECT_GT(appended.load(), 0u);

  // Counters add up with what the threads saw.
  const Store::Stats stats = store.GetStats();
  EXPECT_EQ(stats.appended_total, appended.load());
  EXPECT_EQ(stats.out_of_order_total, rejected_out_of_order.load());
  EXPECT_EQ(stats.duplicate_total, 0u);
  size_t selected_samples = 0;
  const auto everything = store.Select(std::vector<model::Matcher>{}, 0, INT64_MAX);
  for (const auto& series : everything) selected_samples += series.samples.size();
  EXPECT_EQ(CheckSelected(everything), "");
  EXPECT_EQ(everything.size(), stats.series);
  EXPECT_EQ(selected_samples, stats.samples);

  // No steady series was ever expired.
  const auto steady = store.Select(std::vector<model::Matcher>{*model::Matcher::Create(
                                       model::MatchType::kEqual, "__name__", "steady")},
                                   0, INT64_MAX);
  EXPECT_EQ(steady.size(), static_cast<size_t>(kWriters * kSeriesPerWriter));

  // Expiring everything empties the store and its index.
  const Store::CompactStats compacted = store.Compact(INT64_MAX);
  EXPECT_EQ(compacted.samples_dropped, stats.samples);
  EXPECT_EQ(compacted.series_removed, stats.series);
  EXPECT_EQ(store.GetStats().series, 0u);
  EXPECT_EQ(store.GetStats().samples, 0u);
  EXPECT_EQ(store.GetStats().sample_bytes, 0u);
  EXPECT_TRUE(store.LabelNames().empty());
}

}  // namespace
}  // namespace vigil::store
