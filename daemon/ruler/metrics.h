#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace vigil::ruler {

// RulerMetrics are the ruler's self-metrics, Prometheus's rule-manager
// metrics under the vigil_ prefix, per group labelled rule_group="file;name":
// vigil_rule_evaluations_total, vigil_rule_evaluation_failures_total,
// vigil_rule_group_iterations_missed_total, vigil_rule_group_iterations_total,
// vigil_rule_group_last_duration_seconds, vigil_rule_group_last_evaluation_timestamp_seconds,
// vigil_rule_group_interval_seconds, vigil_rule_group_rules, and
// vigil_rule_evaluation_duration_seconds (summary), vigil_template_errors_total.
// Thread-safe (prometheus-cpp metrics are; the group map has a mutex).
class RulerMetrics {
 public:
  explicit RulerMetrics(prometheus::Registry& registry);

  // Creates the group's series (interval and rule count set); idempotent.
  void AddGroup(const std::string& key, double interval_seconds, size_t rules);
  // Removes the group's series (group gone after a reload).
  void RemoveGroup(const std::string& key);

  void RuleEvaluated(const std::string& key, double seconds, bool failed);
  void GroupEvaluated(const std::string& key, double seconds, int64_t ts_ms);
  void IterationsMissed(const std::string& key, uint64_t n);
  void TemplateErrors(uint64_t n);

 private:
  struct Group {
    prometheus::Counter* evaluations;
    prometheus::Counter* failures;
    prometheus::Counter* missed;
    prometheus::Counter* iterations;
    prometheus::Gauge* last_duration;
    prometheus::Gauge* last_evaluation;
    prometheus::Gauge* interval;
    prometheus::Gauge* rules;
  };

  prometheus::Family<prometheus::Counter>& evaluations_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& missed_;
  prometheus::Family<prometheus::Counter>& iterations_;
  prometheus::Family<prometheus::Gauge>& last_duration_;
  prometheus::Family<prometheus::Gauge>& last_evaluation_;
  prometheus::Family<prometheus::Gauge>& interval_;
  prometheus::Family<prometheus::Gauge>& rules_;
  prometheus::Summary& eval_duration_;
  prometheus::Counter& template_errors_;

  std::mutex mu_;
  std::map<std::string, Group> groups_;  // guarded by mu_
};

}  // namespace vigil::ruler
