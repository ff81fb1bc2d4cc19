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

model::Labels BuildLabels(const std::string& name, const prometheus::ClientMetric& metric,
                          const model::Labels& extra, std::string_view extra_name = {},
                          std::string_view extra_value = {}) {
  model::LabelsBuilder builder;
  for (const auto& label : metric.label) builder.Set(label.name, label.value);
  if (!extra_name.empty()) builder.Set(extra_name, extra_value);
  for (const auto& label : extra) builder.Set(label.name, label.value);
  builder.Set(model::kMetricName, name);
  return builder.Build();
}

}  // namespace

void ForEachSample(const std::vector<prometheus::MetricFamily>& families,
                   const model::Labels& extra,
                   const std::function<void(const model::Labels&, double)>& fn) {
  for (const auto& family : families) {
    for (const auto& metric : family.metric) {
      switch (family.type) {
        case prometheus::MetricType::Counter:
          fn(BuildLabels(family.name, metric, extra), metric.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          fn(BuildLabels(family.name, metric, extra), metric.gauge.value);
          break;
        case prometheus::MetricType::Untyped:
          fn(BuildLabels(family.name, metric, extra), metric.untyped.value);
          break;
        case prometheus::MetricType::Histogram: {
          bool has_inf = false;
          for (const auto& bucket : metric.histogram.bucket) {
            has_inf = has_inf || std::isinf(bucket.upper_bound);
            fn(BuildLabels(family.name + "_bucket", metric, extra, "le",
                           FormatBound(bucket.upper_bound)),
               static_cast<double>(bucket.cumulative_count));
          }
          if (!has_inf) {
            fn(BuildLabels(family.name + "_bucket", metric, extra, "le", "+Inf"),
               static_cast<double>(metric.histogram.sample_count));
          }
          fn(BuildLabels(family.name + "_sum", metric, extra), metric.histogram.sample_sum);
          fn(BuildLabels(family.name + "_count", metric, extra),
             static_cast<double>(metric.histogram.sample_count));
          break;
        }
        case prometheus::MetricType::Summary:
          for (const auto& q : metric.summary.quantile) {
            fn(BuildLabels(family.name, metric, extra, "quantile", FormatBound(q.quantile)),
               q.value);
          }
          fn(BuildLabels(family.name + "_sum", metric, extra), metric.summary.sample_sum);
          fn(BuildLabels(family.name + "_count", metric, extra),
             static_cast<double>(metric.summary.sample_count));
          break;
      }
    }
  }
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
