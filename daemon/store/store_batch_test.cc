// Store::AppendRefs, the batch append a scrape uses, against one AppendRef per
// sample: the same outcome per sample (ref or error message), the same refs
// written back, the same stored series and the same Stats.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/sample.h"
#include "daemon/model/storage.h"
#include "daemon/store/store.h"

namespace vigil::store {
namespace {

using model::Labels;
using model::RefSample;
using ::testing::ElementsAre;

constexpr int64_t kT = 1'000'000;

// What one append did: the ref to keep, or why it was rejected (ref then
// holds the ref passed in, left as it was).
struct Outcome {
  model::SeriesRef ref = 0;
  std::string error;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

void PrintTo(const Outcome& outcome, std::ostream* os) {
  *os << "{ref " << outcome.ref << ", error \"" << outcome.error << "\"}";
}

std::vector<Outcome> AppendOneByOne(Store& store, std::vector<RefSample> samples) {
  std::vector<Outcome> outcomes;
  for (const RefSample& s : samples) {
    auto ref = store.AppendRef(s.ref, *s.labels, s.t, s.v);
    outcomes.push_back(ref ? Outcome{*ref, ""} : Outcome{s.ref, ref.error().message});
  }
  return outcomes;
}

std::vector<Outcome> AppendAsBatch(Store& store, std::vector<RefSample> samples) {
  const std::vector<model::RejectedSample> rejected = store.AppendRefs(samples);
  std::vector<Outcome> outcomes;
  for (const RefSample& s : samples) outcomes.push_back(Outcome{s.ref, ""});
  for (size_t k = 0; k < rejected.size(); ++k) {
    if (k > 0) {
      EXPECT_LT(rejected[k - 1].index, rejected[k].index) << "not ascending";
    }
    outcomes.at(rejected[k].index).error = rejected[k].error.message;
  }
  return outcomes;
}

// Stats and contents must be the same in both stores.
void ExpectSameStores(const Store& batched, const Store& single) {
  const Store::Stats a = batched.GetStats();
  const Store::Stats b = single.GetStats();
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.sample_bytes, b.sample_bytes);
  EXPECT_EQ(a.appended_total, b.appended_total);
  EXPECT_EQ(a.out_of_order_total, b.out_of_order_total);
  EXPECT_EQ(a.duplicate_total, b.duplicate_total);
  EXPECT_EQ(a.series_limit_total, b.series_limit_total);
  const std::vector<model::Series> from_batch = batched.Select({}, INT64_MIN, INT64_MAX);
  const std::vector<model::Series> from_single = single.Select({}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(from_batch.size(), from_single.size());
  size_t samples = 0;
  for (size_t i = 0; i < from_batch.size(); ++i) {
    EXPECT_EQ(from_batch[i].labels, from_single[i].labels);
    ASSERT_EQ(from_batch[i].samples.size(), from_single[i].samples.size());
    for (size_t j = 0; j < from_batch[i].samples.size(); ++j) {
      EXPECT_EQ(from_batch[i].samples[j].t, from_single[i].samples[j].t);
      EXPECT_EQ(std::bit_cast<uint64_t>(from_batch[i].samples[j].v),
                std::bit_cast<uint64_t>(from_single[i].samples[j].v));
    }
    samples += from_batch[i].samples.size();
  }
  EXPECT_EQ(samples, a.samples);
}

TEST(StoreBatchTest, MixedBatchMatchesOneAppendRefPerSample) {
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}};
  const Labels gone{{"__name__", "gone"}};
  const Labels x{{"__name__", "x"}};
  const Labels empty;
  Store batched;
  Store single;
  model::SeriesRef ref_a = 0;
  model::SeriesRef ref_b = 0;
  model::SeriesRef ref_gone = 0;
  for (Store* store : {&batched, &single}) {
    // `gone` expires and is removed; a and b stay.
    ref_a = *store->AppendRef(0, a, 1000, 1.0);
    ref_b = *store->AppendRef(0, b, 1000, 1.0);
    ref_gone = *store->AppendRef(0, gone, 1000, 1.0);
    ASSERT_TRUE(store->Append(a, kT, 1.0).has_value());
    ASSERT_TRUE(store->Append(b, kT, 2.0).has_value());
    ASSERT_EQ(store->Compact(kT).series_removed, 1u);
  }
  const model::SeriesRef never_handed_out = 999;
  const std::vector<RefSample> samples = {
      {ref_a, &a, kT + 1000, 1.0},                // known ref
      {ref_b, &b, kT + 1000, 2.0},                //
      {0, &x, kT + 1000, 3.0},                    // new series
      {ref_a, &a, kT + 500, 9.0},                 // out of order
      {ref_b, &b, kT + 1000, 7.0},                // duplicate: same time, other value
      {ref_b, &b, kT + 1000, 2.0},                // same time, same value: accepted, no-op
      {ref_gone, &gone, kT + 1000, 5.0},          // removed series: labels path, new ref
      {0, &x, kT + 2000, 4.0},                    // by labels: the series created above
      {never_handed_out, &a, kT + 2000, 6.0},     // unknown ref: labels path
      {0, &empty, kT, 1.0},                       // empty label set
      {ref_a, &a, kT + 2000, 6.0},                // after the labels path: no-op
      {ref_a, &a, kT + 3000, model::StaleNaN()},  // stale marker
  };
  const std::vector<Outcome> outcomes = AppendAsBatch(batched, samples);
  EXPECT_EQ(outcomes, AppendOneByOne(single, samples));
  const model::SeriesRef ref_x = outcomes[2].ref;
  const model::SeriesRef ref_gone_again = outcomes[6].ref;
  EXPECT_NE(ref_x, 0u);
  EXPECT_NE(ref_gone_again, ref_gone);
  EXPECT_THAT(outcomes,
              ElementsAre(Outcome{ref_a, ""}, Outcome{ref_b, ""}, Outcome{ref_x, ""},
                          Outcome{ref_a, "out of order sample"},
                          Outcome{ref_b, "duplicate sample for timestamp"}, Outcome{ref_b, ""},
                          Outcome{ref_gone_again, ""}, Outcome{ref_x, ""}, Outcome{ref_a, ""},
                          Outcome{0, "empty label set"}, Outcome{ref_a, ""}, Outcome{ref_a, ""}));
  ExpectSameStores(batched, single);
  const Store::Stats stats = batched.GetStats();
  EXPECT_EQ(stats.series, 4u);
  EXPECT_EQ(stats.out_of_order_total, 1u);
  EXPECT_EQ(stats.duplicate_total, 1u);
  // 5 appends before the batch, 7 stored samples in it.
  EXPECT_EQ(stats.appended_total, 5u + 7u);
}

TEST(StoreBatchTest, AllAcceptedReturnsNothing) {
  Store store;
  const Labels a{{"__name__", "a"}};
  std::vector<RefSample> samples = {{0, &a, 1000, 1.0}, {0, &a, 2000, 2.0}};
  EXPECT_TRUE(store.AppendRefs(samples).empty());
  EXPECT_NE(samples[0].ref, 0u);
  EXPECT_EQ(samples[1].ref, samples[0].ref);
  EXPECT_TRUE(store.AppendRefs({}).empty());
  EXPECT_EQ(store.GetStats().appended_total, 2u);
}

TEST(StoreBatchTest, SeriesLimitRejectsOnlyTheNewSeriesBeyondIt) {
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}};
  const Labels c{{"__name__", "c"}};
  const Labels d{{"__name__", "d"}};
  const std::vector<RefSample> samples = {
      {0, &a, 1000, 1.0}, {0, &b, 1000, 1.0}, {0, &c, 1000, 1.0},
      {0, &a, 2000, 2.0}, {0, &d, 1000, 1.0}, {0, &b, 2000, 2.0},
  };
  Store batched(StoreOptions{.max_series = 2});
  Store single(StoreOptions{.max_series = 2});
  const std::vector<Outcome> outcomes = AppendAsBatch(batched, samples);
  EXPECT_EQ(outcomes, AppendOneByOne(single, samples));
  EXPECT_EQ(outcomes[2].error, "series limit of 2 reached");
  EXPECT_EQ(outcomes[4].error, "series limit of 2 reached");
  EXPECT_EQ(outcomes[5].error, "");
  EXPECT_EQ(batched.GetStats().series_limit_total, 2u);
  ExpectSameStores(batched, single);
}

// Scrapes of more samples than the store looks up at a time, each with
// rejections and an unknown ref somewhere in the middle.
TEST(StoreBatchTest, LargeBatchesMatchOneAppendRefPerSample) {
  constexpr size_t kSeries = 1000;
  std::vector<Labels> labels;
  for (size_t i = 0; i < kSeries; ++i) {
    labels.push_back(Labels{{"__name__", "m"}, {"i", std::to_string(i)}});
  }
  Store batched;
  Store single;
  std::vector<RefSample> batch_scrape(kSeries);
  std::vector<RefSample> single_scrape(kSeries);
  for (int64_t scrape = 0; scrape < 5; ++scrape) {
    for (std::vector<RefSample>* scrape_samples : {&batch_scrape, &single_scrape}) {
      for (size_t i = 0; i < kSeries; ++i) {
        RefSample& s = (*scrape_samples)[i];
        s.labels = &labels[i];
        // Every 7th series goes back in time (out of order) from scrape 2 on,
        // every 11th repeats the previous timestamp with another value.
        s.t = 15'000 * scrape;
        if (scrape >= 2 && i % 7 == 0) s.t -= 30'000;
        if (scrape >= 1 && i % 11 == 0) s.t -= 15'000;
        s.v = static_cast<double>(scrape * 10 + static_cast<int64_t>(i % 3));
      }
      if (scrape == 3) (*scrape_samples)[600].ref = 123'456;  // unknown: labels path
    }
    const std::vector<Outcome> outcomes = AppendAsBatch(batched, batch_scrape);
    const std::vector<Outcome> expected = AppendOneByOne(single, single_scrape);
    ASSERT_EQ(outcomes, expected) << "scrape " << scrape;
    for (size_t i = 0; i < kSeries; ++i) {
      batch_scrape[i].ref = outcomes[i].ref;
      single_scrape[i].ref = expected[i].ref;
    }
  }
  EXPECT_GT(batched.GetStats().out_of_order_total, 0u);
  EXPECT_GT(batched.GetStats().duplicate_total, 0u);
  ExpectSameStores(batched, single);
}

}  // namespace
}  // namespace vigil::store
