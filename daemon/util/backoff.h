#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace vigil::util {

// Backoff yields exponentially growing delays with full jitter, capped at
// `max`, for reconnects and retries. Not thread-safe: one per retrying owner.
// The random engine is seeded by the caller so tests are deterministic.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
      : initial_(initial), max_(max), rng_(seed) {}

  // The delay before the next attempt; each call doubles the ceiling.
  std::chrono::milliseconds Next() {
    auto ceiling = initial_ * (int64_t{1} << (attempts_ < 30 ? attempts_ : 30));
    if (ceiling > max_ || ceiling.count() <= 0) ceiling = max_;
    ++attempts_;
    std::uniform_int_distribution<int64_t> dist(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(dist(rng_));
  }
  void Reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
  int attempts_ = 0;
};

}  // namespace vigil::util
