#pragma once

#include <functional>
#include <vector>

#include <prometheus/metric_family.h>

#include "daemon/model/labels.h"

namespace vigil::exporters {

// Calls `fn(labels, value)` for every sample the families expose, as the text
// format would spell them: counters, gauges and untyped as is; histograms as
// _bucket{le}, _sum and _count; summaries as {quantile}, _sum and _count.
// `extra` labels are added to every sample and win over the family's own.
void ForEachSample(const std::vector<prometheus::MetricFamily>& families,
                   const model::Labels& extra,
                   const std::function<void(const model::Labels&, double)>& fn);

// Returns the families with `extra` labels added to every metric (replacing
// labels of the same name), keeping the labels sorted as prometheus-cpp does.
std::vector<prometheus::MetricFamily> WithLabels(std::vector<prometheus::MetricFamily> families,
                                                 const model::Labels& extra);

// A family holding one sample without labels, of type Gauge, Counter or Untyped.
prometheus::MetricFamily SingleValueFamily(std::string name, std::string help,
                                           prometheus::MetricType type, double value);
inline prometheus::MetricFamily GaugeFamily(std::string name, std::string help, double value) {
  return SingleValueFamily(std::move(name), std::move(help), prometheus::MetricType::Gauge, value);
}

}  // namespace vigil::exporters
