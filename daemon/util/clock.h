#pragma once

#include <atomic>
#include <chrono>

namespace vigil::util {

using TimePoint = std::chrono::system_clock::time_point;

// Clock is the one source of wall-clock time, injected so that alert-state and
// scheduling tests never sleep (STYLE.md #12). Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Milliseconds since the Unix epoch, the timestamp unit of samples.
  int64_t NowMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch())
        .count();
  }
};

// RealClock reads std::chrono::system_clock.
class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// FakeClock holds a settable time for tests; starts at the Unix epoch.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::milliseconds(millis_.load())); }
  void SetMillis(int64_t ms) { millis_.store(ms); }
  void Advance(std::chrono::milliseconds d) { millis_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> millis_{0};
};

}  // namespace vigil::util
