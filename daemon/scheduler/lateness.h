#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <prometheus/metric_family.h>

namespace vigil::scheduler {

// LatenessHistogram records how late ticks start against their schedule, in
// seconds, with fixed buckets from 1 ms to 10 s, and renders itself as a
// Prometheus histogram. Loop thread only (tickers and Collect() run there).
class LatenessHistogram {
 public:
  static constexpr std::array<double, 10> kBuckets{0.001, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,  0.5,  1,     10};

  void Observe(double seconds);
  // The smallest bucket bound holding at least fraction `q` of observations
  // (an upper bound of the q-quantile); +Inf beyond the last bucket.
  double UpperBoundOfQuantile(double q) const;
  uint64_t count() const { return count_; }
  prometheus::MetricFamily ToFamily(std::string name, std::string help) const;

 private:
  std::array<uint64_t, kBuckets.size()> counts_{};  // per bucket, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace vigil::scheduler
