#include "daemon/ruler/alerts_collector.h"

namespace vigil::ruler {
namespace {

prometheus::ClientMetric Gauge(const model::Labels& labels, double value) {
  prometheus::ClientMetric m;
  for (const auto& l : labels) m.label.push_back({l.name, l.value});
  m.gauge.value = value;
  return m;
}

}  // namespace

void AlertsCollector::SetGroups(std::vector<std::shared_ptr<RuleGroup>> groups) {
  std::lock_guard lock(mu_);
  groups_ = std::move(groups);
}

std::vector<prometheus::MetricFamily> AlertsCollector::Collect() const {
  std::vector<std::shared_ptr<RuleGroup>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  prometheus::MetricFamily alerts{
      "ALERTS", "Alerts by state (pending or firing).", prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily for_state{"ALERTS_FOR_STATE",
                                     "Unix time in seconds at which each alert became active.",
                                     prometheus::MetricType::Gauge,
                                     {}};
  for (const auto& g : groups) {
    for (const auto& r : g->rules()) {
      if (!r.alerting) continue;
      for (const auto& a : r.alerting->ActiveAlerts()) {
        if (a.state == AlertState::kInactive) continue;
        model::LabelsBuilder b(a.labels);
        b.Set("alertstate", AlertStateName(a.state));
        alerts.metric.push_back(Gauge(b.Build(), 1));
        const int64_t secs = a.active_at >= 0 ? a.active_at / 1000 : -((-a.active_at + 999) / 1000);
        for_state.metric.push_back(Gauge(a.labels, static_cast<double>(secs)));
      }
    }
  }
  std::vector<prometheus::MetricFamily> out;
  if (!alerts.metric.empty()) {
    out.push_back(std::move(alerts));
    out.push_back(std::move(for_state));
  }
  return out;
}

}  // namespace vigil::ruler
