#pragma once

#include <string>
#include <vector>

#include "daemon/notify/notifier.h"
#include "daemon/ruler/manager.h"
#include "daemon/web/http_types.h"

namespace vigil::app {

// GET /api/v1/alerts and /api/v1/rules in Prometheus's JSON format (so Grafana
// and tools that read Prometheus's API can list vigil's alerts and rules).
web::Response ServeAlerts(const ruler::RuleManager& rules);
web::Response ServeRules(const ruler::RuleManager& rules, std::string_view type);

// The status page's HTML rows for active alerts and for Alertmanagers.
std::string AlertRows(const ruler::RuleManager& rules);
std::string RuleRows(const ruler::RuleManager& rules);
std::string AlertmanagerRows(const std::vector<notify::AlertmanagerStatus>& alertmanagers);

}  // namespace vigil::app
