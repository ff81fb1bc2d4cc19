#include "daemon/util/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace vigil::util {
namespace {

struct Unit {
  std::string_view name;
  int64_t millis;
};

// Longest first within a shared prefix ("ms" before "m"), in Prometheus's order.
constexpr std::array<Unit, 7> kUnits{{
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text == "0") return Duration{0};
  if (text.empty()) return Fail("empty duration string");
  int64_t total = 0;
  size_t next_unit = 0;  // units must appear in kUnits order, each once
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return Fail("not a valid duration string: \"{}\"", text);
    int64_t number = 0;
    for (size_t k = start; k < i; ++k) {
      if (number > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return Fail("duration out of range: \"{}\"", text);
      }
      number = number * 10 + (text[k] - '0');
    }
    size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    size_t found = kUnits.size();
    for (size_t u = next_unit; u < kUnits.size(); ++u) {
      if (kUnits[u].name == unit) {
        found = u;
        break;
      }
    }
    if (found == kUnits.size()) return Fail("not a valid duration string: \"{}\"", text);
    if (number > std::numeric_limits<int64_t>::max() / kUnits[found].millis ||
        total > std::numeric_limits<int64_t>::max() - number * kUnits[found].millis) {
      return Fail("duration out of range: \"{}\"", text);
    }
    total += number * kUnits[found].millis;
    next_unit = found + 1;
  }
  return Duration{total};
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& unit : kUnits) {
    if (ms >= unit.millis) {
      out += fmt::format("{}{}", ms / unit.millis, unit.name);
      ms %= unit.millis;
    }
  }
  return out;
}

}  // namespace vigil::util
