// Counts heap allocations to hold the parser and the Ingester to their
// "nothing allocated per sample once warm" contract. Replaces the global
// operator new/delete of this test binary with counting wrappers over malloc.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "daemon/model/relabel.h"
#include "daemon/model/storage.h"
#include "exporters/scrape/ingester.h"
#include "exporters/scrape/parser.h"

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace vigil::scrape {
namespace {

// A body of `series` histogram-style samples with escapes, in a few families.
std::string MakeBody(int series, Format format) {
  std::string body;
  for (int family = 0; family < 4; ++family) {
    body += fmt::format("# HELP fam{}_total Help \\\\ text.\n", family);
    body += fmt::format("# TYPE fam{}_total counter\n", family);
    for (int i = 0; i < series / 4; ++i) {
      body += fmt::format("fam{}_total{{path=\"/a\\\"{}\\\"\",code=\"200\",le=\"{}\"}} {}\n",
                          family, i, i % 12, i * 1.5);
    }
  }
  if (format == Format::kOpenMetrics) body += "# EOF\n";
  return body;
}

class CountingSink : public SampleSink {
 public:
  util::Result<void> OnSample(const ParsedSample&) override {
    ++samples;
    return {};
  }
  size_t samples = 0;
};

class CountingAppender : public model::Appender {
 public:
  util::Result<void> Append(const model::Labels&, int64_t, double) override {
    ++appended;
    return {};
  }
  size_t appended = 0;
};

size_t AllocationsOfParse(Parser& parser, const std::string& body) {
  CountingSink sink;
  const size_t before = g_allocations.load();
  const bool ok = parser.Parse(body, Format::kPrometheusText, sink).has_value();
  const size_t after = g_allocations.load();
  EXPECT_TRUE(ok);
  return after - before;
}

TEST(Allocations, WarmParserAllocatesIndependentlyOfSampleCount) {
  const std::string small = MakeBody(400, Format::kPrometheusText);
  const std::string large = MakeBody(4000, Format::kPrometheusText);
  Parser parser;
  AllocationsOfParse(parser, large);  // warm: scratch and label vectors reach size
  const size_t small_count = AllocationsOfParse(parser, small);
  const size_t large_count = AllocationsOfParse(parser, large);
  // Only per-family bookkeeping (4 families) allocates.
  EXPECT_EQ(small_count, large_count);
  EXPECT_LE(large_count, 16u);
}

TEST(Allocations, SteadyStateIngestAllocatesIndependentlyOfSampleCount) {
  for (Format format : {Format::kPrometheusText, Format::kOpenMetrics}) {
    IngesterOptions options;
    options.target_labels = model::Labels{{"instance", "h:1"}, {"job", "j"}};
    Ingester ingester(options);
    CountingAppender appender;
    const std::string body = MakeBody(4000, format);
    ASSERT_TRUE(ingester.Ingest(body, format, 1000, appender));
    ASSERT_TRUE(ingester.Ingest(body, format, 2000, appender));
    const size_t before = g_allocations.load();
    auto report = ingester.Ingest(body, format, 3000, appender);
    const size_t allocations = g_allocations.load() - before;
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(report->samples_appended, 4000u);
    EXPECT_EQ(report->series_added, 0u);
    EXPECT_LE(allocations, 16u);
  }
}

TEST(Allocations, SteadyStateIngestWithMetricRelabelingAllocatesNothingPerSample) {
  IngesterOptions options;
  options.target_labels = model::Labels{{"instance", "h:1"}, {"job", "j"}};
  model::RelabelConfig drop;
  drop.source_labels.emplace_back(model::kMetricName);
  drop.regex_text = "fam0_total";
  drop.action = model::RelabelAction::kDrop;
  model::RelabelConfig label_drop;
  label_drop.regex_text = "code";
  label_drop.action = model::RelabelAction::kLabelDrop;
  for (const model::RelabelConfig& spec : {drop, label_drop}) {
    auto made = model::MakeRelabelConfig(spec);
    ASSERT_TRUE(made.has_value()) << made.error().message;
    options.metric_relabel_configs.push_back(*std::move(made));
  }
  Ingester ingester(options);
  CountingAppender appender;
  const std::string body = MakeBody(4000, Format::kPrometheusText);
  ASSERT_TRUE(ingester.Ingest(body, Format::kPrometheusText, 1000, appender));
  ASSERT_TRUE(ingester.Ingest(body, Format::kPrometheusText, 2000, appender));
  const size_t before = g_allocations.load();
  auto report = ingester.Ingest(body, Format::kPrometheusText, 3000, appender);
  const size_t allocations = g_allocations.load() - before;
  ASSERT_TRUE(report.has_value());
  // fam0 (1000 series) is dropped; neither it nor the kept series is relabeled again.
  EXPECT_EQ(report->samples_post_relabel, 3000u);
  EXPECT_EQ(report->samples_appended, 3000u);
  EXPECT_EQ(report->series_added, 0u);
  EXPECT_LE(allocations, 16u);
}

}  // namespace
}  // namespace vigil::scrape
