#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/labels.h"

namespace vigil::ruler {

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState state);  // "inactive", "pending", "firing"

// An alert as handed to the notifier: what Prometheus's rules manager gives
// its NotifyFunc. Times are Unix milliseconds; `ends_at` is the resolution
// time for a resolved alert, otherwise the time until which the alert is
// valid without a resend (send time + 4 × max(interval, resend delay)).
// External labels are not included; the notifier adds them. A value type.
struct Alert {
  model::Labels labels;  // includes alertname
  std::map<std::string, std::string> annotations;
  int64_t starts_at = 0;  // FiredAt
  int64_t ends_at = 0;
  std::string generator_url;
  AlertState state = AlertState::kFiring;  // kInactive = resolved
};

// AlertSink receives the alerts each alerting rule decided to send after an
// evaluation (firing ones every resend delay, resolved ones for 15 minutes).
// Implementations must be thread-safe: groups call it from the thread that
// evaluated them. Send must not block for long (queue and return).
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void Send(const std::vector<Alert>& alerts) = 0;
};

}  // namespace vigil::ruler
