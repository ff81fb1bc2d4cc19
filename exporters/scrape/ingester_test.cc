#include "exporters/scrape/ingester.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/model/sample.h"

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

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
  EXPECT_EQ(*report,
            (IngestReport{.samples_scraped = 2, .samples_appended = 2, .series_added = 2}));
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
  EXPECT_EQ(*report,
            (IngestReport{
                .samples_scraped = 3, .samples_appended = 1, .series_added = 2, .duplicates = 2}));
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

}  // namespace
}  // namespace vigil::scrape
