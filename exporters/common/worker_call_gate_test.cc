#include "exporters/common/worker_call_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace vigil::exporters {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct FakeOutcome {
  std::string reason;
  bool connect_failed = false;
  bool connected = false;
};

using GateResult = tl::expected<FakeOutcome, WorkerCallGate::Refused>;

class WorkerCallGateTest : public ::testing::Test {
 protected:
  // Runs one gate_.Run() of `fn` on a fresh loop.
  template <typename Fn>
  GateResult Run(Fn fn, milliseconds timeout = milliseconds(5000)) {
    asio::io_context io;
    GateResult result = tl::unexpected(WorkerCallGate::Refused{"never ran", ""});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> { result = co_await gate_.Run(pool_, timeout, busy_, fn); },
        asio::detached);
    io.run();
    return result;
  }

  // A call that fails to connect, counted in `calls_`.
  auto ConnectFailure(std::string reason) {
    return [this, reason] {
      ++calls_;
      return FakeOutcome{reason, true, false};
    };
  }
  auto Success() {
    return [this] {
      ++calls_;
      return FakeOutcome{"", false, true};
    };
  }

  util::WorkerPool pool_{1, 1};
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<int> calls_{0};
  // Backoff from 600ms (a first wait of 300..600ms, a second of 600..1200ms).
  WorkerCallGate gate_{util::Backoff(milliseconds(600), milliseconds(2400), 7)};
};

TEST_F(WorkerCallGateTest, PassesTheOutcomeOnAndClearsBusy) {
  GateResult r = Run([this] {
    EXPECT_TRUE(busy_->load());  // set while the call runs
    ++calls_;
    return FakeOutcome{"query", false, true};
  });
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(r->reason, "query");
  EXPECT_TRUE(r->connected);
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_FALSE(busy_->load());
}

TEST_F(WorkerCallGateTest, BusyConnectionIsRefusedWithoutACall) {
  busy_->store(true);
  GateResult r = Run(Success());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "busy");
  EXPECT_EQ(r.error().message, "the previous probe's call is still running");
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_TRUE(busy_->load());
}

TEST_F(WorkerCallGateTest, FailedConnectWaitsTheBackoffThenTriesAgain) {
  GateResult failed = Run(ConnectFailure("auth"));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->reason, "auth");
  EXPECT_EQ(calls_.load(), 1);

  GateResult waiting = Run(Success());
  ASSERT_FALSE(waiting.has_value());
  EXPECT_EQ(waiting.error().reason, "auth");
  EXPECT_EQ(waiting.error().message, "");
  EXPECT_EQ(calls_.load(), 1);  // no call during the backoff

  std::this_thread::sleep_for(milliseconds(610));
  GateResult up = Run(Success());
  ASSERT_TRUE(up.has_value()) << up.error().reason;
  EXPECT_EQ(up->reason, "");
  EXPECT_EQ(calls_.load(), 2);

  GateResult again = Run(ConnectFailure("connect"));  // backoff reset: at most 600ms again
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(Run(Success()).has_value());
  std::this_thread::sleep_for(milliseconds(610));
  EXPECT_TRUE(Run(Success()).has_value());
  EXPECT_EQ(calls_.load(), 4);
}

TEST_F(WorkerCallGateTest, TimeoutLeavesTheCallRunningAndBusy) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::io_context io;
  GateResult slow = tl::unexpected(WorkerCallGate::Refused{"never ran", ""});
  GateResult next = tl::unexpected(WorkerCallGate::Refused{"never ran", ""});
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Named callables: see util::RunWithin.
        auto blocked = [this, released] {
          released.wait();
          ++calls_;
          return FakeOutcome{"", false, true};
        };
        slow = co_await gate_.Run(pool_, milliseconds(100), busy_, std::move(blocked));
        took = std::chrono::steady_clock::now() - start;
        auto success = Success();
        next = co_await gate_.Run(pool_, milliseconds(100), busy_, std::move(success));
        release.set_value();
      },
      asio::detached);
  io.run();  // returns once the released call has come back
  ASSERT_FALSE(slow.has_value());
  EXPECT_EQ(slow.error().reason, "timeout");
  EXPECT_EQ(slow.error().message, "no answer within 100ms");
  EXPECT_GE(took, milliseconds(100));
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().reason, "busy");
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_FALSE(busy_->load());  // cleared by the call itself
  EXPECT_TRUE(Run(Success()).has_value());
}

TEST_F(WorkerCallGateTest, FullPoolIsBusyAndClearsTheFlag) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::io_context io;
  GateResult rejected = tl::unexpected(WorkerCallGate::Refused{"never ran", ""});
  auto other_busy = std::make_shared<std::atomic<bool>>(false);
  WorkerCallGate other{util::Backoff(milliseconds(300), milliseconds(300), 7)};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Fills the pool (one call at most), then gives up on it.
        auto blocked = [released] {
          released.wait();
          return FakeOutcome{"", false, true};
        };
        co_await other.Run(pool_, milliseconds(50), other_busy, std::move(blocked));
        auto success = Success();
        rejected = co_await gate_.Run(pool_, milliseconds(1000), busy_, std::move(success));
        release.set_value();
      },
      asio::detached);
  io.run();
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error().reason, "busy");
  EXPECT_EQ(rejected.error().message, "worker pool full (1 calls in flight)");
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_FALSE(busy_->load());
}

}  // namespace
}  // namespace vigil::exporters
