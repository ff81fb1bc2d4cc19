#pragma once

#include <string_view>
#include <vector>

#include "daemon/util/result.h"

namespace vigil::ruletest {

// One expanded step of an `input_series` value string: a value (possibly the
// stale marker) or a gap (`_`).
struct SeriesPoint {
  bool omitted = false;
  double value = 0;
};

// Expands promtool's value notation: space-separated `a`, `a+bxn`, `a-bxn`,
// `axn`, `_`, `_xn`, `stale`, Inf/NaN. Error: `invalid value "tok"`.
// (promqltest's runner has the same expansion privately; this should become
// a call to it once promqltest exports it.)
util::Result<std::vector<SeriesPoint>> ExpandSeriesValues(std::string_view values);

}  // namespace vigil::ruletest
