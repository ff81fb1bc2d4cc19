#pragma once

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <type_traits>
#include <utility>

#include "daemon/util/backoff.h"
#include "daemon/util/run_within.h"
#include "daemon/util/worker_pool.h"

namespace vigil::exporters {

// WorkerCallGate runs the blocking call of one probe on the worker pool for a
// kind that keeps a connection per target (postgres, redis), with what those
// share around util::RunWithin: at most one call per connection, the probe
// timeout, and a reconnect backoff.
//
// Run() refuses without calling fn when the connection's `busy` flag is set
// (the previous call still runs past its probe's deadline) or while the
// backoff after a failed connect runs; otherwise it sets `busy`, runs fn on
// the pool, and clears `busy` when fn returns, even after the probe stopped
// waiting (the flag is shared with the call). fn returns the kind's outcome,
// which must have `std::string reason` ("" on success), `bool connect_failed`
// (connecting or authenticating failed: starts the backoff, or doubles it up
// to its maximum) and `bool connected` (the call had a working connection: a
// later failed connect waits the initial backoff again).
//
// Refusals: "busy" (the flag is set, or the pool is full), "timeout" (no
// outcome within `timeout`; the call goes on and keeps `busy` set), or the
// failed connect's reason while the backoff runs. Loop thread only, one Run()
// at a time (the scheduler never has two probes of a target in flight).
class WorkerCallGate {
 public:
  // Why Run() gave no outcome. `message` is for the debug log; "" while the
  // backoff runs (the failure was logged when it happened).
  struct Refused {
    std::string reason;
    std::string message;
  };

  explicit WorkerCallGate(util::Backoff backoff) : backoff_(std::move(backoff)) {}

  template <typename Fn>
  boost::asio::awaitable<tl::expected<std::invoke_result_t<Fn>, Refused>> Run(
      util::WorkerPool& pool, std::chrono::milliseconds timeout,
      std::shared_ptr<std::atomic<bool>> busy, Fn fn) {
    using Outcome = std::invoke_result_t<Fn>;
    if (busy->load()) {
      co_return tl::unexpected(Refused{"busy", "the previous probe's call is still running"});
    }
    if (std::chrono::steady_clock::now() < retry_at_) {
      co_return tl::unexpected(Refused{last_reason_, ""});
    }
    busy->store(true);
    // A named callable: GCC 12 destroys a capturing lambda temporary inside a
    // co_await expression twice.
    auto work = [busy, fn = std::move(fn)]() mutable {
      Outcome outcome = fn();
      busy->store(false);
      return outcome;
    };
    auto call = co_await util::RunWithin(pool, timeout, std::move(work));
    using Status = typename util::BoundedCall<Outcome>::Status;
    if (call.status == Status::kRejected) {
      busy->store(false);
      co_return tl::unexpected(Refused{"busy", std::move(call.error)});
    }
    if (call.status == Status::kTimedOut) {
      co_return tl::unexpected(
          Refused{"timeout", fmt::format("no answer within {}ms", timeout.count())});
    }
    Outcome& outcome = *call.value;
    if (outcome.connect_failed) {
      retry_at_ = std::chrono::steady_clock::now() + backoff_.Next();
      last_reason_ = outcome.reason;
    } else if (outcome.connected) {
      backoff_.Reset();
    }
    co_return std::move(outcome);
  }

 private:
  util::Backoff backoff_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::string last_reason_;  // of the connect failure that set retry_at_
};

}  // namespace vigil::exporters
