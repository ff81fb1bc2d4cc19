#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/storage.h"
#include "daemon/promql/engine.h"
#include "daemon/ruler/alert.h"
#include "daemon/ruler/rule_file.h"
#include "daemon/ruler/rules.h"
#include "daemon/ruler/templates.h"
#include "daemon/util/duration.h"

namespace vigil::ruler {

class RulerMetrics;

// Settings of one group, resolved from the file and the global config.
struct GroupOptions {
  // Evaluation interval: the group's `interval`, else global evaluation_interval (1m).
  util::Duration interval{60000};
  // Queries and output samples use ts - query_offset; alert timing uses ts (0).
  util::Duration query_offset{0};
  // --rules.alert.resend-delay (1m).
  util::Duration resend_delay{60000};
  // $externalLabels / $externalURL for templates, and the generator URL base.
  TemplateContext template_context;
};

// What evaluation reads from and writes to; not owned, must outlive the call.
struct EvalDeps {
  const promql::Engine& engine;
  const model::Querier& querier;
  model::Appender& appender;
  AlertSink* sink = nullptr;        // may be null (unit tests)
  RulerMetrics* metrics = nullptr;  // may be null
};

// One rule of a group: exactly one of the two pointers is set.
struct GroupRule {
  std::unique_ptr<AlertingRule> alerting;
  std::unique_ptr<RecordingRule> recording;
  const std::string& name() const { return alerting ? alerting->name() : recording->name(); }
  RuleStatus status() const { return alerting ? alerting->status() : recording->status(); }
};

// RuleGroup evaluates its rules in file order at one timestamp, as
// Prometheus's Group.Eval: each rule's output is appended before the next
// rule runs (later rules see it), series that vanished since the previous
// evaluation get a stale marker, alerting rules hand alerts to the sink.
// A failing rule records its error in its status and does not stop the
// others. Eval must not run concurrently with itself (the manager runs one
// evaluation per group at a time); status accessors are thread-safe.
class RuleGroup {
 public:
  RuleGroup(GroupSpec spec, GroupOptions options);

  const std::string& name() const { return spec_.name; }
  const std::string& file() const { return spec_.file; }
  // "file;name", the rule_group label of the self-metrics and state key.
  std::string Key() const { return spec_.file + ";" + spec_.name; }
  const GroupSpec& spec() const { return spec_; }
  const GroupOptions& options() const { return options_; }
  util::Duration interval() const { return options_.interval; }
  std::vector<GroupRule>& rules() { return rules_; }
  const std::vector<GroupRule>& rules() const { return rules_; }

  void Eval(int64_t ts_ms, const EvalDeps& deps);

  // Last evaluation start (Unix ms, kUnset before the first) and its duration.
  int64_t last_evaluation() const { return last_eval_.load(); }
  double last_duration_seconds() const { return last_duration_.load(); }

  // The series rule `i` wrote at its last evaluation (stale-marker bookkeeping),
  // carried over on reload and marked stale when the group is removed.
  const std::vector<model::Labels>& previous_series(size_t i) const { return previous_series_[i]; }
  void set_previous_series(size_t i, std::vector<model::Labels> series) {
    previous_series_[i] = std::move(series);
  }

  // True when `other` has the same file, name and rule definitions, so state
  // can be carried over by rule index (same rule = same name, expr, for,
  // keep_firing_for, labels and annotations).
  static bool SameRule(const RuleSpec& a, const RuleSpec& b);

 private:
  const GroupSpec spec_;
  const GroupOptions options_;
  std::vector<GroupRule> rules_;
  // Per rule, the series it wrote at the previous evaluation (for stale markers).
  std::vector<std::vector<model::Labels>> previous_series_;
  std::atomic<int64_t> last_eval_{kUnset};
  std::atomic<double> last_duration_{0};
};

// The query function rules use: an instant query on `engine` over `querier`.
QueryFunc EngineQueryFunc(const promql::Engine& engine, const model::Querier& querier);

}  // namespace vigil::ruler
