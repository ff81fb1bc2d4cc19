#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "daemon/model/labels.h"

namespace vigil::exporters {

// One sample of a family set as the text format spells it, before its labels
// are built: `family.name + suffix`, the metric's own labels, plus
// `bound_name`="`bound_value`" for histogram buckets (le) and summary
// quantiles. Points into the families: valid while they are unchanged.
struct SampleView {
  const prometheus::MetricFamily* family = nullptr;
  const prometheus::ClientMetric* metric = nullptr;
  std::string_view suffix;      // "", "_bucket", "_sum" or "_count"
  std::string_view bound_name;  // "le", "quantile" or ""
  std::string bound_value;      // "0.5", "+Inf", ...; "" without bound_name
  double value = 0;
};

// Calls `fn(sample)` for every sample, in the order ForEachSample uses.
void ForEachSampleView(const std::vector<prometheus::MetricFamily>& families,
                       const std::function<void(const SampleView&)>& fn);

// The labels of a sample with `extra` labels added (they win over the
// sample's own), as ForEachSample passes them.
model::Labels SampleLabels(const SampleView& sample, const model::Labels& extra);

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
