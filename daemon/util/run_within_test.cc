#include "daemon/util/run_within.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

namespace vigil::util {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

TEST(RunWithin, ReturnsTheValueWhenTheCallIsInTime) {
  asio::io_context io;
  WorkerPool pool(1, 4);
  BoundedCall<int> call;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        call = co_await RunWithin(pool, milliseconds(5000), [] { return 7; });
      },
      asio::detached);
  auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(call.status, BoundedCall<int>::Status::kDone);
  EXPECT_EQ(call.value, 7);
}

TEST(RunWithin, GivesUpAtTheDeadlineWhileTheCallRunsOn) {
  asio::io_context io;
  WorkerPool pool(1, 4);
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  BoundedCall<int> call;
  std::chrono::steady_clock::duration waited{};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto start = std::chrono::steady_clock::now();
        call = co_await RunWithin(pool, milliseconds(50), [&] {
          while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
          finished.store(true);
          return 1;
        });
        waited = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(finished.load());
        release.store(true);
      },
      asio::detached);
  io.run();  // also runs the detached call's completion
  EXPECT_EQ(call.status, BoundedCall<int>::Status::kTimedOut);
  EXPECT_FALSE(call.value.has_value());
  EXPECT_GE(waited, milliseconds(50));
  EXPECT_LT(waited, milliseconds(1000));
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(RunWithin, ReportsAFullPool) {
  asio::io_context io;
  WorkerPool pool(1, 0);
  BoundedCall<int> call;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        call = co_await RunWithin(pool, milliseconds(5000), [] { return 7; });
      },
      asio::detached);
  io.run();
  EXPECT_EQ(call.status, BoundedCall<int>::Status::kRejected);
  EXPECT_EQ(call.error, "worker pool full (0 calls in flight)");
}

}  // namespace
}  // namespace vigil::util
