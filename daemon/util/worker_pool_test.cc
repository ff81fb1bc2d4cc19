#include "daemon/util/worker_pool.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace vigil::util {
namespace {

namespace asio = boost::asio;

TEST(WorkerPool, RunsOffTheLoopAndResumesOnIt) {
  asio::io_context io;
  WorkerPool pool(2, 8);
  std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id worker_thread;
  std::thread::id resumed_on;
  int value = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await pool.Run([&] {
          worker_thread = std::this_thread::get_id();
          return 42;
        });
        resumed_on = std::this_thread::get_id();
        value = r.value();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(value, 42);
  EXPECT_NE(worker_thread, loop_thread);
  EXPECT_EQ(resumed_on, loop_thread);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(WorkerPool, RejectsBeyondTheBound) {
  asio::io_context io;
  WorkerPool pool(1, 2);
  std::atomic<bool> release{false};
  int ok = 0;
  int rejected = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto r = co_await pool.Run([&] {
            while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return 1;
          });
          if (r) {
            ++ok;
          } else {
            EXPECT_EQ(r.error().message, "worker pool full (2 calls in flight)");
            ++rejected;
            release.store(true);
          }
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(rejected, 1);
  EXPECT_EQ(pool.rejected_total(), 1u);
}

}  // namespace
}  // namespace vigil::util
