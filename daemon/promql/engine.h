#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/storage.h"
#include "daemon/promql/ast.h"
#include "daemon/promql/semantics.h"
#include "daemon/promql/value.h"
#include "daemon/util/duration.h"
#include "daemon/util/result.h"

namespace vigil::promql {

// Engine settings; every field has its unit and Prometheus's default.
struct EngineOptions {
  // How far back an instant selector looks for the newest sample (5m).
  util::Duration lookback_delta{300000};
  // 3.x by default; Semantics::V2() for Prometheus 2.x behaviour.
  Semantics semantics = Semantics::V3();
  // Upper bound on samples loaded into memory by one query ("query processing
  // would load too many samples into memory").
  size_t max_samples = 50'000'000;
  // Step of a subquery written without one (`x[5m:]`): the rule evaluation
  // interval in Prometheus (1m).
  util::Duration default_subquery_step{60000};
};

// A non-fatal note about a query, as Prometheus's annotations: a warning
// (the result may be wrong, e.g. a quantile outside [0, 1]) or an info (the
// input needed fixing, e.g. non-monotonic histogram buckets). `pos` is the
// part of the query it concerns.
struct Annotation {
  enum class Severity { kWarning, kInfo };
  Severity severity = Severity::kWarning;
  std::string message;  // without the "PromQL warning: " prefix and position
  PosRange pos;

  friend bool operator==(const Annotation& a, const Annotation& b) {
    return a.severity == b.severity && a.message == b.message && a.pos.start == b.pos.start;
  }
};

// Prometheus's text: "PromQL warning: <message> (line:col)", the position
// computed from the query text the expression was parsed from.
std::string FormatAnnotation(const Annotation& annotation, std::string_view query);

// Engine evaluates parsed PromQL expressions over a model::Querier with
// Prometheus's semantics (float samples only). It keeps no state between
// queries and is thread-safe: many queries may run at once. Errors (type or
// matching errors, too many samples) come back as util::Error with
// Prometheus's wording.
class Engine {
 public:
  explicit Engine(EngineOptions options = {}) : options_(options) {}

  // Evaluates `expr` at `t_ms`. The result is a Scalar, String, Vector or, for
  // a range selector or subquery at the top, a Matrix.
  // The query's annotations, without duplicates, are appended to
  // `annotations` if given.
  util::Result<Value> InstantQuery(const model::Querier& querier, const Expr& expr, int64_t t_ms,
                                   std::vector<Annotation>* annotations = nullptr) const;

  // Evaluates `expr` at start, start+step, ..., end. The expression must be
  // a scalar or an instant vector; a scalar becomes one series with no labels.
  // Series are sorted by labels.
  util::Result<Matrix> RangeQuery(const model::Querier& querier, const Expr& expr, int64_t start_ms,
                                  int64_t end_ms, int64_t step_ms,
                                  std::vector<Annotation>* annotations = nullptr) const;

  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
};

// The longest span of history before the evaluation time that `expr` reads:
// ranges, subquery ranges, offsets and the lookback delta added along each
// path. Storage retention must be at least this long.
util::Duration MaxLookback(const Expr& expr,
                           util::Duration lookback_delta = util::Duration{300000});

}  // namespace vigil::promql
