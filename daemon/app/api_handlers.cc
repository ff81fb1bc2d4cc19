#include "daemon/app/api_handlers.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/app/html.h"

namespace vigil::app {
namespace {

using nlohmann::json;

std::string Rfc3339(int64_t ms) {
  if (ms == ruler::kUnset) return "0001-01-01T00:00:00Z";
  auto seconds = static_cast<std::time_t>(ms / 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(seconds), ms % 1000);
}

// Prometheus formats sample values as strings with Go's 'f', -1 formatting.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

json AlertJson(const ruler::AlertingRule& rule, const ruler::ActiveAlert& alert) {
  json labels = json::object();
  for (const auto& l : alert.labels) labels[l.name] = l.value;
  json annotations = json::object();
  for (const auto& [k, v] : alert.annotations) annotations[k] = v;
  (void)rule;
  return json{{"labels", labels},
              {"annotations", annotations},
              {"state", std::string(ruler::AlertStateName(alert.state))},
              {"activeAt", Rfc3339(alert.active_at)},
              {"value", FormatValue(alert.value)}};
}

web::Response Json(const json& data) {
  return web::Response{200, "application/json",
                       json{{"status", "success"}, {"data", data}}.dump(), {}};
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
  json alerts = json::array();
  ForEachAlert(rules, [&](const ruler::AlertingRule& rule, const ruler::ActiveAlert& alert) {
    alerts.push_back(AlertJson(rule, alert));
  });
  return Json(json{{"alerts", alerts}});
}

web::Response ServeRules(const ruler::RuleManager& rules) {
  json groups = json::array();
  for (const auto& group : rules.groups()) {
    json rule_list = json::array();
    for (const auto& rule : group->rules()) {
      auto status = rule.status();
      json r{{"name", rule.name()},
             {"health", std::string(ruler::RuleHealthName(status.health))},
             {"lastError", status.last_error},
             {"evaluationTime", status.last_duration_seconds},
             {"lastEvaluation", Rfc3339(status.last_evaluation)}};
      const ruler::RuleSpec& spec =
          rule.alerting ? rule.alerting->spec() : rule.recording->spec();
      r["query"] = spec.expr ? spec.expr->String() : spec.expr_text;
      json labels = json::object();
      for (const auto& l : spec.labels) labels[l.name] = l.value;
      r["labels"] = labels;
      if (rule.alerting) {
        r["type"] = "alerting";
        r["duration"] = std::chrono::duration<double>(spec.for_duration).count();
        r["keepFiringFor"] = std::chrono::duration<double>(spec.keep_firing_for).count();
        r["annotations"] = spec.annotations;
        r["state"] = std::string(ruler::AlertStateName(rule.alerting->State()));
        json alerts = json::array();
        for (const auto& alert : rule.alerting->ActiveAlerts()) {
          if (alert.state != ruler::AlertState::kInactive) {
            alerts.push_back(AlertJson(*rule.alerting, alert));
          }
        }
        r["alerts"] = alerts;
      } else {
        r["type"] = "recording";
      }
      rule_list.push_back(r);
    }
    groups.push_back(json{{"name", group->name()},
                          {"file", group->file()},
                          {"interval", std::chrono::duration<double>(group->interval()).count()},
                          {"evaluationTime", group->last_duration_seconds()},
                          {"lastEvaluation", Rfc3339(group->last_evaluation())},
                          {"rules", rule_list}});
  }
  return Json(json{{"groups", groups}});
}

std::string AlertRows(const ruler::RuleManager& rules) {
  std::string rows;
  ForEachAlert(rules, [&](const ruler::AlertingRule&, const ruler::ActiveAlert& alert) {
    bool firing = alert.state == ruler::AlertState::kFiring;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        HtmlEscape(alert.labels.Get("alertname")),
                        firing ? "<span class=err>firing</span>" : "pending",
                        HtmlEscape(alert.labels.ToString()), Rfc3339(alert.active_at),
                        FormatValue(alert.value));
  });
  return rows;
}

std::string AlertmanagerRows(const std::vector<notify::AlertmanagerStatus>& alertmanagers) {
  std::string rows;
  for (const auto& am : alertmanagers) {
    rows += fmt::format(
        "<tr><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        HtmlEscape(am.url), am.queue_length, am.queue_capacity, am.sent, am.dropped,
        am.last_success_ms ? Rfc3339(am.last_success_ms) : "never",
        am.last_error.empty() ? "" : "<span class=err>" + HtmlEscape(am.last_error) + "</span>");
  }
  return rows;
}

}  // namespace vigil::app
