#include "daemon/ruler/metrics.h"

namespace vigil::ruler {

RulerMetrics::RulerMetrics(prometheus::Registry& registry)
    : evaluations_(prometheus::BuildCounter()
                       .Name("vigil_rule_evaluations_total")
                       .Help("The total number of rule evaluations.")
                       .Register(registry)),
      failures_(prometheus::BuildCounter()
                    .Name("vigil_rule_evaluation_failures_total")
                    .Help("The total number of rule evaluation failures.")
                    .Register(registry)),
      missed_(prometheus::BuildCounter()
                  .Name("vigil_rule_group_iterations_missed_total")
                  .Help("The total number of rule group evaluations missed due to slow rule "
                        "group evaluation.")
                  .Register(registry)),
      iterations_(prometheus::BuildCounter()
                      .Name("vigil_rule_group_iterations_total")
                      .Help("The total number of scheduled rule group evaluations, whether "
                            "executed or missed.")
                      .Register(registry)),
      last_duration_(prometheus::BuildGauge()
                         .Name("vigil_rule_group_last_duration_seconds")
                         .Help("The duration of the last rule group evaluation.")
                         .Register(registry)),
      last_evaluation_(prometheus::BuildGauge()
                           .Name("vigil_rule_group_last_evaluation_timestamp_seconds")
                           .Help("The timestamp of the last rule group evaluation in seconds.")
                           .Register(registry)),
      interval_(prometheus::BuildGauge()
                    .Name("vigil_rule_group_interval_seconds")
                    .Help("The interval of a rule group.")
                    .Register(registry)),
      rules_(prometheus::BuildGauge()
                 .Name("vigil_rule_group_rules")
                 .Help("The number of rules.")
                 .Register(registry)),
      eval_duration_(
          prometheus::BuildSummary()
              .Name("vigil_rule_evaluation_duration_seconds")
              .Help("The duration for a rule to execute.")
              .Register(registry)
              .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}})),
      template_errors_(prometheus::BuildCounter()
                           .Name("vigil_template_errors_total")
                           .Help("The total number of template text expansion failures.")
                           .Register(registry)
                           .Add({})) {}

void RulerMetrics::AddGroup(const std::string& key, double interval_seconds, size_t rules) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    const std::map<std::string, std::string> labels{{"rule_group", key}};
    Group g{&evaluations_.Add(labels), &failures_.Add(labels),      &missed_.Add(labels),
            &iterations_.Add(labels),  &last_duration_.Add(labels), &last_evaluation_.Add(labels),
            &interval_.Add(labels),    &rules_.Add(labels)};
    it = groups_.emplace(key, g).first;
  }
  it->second.interval->Set(interval_seconds);
  it->second.rules->Set(static_cast<double>(rules));
}

void RulerMetrics::RemoveGroup(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  evaluations_.Remove(it->second.evaluations);
  failures_.Remove(it->second.failures);
  missed_.Remove(it->second.missed);
  iterations_.Remove(it->second.iterations);
  last_duration_.Remove(it->second.last_duration);
  last_evaluation_.Remove(it->second.last_evaluation);
  interval_.Remove(it->second.interval);
  rules_.Remove(it->second.rules);
  groups_.erase(it);
}

void RulerMetrics::RuleEvaluated(const std::string& key, double seconds, bool failed) {
  eval_duration_.Observe(seconds);
  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  it->second.evaluations->Increment();
  if (failed) it->second.failures->Increment();
}

void RulerMetrics::GroupEvaluated(const std::string& key, double seconds, int64_t ts_ms) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  it->second.iterations->Increment();
  it->second.last_duration->Set(seconds);
  it->second.last_evaluation->Set(static_cast<double>(ts_ms) / 1000.0);
}

void RulerMetrics::IterationsMissed(const std::string& key, uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  it->second.missed->Increment(static_cast<double>(n));
  it->second.iterations->Increment(static_cast<double>(n));
}

void RulerMetrics::TemplateErrors(uint64_t n) {
  if (n > 0) template_errors_.Increment(static_cast<double>(n));
}

}  // namespace vigil::ruler
