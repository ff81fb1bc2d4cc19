#pragma once

#include <string_view>

#include "daemon/model/labels.h"
#include "daemon/promql/ast.h"
#include "daemon/promql/semantics.h"
#include "daemon/util/result.h"

namespace vigil::promql {

// What the parser accepts: the version semantics decide the regex flavour of
// matchers and which function names exist.
struct ParseOptions {
  Semantics semantics = Semantics::V3();
};

// Parses a PromQL expression into an AST with source positions. Errors read as
// Prometheus's: "1:5: parse error: unexpected ...". Thread-safe (no state).
util::Result<ExprPtr> ParseExpr(std::string_view input, const ParseOptions& options = {});

// Parses a series identity `name{a="b", ...}` (only `=` matchers) into labels,
// as in test files and rule unit tests.
util::Result<model::Labels> ParseSeriesLabels(std::string_view input);

}  // namespace vigil::promql
