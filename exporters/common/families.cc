#include "exporters/common/families.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace vigil::exporters {
namespace {

// Formats a bucket bound or quantile as Prometheus does ("0.5", "+Inf").
std::string FormatBound(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

void ForEachSampleView(const std::vector<prometheus::MetricFamily>& families,
                       const std::function<void(const SampleView&)>& fn) {
  SampleView sample;
  for (const auto& family : families) {
    sample.family = &family;
    for (const auto& metric : family.metric) {
      sample.metric = &metric;
      auto emit = [&](std::string_view suffix, double value, std::string_view bound_name = {},
                      std::string bound_value = {}) {
        sample.suffix = suffix;
        sample.bound_name = bound_name;
        sample.bound_value = std::move(bound_value);
        sample.value = value;
        fn(sample);
      };
      switch (family.type) {
        case prometheus::MetricType::Counter:
          emit("", metric.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          emit("", metric.gauge.value);
          break;
        case prometheus::MetricType::Untyped:
          emit("", metric.untyped.value);
          break;
        case prometheus::MetricType::Histogram: {
          bool has_inf = false;
          for (const auto& bucket : metric.histogram.bucket) {
            has_inf = has_inf || std::isinf(bucket.upper_bound);
            emit("_bucket", static_cast<double>(bucket.cumulative_count), "le",
                 FormatBound(bucket.upper_bound));
          }
          if (!has_inf) {
            emit("_bucket", static_cast<double>(metric.histogram.sample_count), "le", "+Inf");
          }
          emit("_sum", metric.histogram.sample_sum);
          emit("_count", static_cast<double>(metric.histogram.sample_count));
          break;
        }
        case prometheus::MetricType::Summary:
          for (const auto& q : metric.summary.quantile) {
            emit("", q.value, "quantile", FormatBound(q.quantile));
          }
          emit("_sum", metric.summary.sample_sum);
          emit("_count", static_cast<double>(metric.summary.sample_count));
          break;
      }
    }
  }
}

model::Labels SampleLabels(const SampleView& sample, const model::Labels& extra) {
  model::LabelsBuilder builder;
  for (const auto& label : sample.metric->label) builder.Set(label.name, label.value);
  if (!sample.bound_name.empty()) builder.Set(sample.bound_name, sample.bound_value);
  for (const auto& label : extra) builder.Set(label.name, label.value);
  if (sample.suffix.empty()) {
    builder.Set(model::kMetricName, sample.family->name);
  } else {
    builder.Set(model::kMetricName, sample.family->name + std::string(sample.suffix));
  }
  return builder.Build();
}

void ForEachSample(const std::vector<prometheus::MetricFamily>& families,
                   const model::Labels& extra,
                   const std::function<void(const model::Labels&, double)>& fn) {
  ForEachSampleView(families,
                    [&](const SampleView& sample) { fn(SampleLabels(sample, extra), sample.value); });
}

std::vector<prometheus::MetricFamily> WithLabels(std::vector<prometheus::MetricFamily> families,
                                                 const model::Labels& extra) {
  for (auto& family : families) {
    for (auto& metric : family.metric) {
      for (const auto& label : extra) {
        auto it = std::find_if(metric.label.begin(), metric.label.end(),
                               [&](const auto& l) { return l.name == label.name; });
        if (it != metric.label.end()) {
          it->value = label.value;
        } else {
          metric.label.push_back({label.name, label.value});
        }
      }
      std::sort(metric.label.begin(), metric.label.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
  }
  return families;
}

prometheus::MetricFamily SingleValueFamily(std::string name, std::string help,
                                           prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  switch (type) {
    case prometheus::MetricType::Counter: metric.counter.value = value; break;
    case prometheus::MetricType::Untyped: metric.untyped.value = value; break;
    default: metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace vigil::exporters
