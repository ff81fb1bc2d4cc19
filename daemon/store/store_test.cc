#include "daemon/store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace vigil::store {
namespace {

using model::Labels;
using model::Matcher;
using model::MatchType;
using model::Sample;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Matcher M(MatchType type, std::string name, std::string value) {
  auto matcher = Matcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(matcher.has_value()) << matcher.error().message;
  return *matcher;
}
Matcher Eq(std::string name, std::string value) {
  return M(MatchType::kEqual, std::move(name), std::move(value));
}
Matcher Ne(std::string name, std::string value) {
  return M(MatchType::kNotEqual, std::move(name), std::move(value));
}
Matcher Re(std::string name, std::string value) {
  return M(MatchType::kRegexMatch, std::move(name), std::move(value));
}
Matcher Nre(std::string name, std::string value) {
  return M(MatchType::kRegexNoMatch, std::move(name), std::move(value));
}

void MustAppend(Store& store, const Labels& labels, int64_t t, double v) {
  auto result = store.Append(labels, t, v);
  ASSERT_TRUE(result.has_value()) << labels.ToString() << " @" << t << ": "
                                  << result.error().message;
}

// The label sets of the selected series, in their returned order.
std::vector<std::string> Names(const std::vector<model::Series>& series) {
  std::vector<std::string> out;
  for (const auto& s : series) out.push_back(s.labels.ToString());
  return out;
}

class StoreSelectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const Labels& labels : {
             Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a"}},
             Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "b"}},
             Labels{{"__name__", "up"}, {"job", "db"}, {"instance", "c"}, {"env", "prod"}},
             Labels{{"__name__", "http_requests_total"},
                    {"job", "api"},
                    {"instance", "a"},
                    {"code", "200"}},
             Labels{{"__name__", "foo"}},
         }) {
      for (int64_t t : {1000, 2000, 3000}) MustAppend(store_, labels, t, static_cast<double>(t));
    }
  }

  std::vector<std::string> Select(std::vector<Matcher> matchers) {
    return Names(store_.Select(matchers, 0, 10'000));
  }

  Store store_;
};

TEST_F(StoreSelectTest, EqualMatchers) {
  EXPECT_THAT(Select({Eq("__name__", "up")}),
              ElementsAre(R"(up{env="prod", instance="c", job="db"})",
                          R"(up{instance="a", job="api"})", R"(up{instance="b", job="api"})"));
  EXPECT_THAT(Select({Eq("__name__", "up"), Eq("instance", "a")}),
              ElementsAre(R"(up{instance="a", job="api"})"));
  EXPECT_THAT(Select({Eq("job", "api"), Eq("instance", "a")}),
              ElementsAre(R"(http_requests_total{code="200", instance="a", job="api"})",
                          R"(up{instance="a", job="api"})"));
  EXPECT_THAT(Select({Eq("__name__", "up"), Eq("job", "nope")}), IsEmpty());
  EXPECT_THAT(Select({Eq("missing", "x")}), IsEmpty());
}

TEST_F(StoreSelectTest, NotEqualIncludesSeriesLackingTheLabel) {
  EXPECT_THAT(Select({Ne("job", "api")}),
              ElementsAre("foo", R"(up{env="prod", instance="c", job="db"})"));
  EXPECT_THAT(Select({Eq("__name__", "up"), Ne("job", "api")}),
              ElementsAre(R"(up{env="prod", instance="c", job="db"})"));
  // `!=""` does not match the empty string: it requires the label.
  EXPECT_THAT(Select({Ne("env", "")}), ElementsAre(R"(up{env="prod", instance="c", job="db"})"));
}

TEST_F(StoreSelectTest, RegexMatchersAreAnchored) {
  EXPECT_THAT(Select({Re("job", "ap")}), IsEmpty());
  EXPECT_THAT(Select({Re("job", "a.*")}),
              ElementsAre(R"(http_requests_total{code="200", instance="a", job="api"})",
                          R"(up{instance="a", job="api"})", R"(up{instance="b", job="api"})"));
  EXPECT_THAT(
      Select({Re("__name__", "up|foo"), Re("instance", "b|c")}),
      ElementsAre(R"(up{env="prod", instance="c", job="db"})", R"(up{instance="b", job="api"})"));
  EXPECT_THAT(Select({Eq("__name__", "up"), Nre("instance", "a|c")}),
              ElementsAre(R"(up{instance="b", job="api"})"));
  EXPECT_THAT(Select({Nre("job", "api")}),
              ElementsAre("foo", R"(up{env="prod", instance="c", job="db"})"));
  EXPECT_THAT(Select({Re("job", ".+"), Nre("job", ".*")}), IsEmpty());
}

TEST_F(StoreSelectTest, EmptyMatchingMatchersSelectSeriesLackingTheLabel) {
  EXPECT_THAT(Select({Eq("env", "")}),
              ElementsAre(R"(foo)", R"(http_requests_total{code="200", instance="a", job="api"})",
                          R"(up{instance="a", job="api"})", R"(up{instance="b", job="api"})"));
  EXPECT_THAT(Select({Re("env", "prod|")}).size(), 5u);
  EXPECT_THAT(Select({Re("code", "|2..")}).size(), 5u);
  EXPECT_THAT(Select({Re("code", "|3..")}),
              ElementsAre("foo", R"(up{env="prod", instance="c", job="db"})",
                          R"(up{instance="a", job="api"})", R"(up{instance="b", job="api"})"));
  EXPECT_THAT(Select({Eq("nolabel", "")}).size(), 5u);
  EXPECT_THAT(Select({}).size(), 5u);
}

TEST_F(StoreSelectTest, WindowIsInclusiveAtBothEnds) {
  const std::vector<Matcher> foo = {Eq("__name__", "foo")};
  auto all = store_.Select(foo, 1000, 3000);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_THAT(all[0].samples,
              ElementsAre(Sample{1000, 1000.0}, Sample{2000, 2000.0}, Sample{3000, 3000.0}));
  auto inner = store_.Select(foo, 1001, 2999);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_THAT(inner[0].samples, ElementsAre(Sample{2000, 2000.0}));
  auto point = store_.Select(foo, 3000, 3000);
  ASSERT_EQ(point.size(), 1u);
  EXPECT_THAT(point[0].samples, ElementsAre(Sample{3000, 3000.0}));
  EXPECT_THAT(store_.Select(foo, 3001, 9000), IsEmpty());
  EXPECT_THAT(store_.Select(foo, 0, 999), IsEmpty());
  EXPECT_THAT(store_.Select(foo, 2000, 1000), IsEmpty());
}

TEST_F(StoreSelectTest, LabelNamesAndValues) {
  EXPECT_THAT(store_.LabelNames(), ElementsAre("__name__", "code", "env", "instance", "job"));
  EXPECT_THAT(store_.LabelValues("job"), ElementsAre("api", "db"));
  EXPECT_THAT(store_.LabelValues("__name__"), ElementsAre("foo", "http_requests_total", "up"));
  EXPECT_THAT(store_.LabelValues("missing"), IsEmpty());
  // "api" is interned, but as a value, not a label name.
  EXPECT_THAT(store_.LabelValues("api"), IsEmpty());
}

// Checks Select against a brute-force evaluation of the matchers, over random
// label sets large enough to take both the postings and the filter paths.
TEST(StoreTest, SelectAgreesWithBruteForce) {
  std::mt19937 rng(7);
  Store store;
  std::vector<Labels> all;
  for (int i = 0; i < 600; ++i) {
    model::LabelsBuilder builder;
    builder.Set("__name__", "m" + std::to_string(rng() % 3));
    builder.Set("job", "j" + std::to_string(rng() % 7));
    if (rng() % 2) builder.Set("instance", "host-" + std::to_string(rng() % 400));
    if (rng() % 3 == 0) builder.Set("env", rng() % 2 ? "prod" : "dev");
    Labels labels = builder.Build();
    if (std::find(all.begin(), all.end(), labels) != all.end()) continue;
    all.push_back(labels);
    MustAppend(store, labels, 1000, 1.0);
  }
  std::sort(all.begin(), all.end());
  const std::vector<std::vector<Matcher>> cases = {
      {Eq("job", "j3")},
      {Eq("__name__", "m1"), Eq("job", "j3")},
      {Eq("job", "j5"), Re("instance", "host-1.*")},
      {Re("instance", "host-1.*")},
      {Re("instance", "host-(1|2)[0-9]"), Ne("env", "prod")},
      {Eq("__name__", "m2"), Nre("instance", "host-1.*")},
      {Eq("env", ""), Eq("job", "j0")},
      {Re("env", "dev|"), Nre("job", "j[0-4]")},
      {Ne("instance", ""), Re("job", "j1|j2"), Ne("__name__", "m0")},
      {Ne("job", "j1")},
      {Nre("instance", ".+")},
      {Re("job", "j2|j4|j2|nope")},  // literal alternatives: looked up one by one
      {Re("instance", "host-7|host-12|host-13|host-999")},
      {Re("instance", "host-7|host-12|host-13|host-999"), Re("__name__", "m0|m1|m2")},
      {Eq("__name__", "m1"), Re("job", "j6")},
  };
  for (const auto& matchers : cases) {
    std::vector<std::string> expected;
    for (const Labels& labels : all) {
      bool ok = true;
      for (const Matcher& m : matchers) ok = ok && m.Matches(labels.Get(m.name()));
      if (ok) expected.push_back(labels.ToString());
    }
    std::string description;
    for (const Matcher& m : matchers) description += m.ToString() + " ";
    EXPECT_EQ(Names(store.Select(matchers, 0, 2000)), expected) << description;
    EXPECT_FALSE(expected.empty()) << description;
  }
}

// Large selections sort by the symbols' lexical ranks, updated incrementally
// (or compare strings while too many symbols are unranked); checks the order
// on both paths, across new symbols, removed series and reused symbol ids.
// Records what SelectEach hands out; stops after `limit` series.
class Recorder final : public model::SeriesVisitor {
 public:
  explicit Recorder(size_t limit = std::numeric_limits<size_t>::max()) : limit_(limit) {}
  bool Visit(const model::LabelsView& labels, std::span<const Sample> samples) override {
    series.push_back(model::Series{labels.ToLabels(), {samples.begin(), samples.end()}});
    return series.size() < limit_;
  }
  std::vector<model::Series> series;

 private:
  size_t limit_;
};

std::vector<std::string> Rendered(const std::vector<model::Series>& series) {
  std::vector<std::string> out;
  for (const auto& s : series) {
    std::string line = s.labels.ToString();
    for (const Sample& x : s.samples) line += " " + std::to_string(x.t) + "=" + std::to_string(x.v);
    out.push_back(line);
  }
  return out;
}

TEST(StoreTest, SelectEachHandsOutSelectsSeriesInOrderAndStopsEarly) {
  Store store;
  // 1500 series (sorted by ranks) plus a few of another job (sorted by
  // strings); some have no sample in the window and are skipped.
  for (int i = 0; i < 1500; ++i) {
    const Labels labels{{"__name__", "m"},
                        {"job", "j" + std::to_string(i % 7)},
                        {"instance", "h" + std::to_string(i)}};
    const int64_t first = i % 10 == 0 ? 50'000 : 1'000;
    for (int64_t t = first; t <= first + 4'000; t += 1'000) MustAppend(store, labels, t, i + t);
  }
  for (const char* instance : {"b", "a", "c"}) {
    MustAppend(store, Labels{{"__name__", "m"}, {"job", "small"}, {"instance", instance}}, 2'000,
               1.5);
  }
  for (const std::vector<Matcher>& matchers :
       {std::vector<Matcher>{Eq("__name__", "m")}, std::vector<Matcher>{Eq("job", "small")}}) {
    const std::vector<model::Series> selected = store.Select(matchers, 2'000, 4'000);
    Recorder all;
    store.SelectEach(matchers, 2'000, 4'000, all);
    EXPECT_EQ(Rendered(all.series), Rendered(selected));
    ASSERT_GE(selected.size(), 3u);
    Recorder first_two(2);
    store.SelectEach(matchers, 2'000, 4'000, first_two);
    EXPECT_EQ(Rendered(first_two.series),
              Rendered(std::vector<model::Series>(selected.begin(), selected.begin() + 2)));
  }
  Recorder small;
  store.SelectEach(std::vector<Matcher>{Eq("job", "small")}, 0, 10'000, small);
  EXPECT_THAT(Rendered(small.series), ElementsAre(R"(m{instance="a", job="small"} 2000=1.500000)",
                                                  R"(m{instance="b", job="small"} 2000=1.500000)",
                                                  R"(m{instance="c", job="small"} 2000=1.500000)"));
  Recorder large;
  store.SelectEach(std::vector<Matcher>{Eq("__name__", "m")}, 2'000, 4'000, large);
  // 1350 series have samples at 2000..4000, the 150 that start at 50000 none.
  EXPECT_EQ(large.series.size(), 1350u + 3u);
  EXPECT_EQ(Rendered(large.series)[3],
            R"(m{instance="h1", job="j1"} 2000=2001.000000 3000=3001.000000 4000=4001.000000)");
  Recorder none;
  store.SelectEach(std::vector<Matcher>{Eq("__name__", "m")}, 5'000, 4'000, none);
  EXPECT_THAT(none.series, IsEmpty());
}

TEST(StoreTest, LargeSelectionIsOrderedAcrossSymbolChurn) {
  std::mt19937 rng(11);
  Store store;
  std::vector<Labels> old_series;
  std::vector<Labels> live;
  auto random_labels = [&rng](const std::string& name) {
    model::LabelsBuilder builder;
    builder.Set("__name__", name);
    builder.Set("job", "j" + std::to_string(rng() % 50));
    builder.Set("instance", "h" + std::to_string(rng() % 100000));
    if (rng() % 4 == 0) builder.Set("a", "v" + std::to_string(rng() % 10));
    return builder.Build();
  };
  auto add = [&](std::vector<Labels>& into, const std::string& name, int count, int64_t t) {
    while (count > 0) {
      Labels labels = random_labels(name);
      if (std::find(into.begin(), into.end(), labels) != into.end()) continue;
      into.push_back(labels);
      MustAppend(store, labels, t, 1.0);
      --count;
    }
  };
  auto expect_ordered = [&](std::vector<Labels> expected) {
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> want;
    for (const Labels& labels : expected) want.push_back(labels.ToString());
    EXPECT_EQ(Names(store.Select(std::vector<Matcher>{Re("__name__", "m|n")}, 0,
                                 std::numeric_limits<int64_t>::max())),
              want);
  };
  std::vector<Labels> others;
  add(old_series, "n", 800, 0);
  add(live, "m", 1500, 10'000'000);
  add(others, "o", 3000, 10'000'000);  // not selected: their symbols are unranked
  std::vector<Labels> both = live;
  both.insert(both.end(), old_series.begin(), old_series.end());
  expect_ordered(both);
  // Drops the "n" series (their unique symbols are freed, and their ids are
  // reused by the symbols of the series added next) and ranks all symbols.
  EXPECT_EQ(store.Compact(10'000'000).series_removed, 800u);
  add(live, "m", 700, 10'000'001);
  expect_ordered(live);
  add(live, "m", 5, 10'000'002);
  expect_ordered(live);
}

TEST(StoreTest, OutOfOrderAndDuplicateSamples) {
  Store store;
  const Labels labels{{"__name__", "x"}};
  MustAppend(store, labels, 1000, 1.0);
  auto older = store.Append(labels, 999, 1.0);
  ASSERT_FALSE(older.has_value());
  EXPECT_EQ(older.error().message, "out of order sample");
  auto duplicate = store.Append(labels, 1000, 2.0);
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().message, "duplicate sample for timestamp");
  EXPECT_TRUE(store.Append(labels, 1000, 1.0).has_value());  // same value: a silent no-op
  MustAppend(store, labels, 2000, std::nan(""));
  EXPECT_TRUE(store.Append(labels, 2000, std::nan("")).has_value());  // same NaN bits
  auto stale_dup = store.Append(labels, 2000, model::StaleNaN());
  ASSERT_FALSE(stale_dup.has_value());
  EXPECT_EQ(stale_dup.error().message, "duplicate sample for timestamp");

  const Store::Stats stats = store.GetStats();
  EXPECT_EQ(stats.series, 1u);
  EXPECT_EQ(stats.samples, 2u);
  EXPECT_EQ(stats.appended_total, 2u);
  EXPECT_EQ(stats.out_of_order_total, 1u);
  EXPECT_EQ(stats.duplicate_total, 2u);
  EXPECT_EQ(stats.series_limit_total, 0u);
  auto selected = store.Select(std::vector<Matcher>{Eq("__name__", "x")}, 0, 5000);
  ASSERT_EQ(selected.size(), 1u);
  ASSERT_EQ(selected[0].samples.size(), 2u);
  EXPECT_EQ(selected[0].samples[0], (Sample{1000, 1.0}));
  EXPECT_TRUE(std::isnan(selected[0].samples[1].v));
}

TEST(StoreTest, AppendRefReusesTheSeriesAndFallsBackToLabelsOnceItIsRemoved) {
  Store store;
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}};
  auto first = store.AppendRef(0, a, 1000, 1.0);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_NE(*first, 0u);
  auto second = store.AppendRef(*first, a, 2000, 2.0);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(*second, *first);
  // Append by labels lands on the same series, and the ref keeps working.
  MustAppend(store, a, 3000, 3.0);
  auto other = store.AppendRef(0, b, 1000, 5.0);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, *first);
  // Errors are those of Append.
  auto older = store.AppendRef(*first, a, 1500, 9.0);
  ASSERT_FALSE(older.has_value());
  EXPECT_EQ(older.error().message, "out of order sample");

  // `a` expires and is removed; its old ref is then unknown and the labels
  // create a new series with a new ref.
  MustAppend(store, b, 2'000'000, 6.0);
  ASSERT_EQ(store.Compact(2'000'000).series_removed, 1u);
  auto recreated = store.AppendRef(*first, a, 2'000'000, 7.0);
  ASSERT_TRUE(recreated.has_value()) << recreated.error().message;
  EXPECT_NE(*recreated, *first);
  EXPECT_NE(*recreated, *other);
  auto selected = store.Select(std::vector<Matcher>{Eq("__name__", "a")}, 0, 3'000'000);
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_THAT(selected[0].samples, ElementsAre(Sample{2'000'000, 7.0}));
  EXPECT_EQ(store.GetStats().appended_total, 6u);
}

TEST(StoreTest, RejectsEmptyLabelSet) {
  Store store;
  auto result = store.Append(Labels{}, 1000, 1.0);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "empty label set");
  EXPECT_EQ(store.GetStats().series, 0u);
}

TEST(StoreTest, StaleMarkerIsStoredBitExactAndSelectedAlone) {
  Store store;
  const Labels labels{{"__name__", "up"}, {"job", "api"}};
  MustAppend(store, labels, 1000, 1.0);
  MustAppend(store, labels, 16'000, model::StaleNaN());
  // A window holding only the marker still returns the series.
  auto selected = store.Select(std::vector<Matcher>{Eq("job", "api")}, 15'000, 20'000);
  ASSERT_EQ(selected.size(), 1u);
  ASSERT_EQ(selected[0].samples.size(), 1u);
  EXPECT_EQ(selected[0].samples[0].t, 16'000);
  EXPECT_EQ(std::bit_cast<uint64_t>(selected[0].samples[0].v), model::kStaleNaNBits);
  // The series may come back after the marker.
  MustAppend(store, labels, 31'000, 2.0);
  selected = store.Select(std::vector<Matcher>{Eq("job", "api")}, 0, 40'000);
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].samples.size(), 3u);
  EXPECT_EQ(selected[0].samples[2], (Sample{31'000, 2.0}));
}

TEST(StoreTest, CompactDropsWholeExpiredChunksAndEmptySeries) {
  Store store(StoreOptions{.retention = std::chrono::minutes(10)});
  const Labels live{{"__name__", "live"}, {"instance", "kept"}};
  const Labels gone{{"__name__", "gone"}, {"instance", "dropped"}};
  // 15s apart for 20 minutes: chunks span at most retention / 2 = 300s, so
  // they hold 20 samples each and start at multiples of 300s.
  for (int64_t t = 0; t <= 1'200'000; t += 15'000) MustAppend(store, live, t, 1.0);
  for (int64_t t = 0; t <= 100'000; t += 15'000) MustAppend(store, gone, t, 2.0);
  EXPECT_EQ(store.GetStats().samples, 81u + 7u);
  EXPECT_THAT(store.LabelValues("instance"), ElementsAre("dropped", "kept"));

  // Cutoff 1'200'000 - 600'000: the two chunks ending before 600s go, and
  // all of `gone`.
  Store::CompactStats stats = store.Compact(1'200'000);
  EXPECT_EQ(stats.samples_dropped, 40u + 7u);
  EXPECT_EQ(stats.series_removed, 1u);
  const Store::Stats after = store.GetStats();
  EXPECT_EQ(after.series, 1u);
  EXPECT_EQ(after.samples, 41u);
  auto selected = store.Select(std::vector<Matcher>{}, 0, 2'000'000);
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].labels, live);
  ASSERT_EQ(selected[0].samples.size(), 41u);
  EXPECT_EQ(selected[0].samples.front().t, 600'000);
  EXPECT_EQ(selected[0].samples.back().t, 1'200'000);
  EXPECT_THAT(store.LabelValues("instance"), ElementsAre("kept"));
  EXPECT_THAT(store.LabelValues("__name__"), ElementsAre("live"));
  EXPECT_THAT(store.Select(std::vector<Matcher>{Eq("__name__", "gone")}, 0, 2'000'000), IsEmpty());

  // Compacting again at the same time drops nothing more.
  stats = store.Compact(1'200'000);
  EXPECT_EQ(stats.samples_dropped, 0u);
  EXPECT_EQ(stats.series_removed, 0u);

  // A removed series can be created afresh, even with an older timestamp.
  MustAppend(store, gone, 50'000, 3.0);
  EXPECT_EQ(store.GetStats().series, 2u);

  // Far in the future everything expires; the index is emptied with it.
  stats = store.Compact(1'000'000'000);
  EXPECT_EQ(stats.samples_dropped, 42u);
  EXPECT_EQ(stats.series_removed, 2u);
  EXPECT_EQ(store.GetStats().series, 0u);
  EXPECT_EQ(store.GetStats().samples, 0u);
  EXPECT_THAT(store.LabelNames(), IsEmpty());
  EXPECT_THAT(store.Select(std::vector<Matcher>{}, 0, 2'000'000), IsEmpty());
}

TEST(StoreTest, RetentionHasAFloor) {
  Store store(StoreOptions{.retention = std::chrono::minutes(1)});
  EXPECT_EQ(store.retention(), kMinRetention);
  store.SetRetention(std::chrono::hours(2));
  EXPECT_EQ(store.retention(), std::chrono::hours(2));
  store.SetRetention(std::chrono::seconds(0));
  EXPECT_EQ(store.retention(), std::chrono::minutes(6));
  EXPECT_EQ(Store().retention(), std::chrono::minutes(15));
}

TEST(StoreTest, SeriesLimitRejectsOnlyNewSeries) {
  Store store(StoreOptions{.retention = std::chrono::minutes(10), .max_series = 2});
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}};
  const Labels c{{"__name__", "c"}};
  MustAppend(store, a, 1000, 1.0);
  MustAppend(store, b, 1000, 1.0);
  auto rejected = store.Append(c, 1000, 1.0);
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().message, "series limit of 2 reached");
  MustAppend(store, a, 2000, 1.0);
  EXPECT_EQ(store.GetStats().series_limit_total, 1u);
  EXPECT_EQ(store.GetStats().series, 2u);
  MustAppend(store, b, 1'000'000, 1.0);
  EXPECT_EQ(store.Compact(1'000'000).series_removed, 1u);  // `a` expires
  MustAppend(store, c, 1'000'000, 1.0);
  EXPECT_EQ(store.GetStats().series, 2u);
}

TEST(StoreTest, MemoryStaysWithinTargets) {
  const size_t empty_bytes = Store().GetStats().memory_bytes;
  EXPECT_GT(empty_bytes, sizeof(Store) - 1);

  // Per series: 4 labels and 20 samples 15s apart.
  Store store;
  constexpr int kSeries = 2000;
  for (int i = 0; i < kSeries; ++i) {
    const Labels labels{{"__name__", "http_requests_total"},
                        {"job", "job-" + std::to_string(i % 10)},
                        {"instance", "host-" + std::to_string(i) + ".example.com:9100"},
                        {"code", i % 2 ? "200" : "500"}};
    for (int s = 0; s < 20; ++s) MustAppend(store, labels, 1'700'000'000'000 + s * 15'000, s * 3.0);
  }
  const Store::Stats stats = store.GetStats();
  EXPECT_EQ(stats.series, static_cast<size_t>(kSeries));
  EXPECT_EQ(stats.samples, static_cast<size_t>(kSeries) * 20);
  const size_t per_series = (stats.memory_bytes - empty_bytes) / kSeries;
  EXPECT_LT(per_series, 1024u);
  // At least the distinct strings and one 8-byte posting per label are there.
  EXPECT_GT(per_series, 30u + 4 * 8u);

  // Many samples per series: the samples dominate, under 16 bytes each.
  Store dense(StoreOptions{.retention = std::chrono::hours(24)});
  std::mt19937 rng(3);
  double value = 0;
  for (int s = 0; s < 5000; ++s) {
    value += rng() % 10;
    for (int i = 0; i < 10; ++i) {
      MustAppend(dense, Labels{{"__name__", "counter"}, {"i", std::to_string(i)}},
                 1'700'000'000'000 + s * 15'000 + (rng() % 5), value * (i + 1));
    }
  }
  const Store::Stats dense_stats = dense.GetStats();
  EXPECT_LT(static_cast<double>(dense_stats.memory_bytes - empty_bytes) / dense_stats.samples,
            16.0);

  EXPECT_LT(static_cast<double>(dense_stats.sample_bytes) / dense_stats.samples, 8.0);
  EXPECT_LT(dense_stats.sample_bytes, dense_stats.memory_bytes);

  // Compaction gives the memory back, and the sample accounting returns to 0.
  store.Compact(1'800'000'000'000);
  EXPECT_EQ(store.GetStats().sample_bytes, 0u);
  EXPECT_LT(store.GetStats().memory_bytes, stats.memory_bytes / 3);
}

}  // namespace
}  // namespace vigil::store
