#include "daemon/app/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace vigil::app {

SdNotifier SdNotifier::FromEnvironment() {
  SdNotifier out;
  if (const char* path = std::getenv("NOTIFY_SOCKET"); path != nullptr && path[0] != '\0') {
    out.socket_path_ = path;
  }
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  bool for_us = pid == nullptr || std::strtol(pid, nullptr, 10) == getpid();
  if (usec != nullptr && for_us) {
    long long value = std::strtoll(usec, nullptr, 10);
    if (value > 0) out.watchdog_ = std::chrono::microseconds(value / 2);
  }
  return out;
}

bool SdNotifier::Notify(std::string_view state) const {
  if (!enabled()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                        reinterpret_cast<const sockaddr*>(&addr), len);
  close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

}  // namespace vigil::app
