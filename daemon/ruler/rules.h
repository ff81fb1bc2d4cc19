#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/promql/value.h"
#include "daemon/ruler/alert.h"
#include "daemon/ruler/rule_file.h"
#include "daemon/ruler/templates.h"
#include "daemon/util/duration.h"
#include "daemon/util/result.h"

namespace vigil::ruler {

// Runs a rule's expression as an instant query at `t_ms`. A scalar result
// becomes one unlabelled sample; a string or range vector is an error
// ("rule result is not a vector or scalar").
using QueryFunc =
    std::function<util::Result<promql::Vector>(const promql::Expr& expr, int64_t t_ms)>;

// Unix ms; kUnset marks a time that was never set (Go's zero time.Time).
inline constexpr int64_t kUnset = std::numeric_limits<int64_t>::min();

enum class RuleHealth { kUnknown, kOk, kErr };
std::string_view RuleHealthName(RuleHealth health);  // "unknown", "ok", "err"

// What the status page and /api/v1/rules show of a rule.
struct RuleStatus {
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  int64_t last_evaluation = kUnset;  // Unix ms of the last evaluation
  double last_duration_seconds = 0;
};

// One alert instance of an alerting rule, keyed by its final label set.
struct ActiveAlert {
  model::Labels labels;
  std::map<std::string, std::string> annotations;
  double value = 0;
  AlertState state = AlertState::kPending;
  int64_t active_at = kUnset;
  int64_t fired_at = kUnset;
  int64_t resolved_at = kUnset;
  int64_t last_sent_at = kUnset;
  int64_t valid_until = kUnset;
  int64_t keep_firing_since = kUnset;
};

// How long a resolved alert is kept (and re-sent): Prometheus's resolvedRetention.
inline constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

// AlertingRule holds one `alert:` rule and the state of its alerts, with the
// semantics of Prometheus's rules/alerting.go (see README.md). Thread-safe:
// a mutex guards the alert map and status, so the web layer may read while
// the group evaluates. Evaluation errors are returned and leave the previous
// alert state untouched (except the `limit` error, which clears it, as in
// Prometheus).
class AlertingRule {
 public:
  explicit AlertingRule(RuleSpec spec);

  const RuleSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.alert; }

  // Evaluates at group time `ts_ms`; the query runs at ts - query_offset.
  // Returns the ALERTS / ALERTS_FOR_STATE samples to write (at ts -
  // query_offset) once the rule is restored, otherwise none.
  // `template_errors` is incremented per failed template expansion.
  util::Result<promql::Vector> Eval(int64_t ts_ms, util::Duration query_offset,
                                    const QueryFunc& query, const TemplateContext& context,
                                    const TemplateQueryFunc& template_query, uint64_t limit,
                                    uint64_t* template_errors);

  // The alerts that need sending at `ts_ms` (needsSending), marking them
  // sent: LastSentAt = ts, ValidUntil = ts + 4 × max(interval, resend_delay).
  std::vector<Alert> AlertsToSend(int64_t ts_ms, util::Duration resend_delay,
                                  util::Duration interval, const std::string& external_url);

  // A copy of all alerts (pending, firing and resolved-but-retained), by labels.
  std::vector<ActiveAlert> ActiveAlerts() const;
  // Highest state of any alert.
  AlertState State() const;

  // Until restored, Eval writes no ALERTS series (Prometheus's for-state restore).
  void SetRestored(bool restored);
  bool restored() const;

  // Replaces the alert map (carrying state over a reload or restoring it).
  void SetActiveAlerts(std::vector<ActiveAlert> alerts);

  // Prometheus's RestoreForState for one alert from saved state: `saved_at`
  // is when the state was last saved (downAt), `saved_active_at` the old
  // ActiveAt. Applies outage tolerance and grace period; returns whether
  // the current alert with `labels` was adjusted.
  bool RestoreAlert(const model::Labels& labels, int64_t saved_active_at, int64_t saved_at,
                    int64_t now_ms, util::Duration outage_tolerance, util::Duration grace_period);

  RuleStatus status() const;
  void SetStatus(RuleStatus status);

 private:
  const RuleSpec spec_;
  mutable std::mutex mu_;
  std::map<model::Labels, ActiveAlert> active_;  // guarded by mu_
  bool restored_ = false;                        // guarded by mu_
  RuleStatus status_;                            // guarded by mu_
};

// RecordingRule holds one `record:` rule: its query result renamed and
// relabelled, appended by the group. Thread-safe status; Eval is stateless.
class RecordingRule {
 public:
  explicit RecordingRule(RuleSpec spec) : spec_(std::move(spec)) {}

  const RuleSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.record; }

  // The samples to append at ts - query_offset. Errors: the query's, "vector
  // contains metrics with the same labelset after applying rule labels",
  // "exceeded limit of N with M series".
  util::Result<promql::Vector> Eval(int64_t ts_ms, util::Duration query_offset,
                                    const QueryFunc& query, uint64_t limit) const;

  RuleStatus status() const;
  void SetStatus(RuleStatus status);

 private:
  const RuleSpec spec_;
  mutable std::mutex mu_;
  RuleStatus status_;  // guarded by mu_
};

// Go's url.QueryEscape (spaces as '+').
std::string QueryEscape(std::string_view s);

}  // namespace vigil::ruler
