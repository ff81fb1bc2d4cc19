#include "daemon/ruler/api.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace vigil::ruler {
namespace {

nlohmann::json LabelsJson(const model::Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& l : labels) out[l.name] = l.value;
  return out;
}

nlohmann::json MapJson(const std::map<std::string, std::string>& m) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// strconv.FormatFloat(v, 'e', -1, 64).
std::string GoFloatLowerE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string(buf, res.ptr);
}

nlohmann::json ActiveAlertJson(const ActiveAlert& a) {
  return {{"labels", LabelsJson(a.labels)},
          {"annotations", MapJson(a.annotations)},
          {"state", std::string(AlertStateName(a.state))},
          {"activeAt", FormatRfc3339(a.active_at)},
          {"value", GoFloatLowerE(a.value)}};
}

void AddStatus(nlohmann::json& j, const RuleStatus& st) {
  j["health"] = std::string(RuleHealthName(st.health));
  if (!st.last_error.empty()) j["lastError"] = st.last_error;
  j["evaluationTime"] = st.last_duration_seconds;
  j["lastEvaluation"] = FormatRfc3339(st.last_evaluation);
}

}  // namespace

std::string FormatRfc3339(int64_t ms) {
  if (ms == kUnset) return "0001-01-01T00:00:00Z";
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t frac = ms - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac != 0) {
    std::string f = fmt::format("{:03}", frac);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "Z";
}

std::string RulesApiJson(const std::vector<std::shared_ptr<RuleGroup>>& groups,
                         std::string_view type) {
  nlohmann::json jgroups = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : g->rules()) {
      nlohmann::json j;
      if (r.alerting) {
        if (type == "record") continue;
        const RuleSpec& spec = r.alerting->spec();
        nlohmann::json alerts = nlohmann::json::array();
        for (const auto& a : r.alerting->ActiveAlerts()) {
          if (a.state == AlertState::kInactive) continue;
          alerts.push_back(ActiveAlertJson(a));
        }
        j["state"] = std::string(AlertStateName(r.alerting->State()));
        j["name"] = spec.alert;
        j["query"] = spec.expr->String();
        j["duration"] = static_cast<double>(spec.for_duration.count()) / 1000.0;
        j["keepFiringFor"] = static_cast<double>(spec.keep_firing_for.count()) / 1000.0;
        j["labels"] = LabelsJson(spec.labels);
        j["annotations"] = MapJson(spec.annotations);
        j["alerts"] = std::move(alerts);
        AddStatus(j, r.alerting->status());
        j["type"] = "alerting";
      } else {
        if (type == "alert") continue;
        const RuleSpec& spec = r.recording->spec();
        j["name"] = spec.record;
        j["query"] = spec.expr->String();
        j["labels"] = LabelsJson(spec.labels);
        AddStatus(j, r.recording->status());
        j["type"] = "recording";
      }
      rules.push_back(std::move(j));
    }
    jgroups.push_back({{"name", g->name()},
                       {"file", g->file()},
                       {"rules", std::move(rules)},
                       {"interval", static_cast<double>(g->interval().count()) / 1000.0},
                       {"limit", g->spec().limit},
                       {"evaluationTime", g->last_duration_seconds()},
                       {"lastEvaluation", FormatRfc3339(g->last_evaluation())}});
  }
  nlohmann::json body = {{"status", "success"}, {"data", {{"groups", std::move(jgroups)}}}};
  return body.dump();
}

std::string AlertsApiJson(const std::vector<std::shared_ptr<RuleGroup>>& groups) {
  nlohmann::json alerts = nlohmann::json::array();
  for (const auto& g : groups) {
    for (const auto& r : g->rules()) {
      if (!r.alerting) continue;
      for (const auto& a : r.alerting->ActiveAlerts()) {
        if (a.state != AlertState::kInactive) alerts.push_back(ActiveAlertJson(a));
      }
    }
  }
  nlohmann::json body = {{"status", "success"}, {"data", {{"alerts", std::move(alerts)}}}};
  return body.dump();
}

}  // namespace vigil::ruler
