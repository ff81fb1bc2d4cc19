#include "exporters/common/families.h"

#include <gtest/gtest.h>

#include <limits>

namespace vigil::exporters {
namespace {

TEST(ForEachSample, ExpandsEveryTypeAndAddsLabels) {
  std::vector<prometheus::MetricFamily> families(3);
  families[0].name = "requests_total";
  families[0].type = prometheus::MetricType::Counter;
  families[0].metric.resize(1);
  families[0].metric[0].label = {{"code", "200"}, {"instance", "own"}};
  families[0].metric[0].counter.value = 7;
  families[1].name = "latency_seconds";
  families[1].type = prometheus::MetricType::Histogram;
  families[1].metric.resize(1);
  families[1].metric[0].histogram.sample_count = 3;
  families[1].metric[0].histogram.sample_sum = 1.5;
  families[1].metric[0].histogram.bucket = {{1, 0.5}, {3, std::numeric_limits<double>::infinity()}};
  families[2].name = "rpc";
  families[2].type = prometheus::MetricType::Summary;
  families[2].metric.resize(1);
  families[2].metric[0].summary.quantile = {{0.99, 0.2}};
  families[2].metric[0].summary.sample_count = 4;
  families[2].metric[0].summary.sample_sum = 0.5;

  std::vector<std::pair<std::string, double>> got;
  ForEachSample(families, model::Labels{{"instance", "x"}},
                [&](const model::Labels& l, double v) { got.emplace_back(l.ToString(), v); });
  std::vector<std::pair<std::string, double>> want{
      {"requests_total{code=\"200\", instance=\"x\"}", 7},
      {"latency_seconds_bucket{instance=\"x\", le=\"0.5\"}", 1},
      {"latency_seconds_bucket{instance=\"x\", le=\"+Inf\"}", 3},
      {"latency_seconds_sum{instance=\"x\"}", 1.5},
      {"latency_seconds_count{instance=\"x\"}", 3},
      {"rpc{instance=\"x\", quantile=\"0.99\"}", 0.2},
      {"rpc_sum{instance=\"x\"}", 0.5},
      {"rpc_count{instance=\"x\"}", 4},
  };
  EXPECT_EQ(got, want);
}

TEST(WithLabels, ReplacesAndSorts) {
  std::vector<prometheus::MetricFamily> families{GaugeFamily("g", "help", 1)};
  families[0].metric[0].label = {{"z", "1"}, {"instance", "old"}};
  auto out = WithLabels(families, model::Labels{{"instance", "new"}, {"a", "b"}});
  ASSERT_EQ(out[0].metric[0].label.size(), 3u);
  EXPECT_EQ(out[0].metric[0].label[0].name, "a");
  EXPECT_EQ(out[0].metric[0].label[1].value, "new");
  EXPECT_EQ(out[0].metric[0].label[2].name, "z");
}

}  // namespace
}  // namespace vigil::exporters
