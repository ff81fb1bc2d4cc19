#include "daemon/app/process_collector.h"

#include <gtest/gtest.h>

#include <ctime>
#include <map>

namespace vigil::app {
namespace {

TEST(ProcessCollector, ReportsPlausibleValues) {
  std::map<std::string, double> values;
  for (const auto& family : ProcessCollector().Collect()) {
    ASSERT_EQ(family.metric.size(), 1u);
    values[family.name] = family.type == prometheus::MetricType::Counter
                              ? family.metric[0].counter.value
                              : family.metric[0].gauge.value;
  }
  ASSERT_EQ(values.size(), 6u);
  EXPECT_GT(values["process_resident_memory_bytes"], 1e5);
  EXPECT_GT(values["process_virtual_memory_bytes"], values["process_resident_memory_bytes"]);
  EXPECT_GE(values["process_open_fds"], 3);
  EXPECT_GE(values["process_max_fds"], values["process_open_fds"]);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_NEAR(values["process_start_time_seconds"], now, 600);
  EXPECT_GE(values["process_cpu_seconds_total"], 0);
}

}  // namespace
}  // namespace vigil::app
