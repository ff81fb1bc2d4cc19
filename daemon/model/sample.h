#pragma once

#include <bit>
#include <cstdint>

namespace vigil::model {

// Sample is one float observation: milliseconds since the Unix epoch, and value.
struct Sample {
  int64_t t = 0;
  double v = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

// Prometheus's staleness marker: a NaN with a reserved bit pattern that marks
// "this series ended here". An ordinary NaN is a value; this one is not.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

}  // namespace vigil::model
