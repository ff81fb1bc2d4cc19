#include "daemon/app/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace vigil::app {
namespace {

TEST(SdNotifier, DisabledWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  auto notifier = SdNotifier::FromEnvironment();
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.Notify("READY=1"));
  EXPECT_FALSE(notifier.watchdog_interval().has_value());
}

TEST(SdNotifier, SendsDatagramsAndHalvesTheWatchdog) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("vigil-notify-" + std::to_string(getpid()) + ".sock"))
                         .string();
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  setenv("WATCHDOG_USEC", "20000000", 1);
  unsetenv("WATCHDOG_PID");
  auto notifier = SdNotifier::FromEnvironment();
  ASSERT_TRUE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_interval(), std::chrono::microseconds(10000000));
  EXPECT_TRUE(notifier.Notify("READY=1"));
  char buffer[64] = {};
  ssize_t n = recv(fd, buffer, sizeof(buffer) - 1, 0);
  EXPECT_EQ(std::string(buffer, n > 0 ? n : 0), "READY=1");

  setenv("WATCHDOG_PID", "1", 1);  // someone else's watchdog
  EXPECT_FALSE(SdNotifier::FromEnvironment().watchdog_interval().has_value());
  close(fd);
  unlink(path.c_str());
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

}  // namespace
}  // namespace vigil::app
