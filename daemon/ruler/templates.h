#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "daemon/model/labels.h"
#include "daemon/promql/value.h"
#include "daemon/util/result.h"

namespace vigil::ruler {

// What templates see besides the alert's own labels and value.
struct TemplateContext {
  model::Labels external_labels;  // $externalLabels
  std::string external_url;       // $externalURL
  // Template functions as in Prometheus 2.x (`title` is Go's strings.Title)
  // rather than 3.x; set under --promql.semantics=v2.
  bool prometheus2 = false;
};

// Runs a PromQL instant query for the `query` template function at the
// evaluation time; returns the result as a vector (scalar = one unlabelled sample).
using TemplateQueryFunc = std::function<util::Result<promql::Vector>(const std::string& query)>;

// Expands a label or annotation template of alerting rule `rule_name` with
// Prometheus's preamble ($labels, $value, $externalLabels, $externalURL), as
// template "__alert_<rule_name>". On a template error the result is
// Prometheus's "<error expanding template: ...>" text and `*failed` is set
// (callers count it); never throws. Thread-safe. Uses daemon/template.
std::string ExpandRuleTemplate(std::string_view rule_name, std::string_view text,
                               const model::Labels& labels, double value,
                               const TemplateContext& context, const TemplateQueryFunc& query,
                               bool* failed);

// Parse-checks a template as rule loading does; the error reads like Go's
// ("template: __alert_X:1: undefined variable \"$label\""). `prometheus2`:
// Prometheus 2.x's template syntax (Go 1.19: no `{{else with}}`).
util::Result<void> CheckRuleTemplate(std::string_view rule_name, std::string_view text,
                                     bool prometheus2 = false);

}  // namespace vigil::ruler
