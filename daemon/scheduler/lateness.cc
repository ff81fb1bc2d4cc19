#include "daemon/scheduler/lateness.h"

#include <limits>

namespace vigil::scheduler {

void LatenessHistogram::Observe(double seconds) {
  ++count_;
  sum_ += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++counts_[i];
      return;
    }
  }
}

double LatenessHistogram::UpperBoundOfQuantile(double q) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += counts_[i];
    if (static_cast<double>(cumulative) >= q * static_cast<double>(count_)) return kBuckets[i];
  }
  return std::numeric_limits<double>::infinity();
}

prometheus::MetricFamily LatenessHistogram::ToFamily(std::string name, std::string help) const {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Histogram;
  prometheus::ClientMetric metric;
  metric.histogram.sample_count = count_;
  metric.histogram.sample_sum = sum_;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += counts_[i];
    metric.histogram.bucket.push_back({cumulative, kBuckets[i]});
  }
  metric.histogram.bucket.push_back({count_, std::numeric_limits<double>::infinity()});
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace vigil::scheduler
