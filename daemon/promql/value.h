#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/sample.h"

namespace vigil::promql {

// Scalar is a single number at an evaluation time.
struct Scalar {
  int64_t t = 0;
  double v = 0;
};

// String is a string literal result.
struct String {
  int64_t t = 0;
  std::string v;
};

// Sample is one element of an instant vector: a labelled value at time t.
struct Sample {
  model::Labels labels;
  double v = 0;
  int64_t t = 0;
  // Evaluation-internal: __name__ is to be removed when the query ends (3.x
  // delayed name removal). Always false in query results.
  bool drop_name = false;
};
using Vector = std::vector<Sample>;

// Series is one element of a range vector or of a range-query result.
struct Series {
  model::Labels labels;
  std::vector<model::Sample> points;
  // Evaluation-internal, as Sample::drop_name. Always false in query results.
  bool drop_name = false;
};
using Matrix = std::vector<Series>;

// The result of an instant query: scalar, string, instant vector or (for a
// range selector or subquery at the top) a range vector.
using Value = std::variant<Scalar, String, Vector, Matrix>;

}  // namespace vigil::promql
