#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "daemon/model/sample.h"

// Numeric building blocks of the evaluator: compensated sums, quantiles,
// Prometheus's rate extrapolation and the range-vector functions. Pure
// functions; thread-safe.
namespace vigil::promql::detail {

// Kahan–Neumaier compensated summation, as Prometheus's kahanSumInc.
struct KahanSum {
  double sum = 0;
  double c = 0;
  void Add(double v);
  double Value() const { return sum + c; }
};

// Mean that sums with compensation and falls back to an incremental mean when
// the sum would overflow (Prometheus's avg and avg_over_time).
class MeanAccumulator {
 public:
  void Add(double v);
  double Value() const;

 private:
  double count_ = 0;
  double sum_ = 0;
  double c_ = 0;
  double mean_ = 0;
  bool incremental_ = false;
};

// The φ-quantile of `values` (sorted in place), R-7 interpolation; NaN for
// an empty input or NaN φ, ±Inf for φ outside [0, 1].
double Quantile(double q, std::vector<double>& values);

struct Bucket {
  double upper_bound;
  double count;
};
// Classic-histogram quantile over `le` buckets (sorted and coalesced here).
// Sets `forced_monotonic` when a bucket count had to be raised.
double BucketQuantile(double q, std::vector<Bucket>& buckets, bool& forced_monotonic);

// Where a range window lies: the selector's reference time (after offset and
// @) and range, both in milliseconds.
struct Window {
  int64_t start = 0;  // reference time minus range
  int64_t end = 0;    // reference time
  int64_t range = 0;
};

// rate / increase / delta: Prometheus's extrapolatedRate.
std::optional<double> ExtrapolatedRate(std::span<const model::Sample> points, const Window& w,
                                       bool is_counter, bool is_rate, bool clamp_before_threshold);
// irate / idelta.
std::optional<double> InstantValue(std::span<const model::Sample> points, bool is_rate);
// Least-squares slope and intercept at `intercept_time` (ms).
std::pair<double, double> LinearRegression(std::span<const model::Sample> points,
                                           int64_t intercept_time);
// Holt-Winters double exponential smoothing; nullopt for < 2 points.
std::optional<double> DoubleExponentialSmoothing(std::span<const model::Sample> points, double sf,
                                                 double tf);

// Go's relative float comparison (util/almost.Equal).
bool AlmostEqual(double a, double b, double epsilon);

}  // namespace vigil::promql::detail
