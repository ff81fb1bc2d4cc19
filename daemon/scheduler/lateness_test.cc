#include "daemon/scheduler/lateness.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::scheduler {
namespace {

TEST(LatenessHistogram, BucketsQuantilesAndExposition) {
  LatenessHistogram h;
  for (int i = 0; i < 98; ++i) h.Observe(0.0005);
  h.Observe(0.07);
  h.Observe(3);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.UpperBoundOfQuantile(0.5), 0.001);
  EXPECT_EQ(h.UpperBoundOfQuantile(0.99), 0.1);
  EXPECT_EQ(h.UpperBoundOfQuantile(1.0), 10);
  h.Observe(60);
  EXPECT_TRUE(std::isinf(h.UpperBoundOfQuantile(1.0)));

  auto family = h.ToFamily("x_seconds", "help");
  ASSERT_EQ(family.metric.size(), 1u);
  const auto& buckets = family.metric[0].histogram.bucket;
  ASSERT_EQ(buckets.size(), LatenessHistogram::kBuckets.size() + 1);
  EXPECT_EQ(buckets[0].cumulative_count, 98u);               // le 0.001
  EXPECT_EQ(buckets[5].cumulative_count, 99u);               // le 0.1
  EXPECT_EQ(buckets[9].cumulative_count, 100u);              // le 10
  EXPECT_EQ(buckets.back().cumulative_count, 101u);          // +Inf
  EXPECT_EQ(family.metric[0].histogram.sample_count, 101u);
  EXPECT_NEAR(family.metric[0].histogram.sample_sum, 98 * 0.0005 + 0.07 + 3 + 60, 1e-9);
}

}  // namespace
}  // namespace vigil::scheduler
