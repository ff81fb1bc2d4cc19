#include "daemon/ruler/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace vigil::ruler {
namespace {

constexpr std::string_view kAlertsMetric = "ALERTS";
constexpr std::string_view kAlertsForStateMetric = "ALERTS_FOR_STATE";
constexpr std::string_view kAlertNameLabel = "alertname";
constexpr std::string_view kAlertStateLabel = "alertstate";

// Go's time.Time.Unix(): seconds, rounded towards negative infinity.
int64_t UnixSeconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace

std::string_view AlertStateName(AlertState state) {
  switch (state) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

std::string_view RuleHealthName(RuleHealth health) {
  switch (health) {
    case RuleHealth::kUnknown:
      return "unknown";
    case RuleHealth::kOk:
      return "ok";
    case RuleHealth::kErr:
      return "err";
  }
  return "unknown";
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

AlertingRule::AlertingRule(RuleSpec spec) : spec_(std::move(spec)) {}

util::Result<promql::Vector> AlertingRule::Eval(int64_t ts, util::Duration query_offset,
                                                const QueryFunc& query,
                                                const TemplateContext& context,
                                                const TemplateQueryFunc& template_query,
                                                uint64_t limit, uint64_t* template_errors) {
  const int64_t query_ts = ts - query_offset.count();
  auto res = query(*spec_.expr, query_ts);
  if (!res) return tl::unexpected(res.error());

  auto expand = [&](const std::string& text, const model::Labels& labels, double value) {
    bool failed = false;
    std::string out =
        ExpandRuleTemplate(spec_.alert, text, labels, value, context, template_query, &failed);
    if (failed && template_errors != nullptr) ++*template_errors;
    return out;
  };

  std::map<model::Labels, ActiveAlert> fresh;
  for (const auto& sample : *res) {
    model::LabelsBuilder builder(sample.labels);
    builder.Del(model::kMetricName);
    for (const auto& l : spec_.labels)
      builder.Set(l.name, expand(l.value, sample.labels, sample.v));
    builder.Set(kAlertNameLabel, spec_.alert);
    model::Labels labels = builder.Build();
    ActiveAlert alert;
    for (const auto& [k, v] : spec_.annotations) {
      alert.annotations[k] = expand(v, sample.labels, sample.v);
    }
    alert.labels = labels;
    alert.value = sample.v;
    alert.state = AlertState::kPending;
    alert.active_at = ts;
    if (!fresh.emplace(std::move(labels), std::move(alert)).second) {
      return util::Fail(
          "vector contains metrics with the same labelset after applying alert labels");
    }
  }

  std::lock_guard lock(mu_);
  for (auto& [labels, a] : fresh) {
    auto it = active_.find(labels);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
      continue;
    }
    active_[labels] = std::move(a);
  }

  promql::Vector out;
  uint64_t active_count = 0;
  const int64_t hold = spec_.for_duration.count();
  const int64_t keep_for = spec_.keep_firing_for.count();
  for (auto it = active_.begin(); it != active_.end();) {
    ActiveAlert& a = it->second;
    if (!fresh.contains(it->first)) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && keep_for > 0) {
        if (a.keep_firing_since == kUnset) a.keep_firing_since = ts;
        keep_firing = ts - a.keep_firing_since < keep_for;
      }
      if (a.state == AlertState::kPending ||
          (a.resolved_at != kUnset && ts - a.resolved_at > kResolvedRetentionMs)) {
        it = active_.erase(it);
        continue;
      }
      if (!keep_firing) {
        if (a.state != AlertState::kInactive) {
          a.state = AlertState::kInactive;
          a.resolved_at = ts;
        }
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = kUnset;
    }
    ++active_count;
    if (a.state == AlertState::kPending && ts - a.active_at >= hold) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
    } else if (a.state == AlertState::kFiring && ts - a.active_at < hold) {
      // `for` was raised by a reload: back to pending.
      a.state = AlertState::kPending;
      a.fired_at = kUnset;
      a.last_sent_at = kUnset;
      a.keep_firing_since = kUnset;
    }
    if (restored_) {
      model::LabelsBuilder alerts(a.labels);
      alerts.Set(model::kMetricName, kAlertsMetric);
      alerts.Set(kAlertStateLabel, AlertStateName(a.state));
      out.push_back(promql::Sample{.labels = alerts.Build(), .v = 1, .t = query_ts});
      model::LabelsBuilder for_state(a.labels);
      for_state.Set(model::kMetricName, kAlertsForStateMetric);
      out.push_back(promql::Sample{.labels = for_state.Build(),
                                   .v = static_cast<double>(UnixSeconds(a.active_at)),
                                   .t = query_ts});
    }
    ++it;
  }
  if (limit > 0 && active_count > limit) {
    active_.clear();
    return util::Fail("exceeded limit of {} with {} alerts", limit, active_count);
  }
  return out;
}

std::vector<Alert> AlertingRule::AlertsToSend(int64_t ts, util::Duration resend_delay,
                                              util::Duration interval,
                                              const std::string& external_url) {
  std::vector<Alert> out;
  const int64_t delta = std::max(interval, resend_delay).count();
  std::lock_guard lock(mu_);
  for (auto& [labels, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    bool needs = a.resolved_at != kUnset && a.resolved_at > a.last_sent_at;
    if (!needs) needs = a.last_sent_at == kUnset || a.last_sent_at + resend_delay.count() < ts;
    if (!needs) continue;
    a.last_sent_at = ts;
    a.valid_until = ts + 4 * delta;
    Alert alert;
    alert.labels = a.labels;
    alert.annotations = a.annotations;
    alert.starts_at = a.fired_at;
    alert.ends_at = a.resolved_at != kUnset ? a.resolved_at : a.valid_until;
    alert.generator_url =
        external_url + "/graph?g0.expr=" + QueryEscape(spec_.expr->String()) + "&g0.tab=1";
    alert.state = a.state;
    out.push_back(std::move(alert));
  }
  return out;
}

std::vector<ActiveAlert> AlertingRule::ActiveAlerts() const {
  std::lock_guard lock(mu_);
  std::vector<ActiveAlert> out;
  out.reserve(active_.size());
  for (const auto& [labels, a] : active_) out.push_back(a);
  return out;
}

AlertState AlertingRule::State() const {
  std::lock_guard lock(mu_);
  AlertState max = AlertState::kInactive;
  for (const auto& [labels, a] : active_) max = std::max(max, a.state);
  return max;
}

void AlertingRule::SetRestored(bool restored) {
  std::lock_guard lock(mu_);
  restored_ = restored;
}

bool AlertingRule::restored() const {
  std::lock_guard lock(mu_);
  return restored_;
}

void AlertingRule::SetActiveAlerts(std::vector<ActiveAlert> alerts) {
  std::lock_guard lock(mu_);
  active_.clear();
  for (auto& a : alerts) {
    model::Labels key = a.labels;
    active_[std::move(key)] = std::move(a);
  }
}

bool AlertingRule::RestoreAlert(const model::Labels& labels, int64_t saved_active_at,
                                int64_t saved_at, int64_t now, util::Duration outage_tolerance,
                                util::Duration grace_period) {
  const int64_t hold = spec_.for_duration.count();
  if (hold < grace_period.count()) return false;
  if (now - saved_at > outage_tolerance.count()) return false;
  std::lock_guard lock(mu_);
  auto it = active_.find(labels);
  if (it == active_.end() || it->second.state == AlertState::kInactive) return false;
  // Prometheus reads both times at second precision from ALERTS_FOR_STATE.
  const int64_t down_at = UnixSeconds(saved_at) * 1000;
  int64_t restored_active_at = UnixSeconds(saved_active_at) * 1000;
  const int64_t remaining = hold - (down_at - restored_active_at);
  if (remaining <= 0) {
    // Was firing before the outage: fires again at the next evaluation.
  } else if (remaining < grace_period.count()) {
    restored_active_at = now + grace_period.count() - hold;
  } else {
    restored_active_at += now - down_at;
  }
  it->second.active_at = restored_active_at;
  return true;
}

RuleStatus AlertingRule::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void AlertingRule::SetStatus(RuleStatus status) {
  std::lock_guard lock(mu_);
  status_ = std::move(status);
}

util::Result<promql::Vector> RecordingRule::Eval(int64_t ts, util::Duration query_offset,
                                                 const QueryFunc& query, uint64_t limit) const {
  const int64_t query_ts = ts - query_offset.count();
  auto res = query(*spec_.expr, query_ts);
  if (!res) return tl::unexpected(res.error());
  promql::Vector out = std::move(*res);
  std::set<model::Labels> seen;
  for (auto& sample : out) {
    model::LabelsBuilder builder(sample.labels);
    builder.Set(model::kMetricName, spec_.record);
    for (const auto& l : spec_.labels) builder.Set(l.name, l.value);
    sample.labels = builder.Build();
    sample.t = query_ts;
    if (!seen.insert(sample.labels).second) {
      return util::Fail(
          "vector contains metrics with the same labelset after applying rule labels");
    }
  }
  if (limit > 0 && out.size() > limit) {
    return util::Fail("exceeded limit of {} with {} series", limit, out.size());
  }
  return out;
}

RuleStatus RecordingRule::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void RecordingRule::SetStatus(RuleStatus status) {
  std::lock_guard lock(mu_);
  status_ = std::move(status);
}

}  // namespace vigil::ruler
