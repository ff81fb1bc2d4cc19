#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::app {

// SdNotifier speaks systemd's notification protocol (sd_notify(3)) without
// libsystemd: datagrams to the unix socket named by $NOTIFY_SOCKET ("@" for an
// abstract socket). Does nothing when the variable is unset. Thread-safe.
class SdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID).
  static SdNotifier FromEnvironment();

  bool enabled() const { return !socket_path_.empty(); }
  // Sends e.g. "READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1".
  // Returns false when the datagram could not be sent.
  bool Notify(std::string_view state) const;
  // Half of WATCHDOG_USEC, the interval at which to send WATCHDOG=1.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

 private:
  std::string socket_path_;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace vigil::app
