#include "daemon/ruler/group.h"

#include <chrono>
#include <set>
#include <variant>

#include "daemon/model/sample.h"
#include "daemon/promql/parser.h"
#include "daemon/ruler/metrics.h"

namespace vigil::ruler {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

QueryFunc EngineQueryFunc(const promql::Engine& engine, const model::Querier& querier) {
  return [&engine, &querier](const promql::Expr& expr, int64_t t) -> util::Result<promql::Vector> {
    auto value = engine.InstantQuery(querier, expr, t);
    if (!value) return tl::unexpected(value.error());
    if (auto* vec = std::get_if<promql::Vector>(&*value)) return std::move(*vec);
    if (auto* scalar = std::get_if<promql::Scalar>(&*value)) {
      return promql::Vector{promql::Sample{.labels = {}, .v = scalar->v, .t = t}};
    }
    return util::Fail("rule result is not a vector or scalar");
  };
}

RuleGroup::RuleGroup(GroupSpec spec, GroupOptions options)
    : spec_(std::move(spec)), options_(std::move(options)) {
  for (const auto& r : spec_.rules) {
    GroupRule rule;
    if (r.is_alert()) {
      rule.alerting = std::make_unique<AlertingRule>(r);
    } else {
      rule.recording = std::make_unique<RecordingRule>(r);
    }
    rules_.push_back(std::move(rule));
  }
  previous_series_.resize(rules_.size());
}

bool RuleGroup::SameRule(const RuleSpec& a, const RuleSpec& b) {
  return a.record == b.record && a.alert == b.alert && a.expr_text == b.expr_text &&
         a.for_duration == b.for_duration && a.keep_firing_for == b.keep_firing_for &&
         a.labels == b.labels && a.annotations == b.annotations;
}

void RuleGroup::Eval(int64_t ts, const EvalDeps& deps) {
  const auto group_start = std::chrono::steady_clock::now();
  const std::string key = Key();
  const QueryFunc query = EngineQueryFunc(deps.engine, deps.querier);
  const TemplateQueryFunc template_query =
      [&deps, ts](const std::string& text) -> util::Result<promql::Vector> {
    auto expr = promql::ParseExpr(text, {.semantics = deps.engine.options().semantics});
    if (!expr) return tl::unexpected(expr.error());
    return EngineQueryFunc(deps.engine, deps.querier)(**expr, ts);
  };
  const int64_t out_ts = ts - options_.query_offset.count();
  uint64_t template_errors = 0;

  for (size_t i = 0; i < rules_.size(); ++i) {
    GroupRule& rule = rules_[i];
    const auto start = std::chrono::steady_clock::now();
    RuleStatus status;
    status.last_evaluation = ts;
    util::Result<promql::Vector> result =
        rule.alerting
            ? rule.alerting->Eval(ts, options_.query_offset, query, options_.template_context,
                                  template_query, spec_.limit, &template_errors)
            : rule.recording->Eval(ts, options_.query_offset, query, spec_.limit);
    if (!result) {
      status.health = RuleHealth::kErr;
      status.last_error = result.error().message;
      status.last_duration_seconds = SecondsSince(start);
      if (rule.alerting) {
        rule.alerting->SetStatus(status);
      } else {
        rule.recording->SetStatus(status);
      }
      if (deps.metrics != nullptr)
        deps.metrics->RuleEvaluated(key, status.last_duration_seconds, true);
      continue;
    }
    status.health = RuleHealth::kOk;
    if (rule.alerting && deps.sink != nullptr) {
      std::vector<Alert> alerts = rule.alerting->AlertsToSend(
          ts, options_.resend_delay, options_.interval, options_.template_context.external_url);
      if (!alerts.empty()) deps.sink->Send(alerts);
    }
    std::vector<model::Labels> returned;
    returned.reserve(result->size());
    for (const auto& sample : *result) {
      auto appended = deps.appender.Append(sample.labels, sample.t, sample.v);
      if (!appended) {
        status.health = RuleHealth::kErr;
        status.last_error = appended.error().message;
      } else {
        returned.push_back(sample.labels);
      }
    }
    std::set<model::Labels> now(returned.begin(), returned.end());
    for (const auto& labels : previous_series_[i]) {
      if (now.contains(labels)) continue;
      // Series no longer produced: a stale marker, errors ignored as in Prometheus
      // (out of order means something newer already exists).
      (void)deps.appender.Append(labels, out_ts, model::StaleNaN());
    }
    previous_series_[i] = std::move(returned);
    status.last_duration_seconds = SecondsSince(start);
    if (rule.alerting) {
      rule.alerting->SetStatus(status);
    } else {
      rule.recording->SetStatus(status);
    }
    if (deps.metrics != nullptr) {
      deps.metrics->RuleEvaluated(key, status.last_duration_seconds,
                                  status.health == RuleHealth::kErr);
    }
  }
  last_eval_.store(ts);
  last_duration_.store(SecondsSince(group_start));
  if (deps.metrics != nullptr) {
    deps.metrics->TemplateErrors(template_errors);
    deps.metrics->GroupEvaluated(key, last_duration_.load(), ts);
  }
}

}  // namespace vigil::ruler
