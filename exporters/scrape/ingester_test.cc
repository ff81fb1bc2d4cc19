#include "exporters/scrape/ingester.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "daemon/model/relabel.h"
#include "daemon/model/sample.h"

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Records appends as "labels t value" ("stale" for a stale marker); rejects a
// sample whose timestamp is older than the newest seen for its series.
class RecordingAppender : public model::Appender {
 public:
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override {
    const std::string key = labels.ToString();
    auto [it, inserted] = newest_.try_emplace(key, t);
    if (!inserted && t < it->second) return util::Fail("out of order sample");
    it->second = t;
    appends.push_back(
        fmt::format("{} {} {}", key, t, model::IsStaleNaN(v) ? "stale" : fmt::format("{}", v)));
    ++label_set_addresses[&labels];
    return {};
  }
  std::vector<std::string> Take() { return std::exchange(appends, {}); }
  std::vector<std::string> appends;
  std::map<const model::Labels*, int> label_set_addresses;

 private:
  std::map<std::string, int64_t> newest_;
};

// The fields of model::RelabelConfig the tests set, all defaulted as in
// Prometheus so that designated initializers may leave any out.
struct RelabelSpec {
  std::vector<std::string> source_labels = {};
  std::string regex_text = "(.*)";
  uint64_t modulus = 0;
  std::string target_label = {};
  std::string replacement = "$1";
  model::RelabelAction action = model::RelabelAction::kReplace;
};

// Compiles relabel configs as the config loader does.
std::vector<model::RelabelConfig> Relabels(std::vector<RelabelSpec> specs) {
  std::vector<model::RelabelConfig> configs;
  for (RelabelSpec& spec : specs) {
    model::RelabelConfig config;
    config.source_labels = std::move(spec.source_labels);
    config.regex_text = std::move(spec.regex_text);
    config.modulus = spec.modulus;
    config.target_label = std::move(spec.target_label);
    config.replacement = std::move(spec.replacement);
    config.action = spec.action;
    auto made = model::MakeRelabelConfig(std::move(config));
    if (!made) {
      ADD_FAILURE() << made.error().message;
      continue;
    }
    configs.push_back(*std::move(made));
  }
  return configs;
}

IngesterOptions TargetOptions() {
  IngesterOptions options;
  options.target_labels = model::Labels{{"instance", "host:9100"}, {"job", "node"}};
  return options;
}

TEST(Ingester, TargetLabelsWinAndExposedOnesBecomeExported) {
  Ingester ingester(TargetOptions());
  RecordingAppender appender;
  auto report = ingester.Ingest(
      "up_total{job=\"exposed\",exported_job=\"taken\",instance=\"i\",x=\"y\"} 1\n"
      "plain 2\n",
      Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(), ElementsAre("up_total{exported_exported_job=\"exposed\", "
                                           "exported_instance=\"i\", exported_job=\"taken\", "
                                           "instance=\"host:9100\", job=\"node\", x=\"y\"} 1000 1",
                                           "plain{instance=\"host:9100\", job=\"node\"} 1000 2"));
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 2,
                                    .samples_post_relabel = 2,
                                    .samples_appended = 2,
                                    .series_added = 2}));
}

TEST(Ingester, HonorLabelsKeepsExposedValues) {
  IngesterOptions options = TargetOptions();
  options.honor_labels = true;
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("fed{job=\"other\"} 1\nfed{job=\"\"} 2\n", Format::kPrometheusText,
                              1000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("fed{instance=\"host:9100\", job=\"other\"} 1000 1",
                                           "fed{instance=\"host:9100\", job=\"node\"} 1000 2"));
}

TEST(Ingester, StaleMarkersForVanishedSeries) {
  Ingester ingester(TargetOptions());
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 2\nc 3 500\n", Format::kPrometheusText, 1000, appender));
  appender.Take();
  auto report = ingester.Ingest("a 4\n", Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  // b vanished: stale. c carried its own timestamp: no staleness, as in Prometheus.
  EXPECT_THAT(appender.Take(), ElementsAre("a{instance=\"host:9100\", job=\"node\"} 2000 4",
                                           "b{instance=\"host:9100\", job=\"node\"} 2000 stale"));
  EXPECT_EQ(report->stale_markers, 1u);
  EXPECT_EQ(ingester.cached_series(), 1u);

  // b comes back: no marker for it; a is gone now.
  ASSERT_TRUE(ingester.Ingest("b 5\n", Format::kPrometheusText, 3000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("b{instance=\"host:9100\", job=\"node\"} 3000 5",
                                           "a{instance=\"host:9100\", job=\"node\"} 3000 stale"));
  // An empty scrape ends b; a is not marked twice.
  ASSERT_TRUE(ingester.Ingest("", Format::kPrometheusText, 4000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("b{instance=\"host:9100\", job=\"node\"} 4000 stale"));
  EXPECT_EQ(ingester.cached_series(), 0u);
}

TEST(Ingester, FailedScrapeAppendsNothingAndMarkAllStaleEndsSeries) {
  Ingester ingester(TargetOptions());
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 2\n", Format::kPrometheusText, 1000, appender));
  appender.Take();

  auto failed = ingester.Ingest("a 3\nb{ 4\n", Format::kPrometheusText, 2000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "line 2: expected label name, got \"4\"");
  EXPECT_THAT(appender.Take(), IsEmpty());

  EXPECT_EQ(ingester.MarkAllStale(2000, appender), 2u);
  auto markers = appender.Take();
  std::sort(markers.begin(), markers.end());
  EXPECT_THAT(markers, ElementsAre("a{instance=\"host:9100\", job=\"node\"} 2000 stale",
                                   "b{instance=\"host:9100\", job=\"node\"} 2000 stale"));
  EXPECT_EQ(ingester.MarkAllStale(2500, appender), 0u);

  // The next good scrape starts fresh: no marker repeats.
  ASSERT_TRUE(ingester.Ingest("a 5\n", Format::kPrometheusText, 3000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("a{instance=\"host:9100\", job=\"node\"} 3000 5"));
}

TEST(Ingester, FailedScrapeWithoutMarkAllStaleKeepsLastSuccessAsReference) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 2\n", Format::kPrometheusText, 1000, appender));
  ASSERT_FALSE(ingester.Ingest("a 3\nc 4\nd{", Format::kPrometheusText, 2000, appender));
  appender.Take();
  auto report = ingester.Ingest("a 5\n", Format::kPrometheusText, 3000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(appender.Take(), ElementsAre("a 3000 5", "b 3000 stale"));
  // c was only in the failed body: never written, so never marked, and dropped.
  EXPECT_EQ(ingester.cached_series(), 1u);
  EXPECT_EQ(ingester.cached_texts(), 1u);
}

TEST(Ingester, FailedScrapesDoNotGrowTheCache) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 1\n", Format::kPrometheusText, 1000, appender));
  for (int i = 0; i < 3; ++i) {
    const std::string body = fmt::format("a 2\nb{{x=\"y\"}} 2\nnew_{} 2\nbroken{{", i);
    ASSERT_FALSE(ingester.Ingest(body, Format::kPrometheusText, 2000 + i, appender));
    EXPECT_EQ(ingester.cached_texts(), 2u);
    EXPECT_EQ(ingester.cached_series(), 2u);
  }
  // The cache still serves the series kept.
  auto report = ingester.Ingest("a 3\nb 3\n", Format::kPrometheusText, 3000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->series_added, 0u);
  EXPECT_EQ(report->samples_appended, 2u);
}

TEST(Ingester, CacheDropsTextsAndSeriesNoLongerExposed) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  std::string body;
  for (int i = 0; i < 200; ++i) body += fmt::format("m{{i=\"{}\"}} {}\n", i, i);
  ASSERT_TRUE(ingester.Ingest(body, Format::kPrometheusText, 1000, appender));
  EXPECT_EQ(ingester.cached_texts(), 200u);
  EXPECT_EQ(ingester.cached_series(), 200u);
  auto report =
      ingester.Ingest("m{i=\"7\"} 1\nm{i=\"199\"} 2\n", Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stale_markers, 198u);
  EXPECT_EQ(report->series_added, 0u);
  EXPECT_EQ(ingester.cached_texts(), 2u);
  EXPECT_EQ(ingester.cached_series(), 2u);
  // The rebuilt table still finds both, and new series go in beside them.
  report = ingester.Ingest("m{i=\"7\"} 3\nm{i=\"199\"} 4\nm{i=\"5\"} 5\n", Format::kPrometheusText,
                           3000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->series_added, 1u);
  EXPECT_EQ(report->stale_markers, 0u);
  EXPECT_EQ(report->samples_appended, 3u);
}

TEST(Ingester, MarkAllStaleWritesOneMarkerPerSeries) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb{x=\"1\"} 2\n", Format::kPrometheusText, 1000, appender));
  appender.Take();
  EXPECT_EQ(ingester.MarkAllStale(1500, appender), 2u);
  auto appends = appender.Take();
  std::sort(appends.begin(), appends.end());
  EXPECT_THAT(appends, ElementsAre("a 1500 stale", "b{x=\"1\"} 1500 stale"));
}

TEST(Ingester, SampleLimitFailsTheWholeScrape) {
  IngesterOptions options = TargetOptions();
  options.sample_limit = 2;
  Ingester ingester(options);
  RecordingAppender appender;
  auto report = ingester.Ingest("a 1\nb 2\n", Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->samples_appended, 2u);
  appender.Take();

  auto failed = ingester.Ingest("a 1\nb 2\nc 3\n", Format::kPrometheusText, 2000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "sample limit exceeded");
  EXPECT_THAT(appender.Take(), IsEmpty());
}

TEST(Ingester, CachesLabelSetsAcrossScrapes) {
  Ingester ingester(TargetOptions());
  RecordingAppender appender;
  const std::string body = "a{x=\"1\"} 1\na{x=\"2\"} 2\n";
  auto first = ingester.Ingest(body, Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->series_added, 2u);
  auto second = ingester.Ingest(body, Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->series_added, 0u);
  EXPECT_EQ(second->samples_appended, 2u);
  // The very same Labels objects were passed both times: nothing was rebuilt.
  ASSERT_EQ(appender.label_set_addresses.size(), 2u);
  for (const auto& [address, count] : appender.label_set_addresses) EXPECT_EQ(count, 2);
}

TEST(Ingester, DuplicateSeriesInOneBodyAreSkipped) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  // Different raw texts, one series: only the first is appended.
  auto report =
      ingester.Ingest("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\na{x=\"1\",y=\"2\"} 3\n",
                      Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(appender.Take(), ElementsAre("a{x=\"1\", y=\"2\"} 1000 1"));
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 3,
                                    .samples_post_relabel = 3,
                                    .samples_appended = 1,
                                    .series_added = 2,
                                    .duplicates = 2}));
}

TEST(Ingester, AppenderRejectionsAreCountedNotFatal) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  auto report = ingester.Ingest("a 1 5000\nb 2 3000\n", Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value());
  appender.Take();
  report = ingester.Ingest("a 1 4000\nb 2 3500\n", Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(appender.Take(), ElementsAre("b 3500 2"));
  EXPECT_EQ(report->append_errors, 1u);
  EXPECT_EQ(report->first_append_error, "out of order sample");
  EXPECT_EQ(report->samples_appended, 1u);
}

TEST(Ingester, HonorTimestampsFalseUsesScrapeTime) {
  IngesterOptions options;
  options.honor_timestamps = false;
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1 5000\n# EOF\n", Format::kOpenMetrics, 1000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("a 1000 1"));
  // Tracked for staleness since the scrape time was used.
  ASSERT_TRUE(ingester.Ingest("# EOF\n", Format::kOpenMetrics, 2000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("a 2000 stale"));
}

TEST(Ingester, CachedTextsAreParsedAgainAfterAFormatChange) {
  Ingester ingester(IngesterOptions{});
  RecordingAppender appender;
  // Blanks inside a label set: valid text format, invalid OpenMetrics.
  ASSERT_TRUE(ingester.Ingest("a{x=\"1\", y=\"2\"} 1\n", Format::kPrometheusText, 1000, appender));
  auto failed =
      ingester.Ingest("a{x=\"1\", y=\"2\"} 2\n# EOF\n", Format::kOpenMetrics, 2000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "line 1: expected label name, got \" \"");
  ASSERT_TRUE(ingester.Ingest("a{x=\"1\", y=\"2\"} 3\n", Format::kPrometheusText, 3000, appender));
  EXPECT_THAT(appender.Take(),
              ElementsAre("a{x=\"1\", y=\"2\"} 1000 1", "a{x=\"1\", y=\"2\"} 3000 3"));
}

// Hands out a ref per label set (1, 2, ... in order of first append) and
// records each call as "ref-passed labels t value"; a ref it is told to
// forget is unknown from then on, and the series gets a new one.
class RefAppender : public model::Appender {
 public:
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override {
    if (auto ref = AppendRef(0, labels, t, v); !ref) return tl::unexpected(ref.error());
    return {};
  }
  util::Result<model::SeriesRef> AppendRef(model::SeriesRef ref, const model::Labels& labels,
                                           int64_t t, double v) override {
    const std::string key = labels.ToString();
    calls.push_back(fmt::format("{} {} {} {}", ref, key, t,
                                model::IsStaleNaN(v) ? "stale" : fmt::format("{}", v)));
    if (auto known = by_ref_.find(ref); known != by_ref_.end()) {
      if (known->second != key) return util::Fail("ref {} is not {}", ref, key);
      return ref;
    }
    model::SeriesRef& assigned = refs_[key];
    if (assigned == 0) {
      assigned = next_ref_++;
      by_ref_[assigned] = key;
    }
    return assigned;
  }
  void Forget(model::SeriesRef ref) {
    refs_[by_ref_.at(ref)] = 0;
    by_ref_.erase(ref);
  }
  std::vector<std::string> Take() { return std::exchange(calls, {}); }
  std::vector<std::string> calls;

 private:
  std::map<std::string, model::SeriesRef> refs_;
  std::map<model::SeriesRef, std::string> by_ref_;
  model::SeriesRef next_ref_ = 1;
};

TEST(Ingester, AppendsByTheRefTheAppenderHandedOut) {
  Ingester ingester(IngesterOptions{});
  RefAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 2\nc 3\n", Format::kPrometheusText, 1000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("0 a 1000 1", "0 b 1000 2", "0 c 1000 3"));
  ASSERT_TRUE(ingester.Ingest("a 4\nb 5\nc 6\n", Format::kPrometheusText, 2000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("1 a 2000 4", "2 b 2000 5", "3 c 2000 6"));

  // The stale marker for the vanished b goes by its ref too.
  auto report = ingester.Ingest("a 7\nc 8\n", Format::kPrometheusText, 3000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stale_markers, 1u);
  EXPECT_THAT(appender.Take(), ElementsAre("1 a 3000 7", "3 c 3000 8", "2 b 3000 stale"));

  // A ref the appender forgot: it falls back to the labels and hands out a
  // new ref, which the next scrape uses.
  appender.Forget(3);
  ASSERT_TRUE(ingester.Ingest("a 9\nc 10\n", Format::kPrometheusText, 4000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("1 a 4000 9", "3 c 4000 10"));
  ASSERT_TRUE(ingester.Ingest("a 11\nc 12\n", Format::kPrometheusText, 5000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("1 a 5000 11", "4 c 5000 12"));

  EXPECT_EQ(ingester.MarkAllStale(6000, appender), 2u);
  auto markers = appender.Take();
  std::sort(markers.begin(), markers.end());
  EXPECT_THAT(markers, ElementsAre("1 a 6000 stale", "4 c 6000 stale"));
}

// Takes each scrape's samples as one AppendRefs batch, recording its size:
// hands out refs as RefAppender does, but rejects every negative value.
class BatchAppender : public RefAppender {
 public:
  std::vector<model::RejectedSample> AppendRefs(std::span<model::RefSample> samples) override {
    batch_sizes.push_back(samples.size());
    std::vector<model::RejectedSample> rejected;
    for (size_t i = 0; i < samples.size(); ++i) {
      model::RefSample& s = samples[i];
      if (s.v < 0) {
        rejected.push_back(
            model::RejectedSample{i, util::Error{"negative " + s.labels->ToString()}});
        continue;
      }
      s.ref = *AppendRef(s.ref, *s.labels, s.t, s.v);
    }
    return rejected;
  }
  std::vector<size_t> batch_sizes;
};

TEST(Ingester, AppendsAScrapeAsOneBatchAndKeepsTheRefsOfAcceptedSamples) {
  Ingester ingester(IngesterOptions{});
  BatchAppender appender;
  auto report = ingester.Ingest("a 1\nb -1\nc -2\nd 4\n", Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 4,
                                   .samples_post_relabel = 4,
                                   .samples_appended = 2,
                                   .series_added = 4,
                                   .append_errors = 2,
                                   .first_append_error = "negative b"}));
  EXPECT_THAT(appender.Take(), ElementsAre("0 a 1000 1", "0 d 1000 4"));
  // The rejected b and c have no ref yet; a and d append by theirs.
  ASSERT_TRUE(ingester.Ingest("a 5\nb 6\nc 7\nd 8\n", Format::kPrometheusText, 2000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("1 a 2000 5", "0 b 2000 6", "0 c 2000 7", "2 d 2000 8"));
  ASSERT_TRUE(ingester.Ingest("a 9\nb 10\nc 11\nd 12\n", Format::kPrometheusText, 3000, appender));
  EXPECT_THAT(appender.Take(),
              ElementsAre("1 a 3000 9", "3 b 3000 10", "4 c 3000 11", "2 d 3000 12"));
  EXPECT_THAT(appender.batch_sizes, ElementsAre(4u, 4u, 4u));
}

TEST(Ingester, SeriesOrderChangesBetweenScrapesKeepTheirSeries) {
  Ingester ingester(IngesterOptions{});
  RefAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1\nb 2\nc 3\nd 4\n", Format::kPrometheusText, 1000, appender));
  appender.Take();
  // Reversed, with a new series in the middle and a repeated text.
  auto report =
      ingester.Ingest("d 5\nc 6\nnew 7\nb 8\nb 9\na 10\n", Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->series_added, 1u);
  EXPECT_EQ(report->duplicates, 1u);
  EXPECT_THAT(appender.Take(),
              ElementsAre("4 d 2000 5", "3 c 2000 6", "0 new 2000 7", "2 b 2000 8", "1 a 2000 10"));
  ASSERT_TRUE(ingester.Ingest("a 11\nnew 12\nd 13\n", Format::kPrometheusText, 3000, appender));
  std::vector<std::string> calls = appender.Take();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_THAT(std::vector(calls.begin(), calls.begin() + 3),
              ElementsAre("1 a 3000 11", "5 new 3000 12", "4 d 3000 13"));
  // Stale markers follow the samples, in no particular order.
  EXPECT_THAT(std::vector(calls.begin() + 3, calls.end()),
              UnorderedElementsAre("2 b 3000 stale", "3 c 3000 stale"));
}

TEST(IngesterRelabel, DropSkipsMatchingSeriesAndCachesTheDecision) {
  IngesterOptions options = TargetOptions();
  options.metric_relabel_configs = Relabels({{.source_labels = {"__name__"},
                                              .regex_text = "go_.*",
                                              .action = model::RelabelAction::kDrop}});
  Ingester ingester(options);
  RecordingAppender appender;
  const std::string body = "go_goroutines 5\nhttp_requests_total{code=\"200\"} 7\n";
  auto report = ingester.Ingest(body, Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(), ElementsAre("http_requests_total{code=\"200\", "
                                           "instance=\"host:9100\", job=\"node\"} 1000 7"));
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 2,
                                   .samples_post_relabel = 1,
                                   .samples_appended = 1,
                                   .series_added = 1}));
  // The dropped text is cached as dropped: no label set for it.
  EXPECT_EQ(ingester.cached_texts(), 2u);
  EXPECT_EQ(ingester.cached_series(), 1u);

  report = ingester.Ingest(body, Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 2,
                                   .samples_post_relabel = 1,
                                   .samples_appended = 1,
                                   .series_added = 0}));
  appender.Take();

  // The dropped series vanishing writes no stale marker; its entry is swept.
  report = ingester.Ingest("http_requests_total{code=\"200\"} 8\n", Format::kPrometheusText, 3000,
                           appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(appender.Take(), ElementsAre("http_requests_total{code=\"200\", "
                                           "instance=\"host:9100\", job=\"node\"} 3000 8"));
  EXPECT_EQ(report->stale_markers, 0u);
  EXPECT_EQ(ingester.cached_texts(), 1u);
  EXPECT_EQ(ingester.cached_series(), 1u);
}

TEST(IngesterRelabel, KeepSeesTargetAndExportedLabels) {
  IngesterOptions options = TargetOptions();
  // Relabeling runs after the target labels were merged: job is the target's,
  // the exposed job is exported_job.
  options.metric_relabel_configs = Relabels({{.source_labels = {"job", "exported_job"},
                                              .regex_text = "node;(x|)",
                                              .action = model::RelabelAction::kKeep}});
  Ingester ingester(options);
  RecordingAppender appender;
  auto report = ingester.Ingest("m{job=\"x\"} 1\nm{job=\"y\"} 2\nplain 3\n",
                                Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(),
              ElementsAre("m{exported_job=\"x\", instance=\"host:9100\", job=\"node\"} 1000 1",
                          "plain{instance=\"host:9100\", job=\"node\"} 1000 3"));
  EXPECT_EQ(report->samples_post_relabel, 2u);
  EXPECT_EQ(ingester.cached_texts(), 3u);
}

TEST(IngesterRelabel, ReplaceRewritesNameAndLabelsAndStaleMarkersUseTheResult) {
  IngesterOptions options;
  options.metric_relabel_configs =
      Relabels({{.source_labels = {"__name__", "code"},
                 .regex_text = "http_(.*);(.)00",
                 .target_label = "class",
                 .replacement = "${2}xx_$1"},
                {.source_labels = {"__name__"},
                 .regex_text = "http_(.*)",
                 .target_label = "__name__",
                 .replacement = "web_$1"},
                // Prometheus keeps every label left after metric relabeling,
                // `__`-prefixed ones included.
                {.target_label = "__tmp_seen", .replacement = "yes"},
                // An empty replacement deletes the target label.
                {.source_labels = {"code"},
                 .regex_text = "500",
                 .target_label = "code",
                 .replacement = ""}});
  Ingester ingester(options);
  RecordingAppender appender;
  auto report = ingester.Ingest("http_requests{code=\"200\"} 1\nhttp_requests{code=\"500\"} 2\n",
                                Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(),
              ElementsAre("web_requests{__tmp_seen=\"yes\", class=\"2xx_requests\", "
                          "code=\"200\"} 1000 1",
                          "web_requests{__tmp_seen=\"yes\", class=\"5xx_requests\"} 1000 2"));
  ASSERT_TRUE(ingester.Ingest("", Format::kPrometheusText, 2000, appender));
  auto markers = appender.Take();
  std::sort(markers.begin(), markers.end());
  EXPECT_THAT(markers,
              ElementsAre("web_requests{__tmp_seen=\"yes\", class=\"2xx_requests\", "
                          "code=\"200\"} 2000 stale",
                          "web_requests{__tmp_seen=\"yes\", class=\"5xx_requests\"} 2000 stale"));
}

TEST(IngesterRelabel, LabelDropAndLabelKeep) {
  IngesterOptions options = TargetOptions();
  options.metric_relabel_configs =
      Relabels({{.regex_text = "pod|instance", .action = model::RelabelAction::kLabelDrop}});
  Ingester dropping(options);
  RecordingAppender appender;
  ASSERT_TRUE(dropping.Ingest("m{pod=\"p\",zone=\"z\"} 1\n", Format::kPrometheusText, 1000,
                              appender));
  EXPECT_THAT(appender.Take(), ElementsAre("m{job=\"node\", zone=\"z\"} 1000 1"));

  options.metric_relabel_configs =
      Relabels({{.regex_text = "__name__|job", .action = model::RelabelAction::kLabelKeep}});
  Ingester keeping(options);
  ASSERT_TRUE(keeping.Ingest("m{pod=\"p\",zone=\"z\"} 1\n", Format::kPrometheusText, 1000,
                             appender));
  EXPECT_THAT(appender.Take(), ElementsAre("m{job=\"node\"} 1000 1"));
}

TEST(IngesterRelabel, LabelMapCopiesMatchingLabels) {
  IngesterOptions options;
  options.metric_relabel_configs = Relabels(
      {{.regex_text = "meta_(.+)", .replacement = "$1", .action = model::RelabelAction::kLabelMap}});
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("m{meta_zone=\"a\",x=\"1\"} 1\n", Format::kPrometheusText, 1000,
                              appender));
  EXPECT_THAT(appender.Take(), ElementsAre("m{meta_zone=\"a\", x=\"1\", zone=\"a\"} 1000 1"));
}

TEST(IngesterRelabel, HashModShardsOnTargetLabels) {
  IngesterOptions options = TargetOptions();
  // md5("host:9100") mod 8 is 3; md5("a") mod 8 is 1.
  options.metric_relabel_configs = Relabels({{.source_labels = {"instance"},
                                              .modulus = 8,
                                              .target_label = "shard",
                                              .action = model::RelabelAction::kHashMod},
                                             {.source_labels = {"x"},
                                              .modulus = 8,
                                              .target_label = "x_shard",
                                              .action = model::RelabelAction::kHashMod}});
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("m{x=\"a\"} 1\n", Format::kPrometheusText, 1000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("m{instance=\"host:9100\", job=\"node\", shard=\"3\", "
                                           "x=\"a\", x_shard=\"1\"} 1000 1"));
}

TEST(IngesterRelabel, EmptyLabelSetDropsTheSample) {
  IngesterOptions options = TargetOptions();
  options.metric_relabel_configs =
      Relabels({{.regex_text = ".*", .action = model::RelabelAction::kLabelDrop}});
  Ingester ingester(options);
  RecordingAppender appender;
  auto report = ingester.Ingest("m{x=\"1\"} 1\n", Format::kPrometheusText, 1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(), IsEmpty());
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 1}));
  EXPECT_EQ(ingester.cached_texts(), 1u);
  EXPECT_EQ(ingester.cached_series(), 0u);
}

TEST(IngesterRelabel, LosingTheMetricNameFailsTheScrape) {
  IngesterOptions options;
  options.metric_relabel_configs =
      Relabels({{.regex_text = "__name__", .action = model::RelabelAction::kLabelDrop}});
  Ingester ingester(options);
  RecordingAppender appender;
  auto failed = ingester.Ingest("m{x=\"1\"} 1\n", Format::kPrometheusText, 1000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "missing metric name (__name__ label)");
  EXPECT_THAT(appender.Take(), IsEmpty());
  EXPECT_EQ(ingester.cached_texts(), 0u);
  EXPECT_EQ(ingester.cached_series(), 0u);
}

TEST(IngesterRelabel, InvalidMetricNameAfterRelabelingFailsTheScrape) {
  IngesterOptions options;
  options.metric_relabel_configs = Relabels({{.source_labels = {"__name__"},
                                              .target_label = "__name__",
                                              .replacement = "$1-x"}});
  Ingester ingester(options);
  RecordingAppender appender;
  auto failed = ingester.Ingest("ok 1\nm{a=\"1\"} 1\n", Format::kPrometheusText, 1000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "invalid metric name or label names: ok-x");
  EXPECT_THAT(appender.Take(), IsEmpty());
}

TEST(IngesterRelabel, SampleLimitCountsSamplesAfterRelabeling) {
  IngesterOptions options;
  options.sample_limit = 2;
  options.metric_relabel_configs = Relabels({{.source_labels = {"__name__"},
                                              .regex_text = "debug_.*",
                                              .action = model::RelabelAction::kDrop}});
  Ingester ingester(options);
  RecordingAppender appender;
  // Five samples: two dropped, one repeating a (never appended): within the limit.
  auto report = ingester.Ingest("debug_a 1\na 2\ndebug_b 3\nb 4\na 5\n", Format::kPrometheusText,
                                1000, appender);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(appender.Take(), ElementsAre("a 1000 2", "b 1000 4"));
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 5,
                                   .samples_post_relabel = 3,
                                   .samples_appended = 2,
                                   .series_added = 2,
                                   .duplicates = 1}));

  auto failed =
      ingester.Ingest("debug_a 1\na 2\nb 3\nc 4\n", Format::kPrometheusText, 2000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "sample limit exceeded");
  EXPECT_THAT(appender.Take(), IsEmpty());
}

TEST(IngesterRelabel, PostRelabelCountIncludesAppenderRejections) {
  IngesterOptions options;
  options.metric_relabel_configs = Relabels({{.source_labels = {"__name__"},
                                              .regex_text = "b",
                                              .action = model::RelabelAction::kDrop}});
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("a 1 5000\n", Format::kPrometheusText, 1000, appender));
  auto report = ingester.Ingest("a 2 4000\nb 3\n", Format::kPrometheusText, 2000, appender);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(*report, (IngestReport{.samples_scraped = 2,
                                   .samples_post_relabel = 1,
                                   .samples_appended = 0,
                                   .series_added = 0,
                                   .append_errors = 1,
                                   .first_append_error = "out of order sample"}));
}

TEST(IngesterLabelLimit, CountsLabelsAfterTargetLabelsAndRelabeling) {
  IngesterOptions options = TargetOptions();
  options.label_limit = 3;
  Ingester ingester(options);
  RecordingAppender appender;
  ASSERT_TRUE(ingester.Ingest("ok 1\n", Format::kPrometheusText, 1000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("ok{instance=\"host:9100\", job=\"node\"} 1000 1"));

  auto failed =
      ingester.Ingest("ok 1\nwide{a=\"1\"} 2\n", Format::kPrometheusText, 2000, appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message,
            "label_limit exceeded (metric: wide, number of labels: 4, limit: 3)");
  EXPECT_THAT(appender.Take(), IsEmpty());
  EXPECT_EQ(ingester.cached_texts(), 1u);
  EXPECT_EQ(ingester.cached_series(), 1u);

  // Relabeling that removes a label brings the series within the limit.
  options.metric_relabel_configs =
      Relabels({{.regex_text = "a", .action = model::RelabelAction::kLabelDrop}});
  Ingester relabeling(options);
  ASSERT_TRUE(relabeling.Ingest("wide{a=\"1\"} 2\n", Format::kPrometheusText, 3000, appender));
  EXPECT_THAT(appender.Take(), ElementsAre("wide{instance=\"host:9100\", job=\"node\"} 3000 2"));
}

TEST(IngesterLabelLimit, MetricNameInTheErrorIsCutAtFiftyCharacters) {
  IngesterOptions options;
  options.label_limit = 1;
  Ingester ingester(options);
  RecordingAppender appender;
  const std::string name(60, 'n');
  auto failed = ingester.Ingest(name + "{a=\"1\",b=\"2\"} 1\n", Format::kPrometheusText, 1000,
                                appender);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message,
            fmt::format("label_limit exceeded (metric: {}, number of labels: 3, limit: 1)",
                        std::string(50, 'n')));
}

}  // namespace
}  // namespace vigil::scrape
