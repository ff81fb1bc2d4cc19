#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/ruler/group.h"

namespace vigil::ruler {

// The body of Prometheus's `GET /api/v1/rules` for the given groups:
// {"status":"success","data":{"groups":[{name, file, rules:[...], interval, limit,
// evaluationTime, lastEvaluation}]}} with alerting rules as {state, name, query,
// duration, keepFiringFor, labels, annotations, alerts:[{labels, annotations, state,
// activeAt, value}], health, lastError?, evaluationTime, lastEvaluation, type:"alerting"}
// and recording rules as {name, query, labels, health, lastError?, evaluationTime,
// lastEvaluation, type:"recording"}. `type` = "alert" or "record" keeps only those
// rules (Prometheus's ?type=); "" keeps all. Thread-safe (reads rule status under
// the rules' locks).
std::string RulesApiJson(const std::vector<std::shared_ptr<RuleGroup>>& groups,
                         std::string_view type = "");

// The body of Prometheus's `GET /api/v1/alerts`: every pending and firing alert
// of the groups as {labels, annotations, state, activeAt, value}, values in Go's
// 'e' format as Prometheus writes them. Thread-safe like RulesApiJson.
std::string AlertsApiJson(const std::vector<std::shared_ptr<RuleGroup>>& groups);

// Go's time.Time.Format(time.RFC3339Nano) in UTC for Unix ms; kUnset gives Go's zero
// time "0001-01-01T00:00:00Z".
std::string FormatRfc3339(int64_t unix_ms);

}  // namespace vigil::ruler
