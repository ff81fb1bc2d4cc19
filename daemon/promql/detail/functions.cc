#include "daemon/promql/detail/functions.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::promql::detail {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMinNormal = 2.2250738585072014e-308;

// NaN sorts first, as Go's slices.Sort on float64.
bool FloatLess(double a, double b) { return (std::isnan(a) && !std::isnan(b)) || a < b; }
}  // namespace

void KahanSum::Add(double v) {
  double t = sum + v;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(v)) {
    c += (sum - t) + v;
  } else {
    c += (v - t) + sum;
  }
  sum = t;
}

namespace {
std::pair<double, double> KahanInc(double inc, double sum, double c) {
  KahanSum k{sum, c};
  k.Add(inc);
  return {k.sum, k.c};
}
}  // namespace

void MeanAccumulator::Add(double v) {
  count_ += 1;
  if (count_ == 1) {
    sum_ = v;
    return;
  }
  if (!incremental_) {
    auto [s, c] = KahanInc(v, sum_, c_);
    if (!std::isinf(s)) {
      sum_ = s;
      c_ = c;
      return;
    }
    incremental_ = true;
    mean_ = sum_ / (count_ - 1);
    c_ /= count_ - 1;
  }
  double q = (count_ - 1) / count_;
  auto [m, c] = KahanInc(v / count_, q * mean_, q * c_);
  mean_ = m;
  c_ = c;
}

double MeanAccumulator::Value() const {
  if (incremental_) return mean_ + c_;
  return sum_ / count_ + c_ / count_;
}

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(values.begin(), values.end(), FloatLess);
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

bool AlmostEqual(double a, double b, double epsilon) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}

double BucketQuantile(double q, std::vector<Bucket>& buckets, bool& forced_monotonic) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const Bucket& a, const Bucket& b) { return a.upper_bound < b.upper_bound; });
  if (buckets.empty() || !std::isinf(buckets.back().upper_bound) ||
      buckets.back().upper_bound < 0) {
    return kNaN;
  }
  // Coalesce buckets with the same upper bound.
  size_t n = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].upper_bound == buckets[n].upper_bound) {
      buckets[n].count += buckets[i].count;
    } else {
      buckets[++n] = buckets[i];
    }
  }
  buckets.resize(n + 1);
  // Force monotonicity; ignore numerically insignificant differences.
  double prev = buckets[0].count;
  for (size_t i = 1; i < buckets.size(); ++i) {
    double curr = buckets[i].count;
    if (curr == prev) continue;
    if (AlmostEqual(prev, curr, 1e-12)) {
      buckets[i].count = prev;
      continue;
    }
    if (curr < prev) {
      buckets[i].count = prev;
      forced_monotonic = true;
      continue;
    }
    prev = curr;
  }
  if (buckets.size() < 2) return kNaN;
  double observations = buckets.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t b = 0;
  while (b < buckets.size() - 1 && !(buckets[b].count >= rank)) ++b;
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  double bucket_start = 0;
  double bucket_end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    bucket_start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

std::optional<double> ExtrapolatedRate(std::span<const model::Sample> points, const Window& w,
                                       bool is_counter, bool is_rate, bool clamp_before_threshold) {
  if (points.size() < 2) return std::nullopt;
  size_t last = points.size() - 1;
  double result = points[last].v - points[0].v;
  if (is_counter) {
    double prev = points[0].v;
    for (size_t i = 1; i < points.size(); ++i) {
      if (points[i].v < prev) result += prev;
      prev = points[i].v;
    }
  }
  double to_start = static_cast<double>(points[0].t - w.start) / 1000;
  double to_end = static_cast<double>(w.end - points[last].t) / 1000;
  double sampled = static_cast<double>(points[last].t - points[0].t) / 1000;
  double avg = sampled / static_cast<double>(last);
  double threshold = avg * 1.1;
  bool can_clamp = is_counter && result > 0 && points[0].v >= 0;
  if (clamp_before_threshold) {
    if (can_clamp) to_start = std::min(to_start, sampled * (points[0].v / result));
    double interval = sampled;
    interval += to_start < threshold ? to_start : avg / 2;
    interval += to_end < threshold ? to_end : avg / 2;
    result *= interval / sampled;
  } else {
    if (to_start >= threshold) to_start = avg / 2;
    if (can_clamp) to_start = std::min(to_start, sampled * (points[0].v / result));
    if (to_end >= threshold) to_end = avg / 2;
    result *= (sampled + to_start + to_end) / sampled;
  }
  if (is_rate) result /= static_cast<double>(w.range) / 1000;
  return result;
}

std::optional<double> InstantValue(std::span<const model::Sample> points, bool is_rate) {
  if (points.size() < 2) return std::nullopt;
  const model::Sample& last = points[points.size() - 1];
  const model::Sample& prev = points[points.size() - 2];
  double result = is_rate && last.v < prev.v ? last.v : last.v - prev.v;
  int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

std::pair<double, double> LinearRegression(std::span<const model::Sample> points,
                                           int64_t intercept_time) {
  double n = 0;
  KahanSum sx, sy, sxy, sx2;
  double init_y = points[0].v;
  bool const_y = true;
  for (size_t i = 0; i < points.size(); ++i) {
    if (const_y && i > 0 && points[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(points[i].t - intercept_time) / 1e3;
    sx.Add(x);
    sy.Add(points[i].v);
    sxy.Add(x * points[i].v);
    sx2.Add(x * x);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {kNaN, kNaN};
    return {0, init_y};
  }
  double sum_x = sx.Value(), sum_y = sy.Value(), sum_xy = sxy.Value(), sum_x2 = sx2.Value();
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

std::optional<double> DoubleExponentialSmoothing(std::span<const model::Sample> points, double sf,
                                                 double tf) {
  if (points.size() < 2) return std::nullopt;
  double s0 = 0;
  double s1 = points[0].v;
  double b = points[1].v - points[0].v;
  for (size_t i = 1; i < points.size(); ++i) {
    double x = sf * points[i].v;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

}  // namespace vigil::promql::detail
