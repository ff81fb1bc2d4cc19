#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <vector>

#include "daemon/ruler/group.h"

namespace vigil::ruler {

// AlertsCollector exports the pending and firing alerts of the running groups on
// /metrics as Prometheus's ALERTS{alertname, alertstate, <labels>} 1 and
// ALERTS_FOR_STATE{alertname, <labels>} <ActiveAt in seconds> gauges. The
// RuleManager keeps its group list current. Thread-safe: Collect may run on any
// thread while the loop replaces the groups.
class AlertsCollector final : public prometheus::Collectable {
 public:
  void SetGroups(std::vector<std::shared_ptr<RuleGroup>> groups);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<RuleGroup>> groups_;  // guarded by mu_
};

}  // namespace vigil::ruler
