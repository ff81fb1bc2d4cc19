#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::exporters {

// FamilySet collects samples into metric families keyed by name, so a probe can
// add them in any order; Take() returns them sorted by name with each series'
// labels sorted. The first Add() of a name fixes its HELP and type. Not
// thread-safe; one per probe.
class FamilySet {
 public:
  using Labels = std::vector<prometheus::ClientMetric::Label>;

  void Add(std::string_view name, std::string_view help, prometheus::MetricType type, double value,
           Labels labels = {}) {
    auto it = families_.find(name);
    if (it == families_.end()) {
      prometheus::MetricFamily family;
      family.name = std::string(name);
      family.help = std::string(help);
      family.type = type;
      it = families_.emplace(family.name, std::move(family)).first;
    }
    prometheus::ClientMetric metric;
    std::sort(labels.begin(), labels.end());
    metric.label = std::move(labels);
    switch (it->second.type) {
      case prometheus::MetricType::Counter:
        metric.counter.value = value;
        break;
      case prometheus::MetricType::Gauge:
        metric.gauge.value = value;
        break;
      default:
        metric.untyped.value = value;
        break;
    }
    it->second.metric.push_back(std::move(metric));
  }

  std::vector<prometheus::MetricFamily> Take() {
    std::vector<prometheus::MetricFamily> out;
    out.reserve(families_.size());
    for (auto& [name, family] : families_) out.push_back(std::move(family));
    families_.clear();
    return out;
  }

 private:
  std::map<std::string, prometheus::MetricFamily, std::less<>> families_;
};

}  // namespace vigil::exporters
