#include "daemon/config/units.h"

#include <array>
#include <cmath>
#include <limits>

namespace vigil::config {
namespace {

struct ByteUnit {
  std::string_view name;
  int power;  // of 1024
};

// Longest names first so "KiB" is not read as "K" + junk.
constexpr std::array<ByteUnit, 13> kUnits{{
    {"KiB", 1},
    {"MiB", 2},
    {"GiB", 3},
    {"TiB", 4},
    {"PiB", 5},
    {"EiB", 6},
    {"KB", 1},
    {"MB", 2},
    {"GB", 3},
    {"TB", 4},
    {"PB", 5},
    {"EB", 6},
    {"B", 0},
}};

constexpr std::array<std::string_view, 7> kFormatUnits{"B",   "KiB", "MiB", "GiB",
                                                       "TiB", "PiB", "EiB"};

}  // namespace

util::Result<uint64_t> ParseByteSize(std::string_view text) {
  if (text == "0") return uint64_t{0};
  if (text.empty()) return util::Fail("not a valid byte size: \"{}\"", text);
  long double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    // <digits>[.<digits>]
    size_t start = i;
    long double number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    bool has_int = i > start;
    bool has_frac = false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        number += (text[i] - '0') * scale;
        scale /= 10;
        has_frac = true;
        ++i;
      }
    }
    if (!has_int && !has_frac) return util::Fail("not a valid byte size: \"{}\"", text);
    const ByteUnit* unit = nullptr;
    for (const ByteUnit& u : kUnits) {
      if (text.substr(i).starts_with(u.name)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return util::Fail("not a valid byte size: \"{}\"", text);
    i += unit->name.size();
    total += number * std::pow(1024.0L, unit->power);
  }
  if (total >= static_cast<long double>(std::numeric_limits<uint64_t>::max())) {
    return util::Fail("byte size out of range: \"{}\"", text);
  }
  return static_cast<uint64_t>(total);
}

std::string FormatByteSize(uint64_t bytes) {
  if (bytes == 0) return "0B";
  size_t power = 0;
  while (power + 1 < kFormatUnits.size() && bytes % 1024 == 0) {
    bytes /= 1024;
    ++power;
  }
  return std::to_string(bytes) + std::string(kFormatUnits[power]);
}

}  // namespace vigil::config
