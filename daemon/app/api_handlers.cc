#include "daemon/app/api_handlers.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "daemon/app/html.h"
#include "daemon/ruler/api.h"

namespace vigil::app {
namespace {

// A sample value as the status page shows it.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:g}", v);
}

template <typename Fn>
void ForEachAlert(const ruler::RuleManager& rules, Fn fn) {
  for (const auto& group : rules.groups()) {
    for (const auto& rule : group->rules()) {
      if (!rule.alerting) continue;
      for (const auto& alert : rule.alerting->ActiveAlerts()) {
        if (alert.state == ruler::AlertState::kInactive) continue;  // resolved
        fn(*rule.alerting, alert);
      }
    }
  }
}

}  // namespace

web::Response ServeAlerts(const ruler::RuleManager& rules) {
  return web::Response{200, "application/json", ruler::AlertsApiJson(rules.groups()), {}};
}

web::Response ServeRules(const ruler::RuleManager& rules, std::string_view type) {
  return web::Response{200, "application/json", ruler::RulesApiJson(rules.groups(), type), {}};
}

std::string AlertRows(const ruler::RuleManager& rules) {
  std::string rows;
  ForEachAlert(rules, [&](const ruler::AlertingRule&, const ruler::ActiveAlert& alert) {
    bool firing = alert.state == ruler::AlertState::kFiring;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        HtmlEscape(alert.labels.Get("alertname")),
                        firing ? "<span class=err>firing</span>" : "pending",
                        HtmlEscape(alert.labels.ToString()), ruler::FormatRfc3339(alert.active_at),
                        FormatValue(alert.value));
  });
  return rows;
}

std::string RuleRows(const ruler::RuleManager& rules) {
  std::string rows;
  for (const auto& group : rules.groups()) {
    for (const auto& rule : group->rules()) {
      auto status = rule.status();
      bool failing = status.health == ruler::RuleHealth::kErr;
      rows += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.6f}s</td>"
          "<td>{}</td></tr>\n",
          HtmlEscape(group->name()), HtmlEscape(rule.name()),
          rule.alerting ? "alerting" : "recording",
          failing ? "<span class=err>err</span>" : std::string(ruler::RuleHealthName(status.health)),
          status.last_evaluation == ruler::kUnset ? "never"
                                                  : ruler::FormatRfc3339(status.last_evaluation),
          status.last_duration_seconds, HtmlEscape(status.last_error));
    }
  }
  return rows;
}

std::string AlertmanagerRows(const std::vector<notify::AlertmanagerStatus>& alertmanagers) {
  std::string rows;
  for (const auto& am : alertmanagers) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        HtmlEscape(am.url), am.queue_length, am.queue_capacity, am.sent, am.dropped,
        am.last_success_ms ? ruler::FormatRfc3339(am.last_success_ms) : "never",
        am.last_error.empty() ? "" : "<span class=err>" + HtmlEscape(am.last_error) + "</span>");
  }
  return rows;
}

}  // namespace vigil::app
