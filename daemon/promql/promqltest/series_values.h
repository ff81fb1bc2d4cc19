#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "daemon/util/result.h"

namespace vigil::promqltest {

// One expanded step of a series' value notation: a value (possibly the stale
// marker) or a gap (`_`).
struct SeriesPoint {
  bool omitted = false;
  double value = 0;
};

// One value as test files write it: a Go float, Inf/+Inf/-Inf, NaN, or
// `stale` (the stale marker), case-insensitive. nullopt when it is none.
std::optional<double> ParseSeriesValue(std::string_view token);

// Expands one token of the notation shared by promqltest `load` lines and
// promtool's `input_series`: `a`, `a+bxn`, `a-bxn`, `axn`, `_`, `_xn`,
// `stale`. Error: `invalid value "tok"`.
util::Result<std::vector<SeriesPoint>> ExpandSeriesToken(std::string_view token);
// The same for a whole space-separated value string.
util::Result<std::vector<SeriesPoint>> ExpandSeriesValues(std::string_view values);

}  // namespace vigil::promqltest
