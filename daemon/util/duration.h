#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace vigil::util {

using Duration = std::chrono::milliseconds;

// Parses a duration in Prometheus's syntax: one or more of `<int><unit>` with
// units y, w, d, h, m, s, ms, each at most once and in that order ("1h30m",
// "5m", "250ms"), or the bare "0". A year is 365 days, as in Prometheus.
Result<Duration> ParseDuration(std::string_view text);

// Formats a duration the way Prometheus prints one: "1h30m", "5m", "0s".
std::string FormatDuration(Duration d);

}  // namespace vigil::util
