#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "daemon/util/worker_pool.h"

namespace vigil::util {

// What RunWithin() saw: the call's value, a deadline that passed first, or a
// pool that refused the call. A value type.
template <typename T>
struct BoundedCall {
  enum class Status { kDone, kTimedOut, kRejected };
  Status status = Status::kRejected;
  std::optional<T> value;  // set iff status == kDone
  std::string error;       // why the pool refused (kRejected only)
};

// Runs fn() on `pool` and waits at most `timeout` for it, from a coroutine on
// the loop. A blocking call cannot be cancelled, so when the deadline passes
// first the call keeps running on its worker and its result is dropped: fn
// must own (or share) everything it touches and set its own deadlines
// (connect_timeout, statement_timeout, socket timeouts) so the worker comes
// back. Resumes on the caller's executor. Loop thread only.
//
// Pass a named callable (`auto work = [...] {...}; co_await RunWithin(pool, t,
// std::move(work));`): GCC 12 destroys a lambda temporary created inside a
// co_await expression twice, which breaks lambdas that capture owning values.
template <typename Fn>
boost::asio::awaitable<BoundedCall<std::invoke_result_t<Fn>>> RunWithin(
    WorkerPool& pool, std::chrono::milliseconds timeout, Fn fn) {
  using T = std::invoke_result_t<Fn>;
  // Shared with the detached call, which may outlive this coroutine.
  struct State {
    explicit State(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    std::optional<Result<T>> result;
  };
  auto executor = co_await boost::asio::this_coro::executor;
  auto state = std::make_shared<State>(executor);
  state->timer.expires_after(timeout);
  boost::asio::co_spawn(
      executor,
      [&pool, state, fn = std::move(fn)]() mutable -> boost::asio::awaitable<void> {
        state->result = co_await pool.Run(std::move(fn));
        state->timer.cancel();
      },
      boost::asio::detached);
  // co_spawn may run the call's start inline; a refusal then completes before
  // the wait begins, when cancel() has nothing to cancel yet.
  if (!state->result.has_value()) {
    co_await state->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  BoundedCall<T> call;
  if (!state->result.has_value()) {
    call.status = BoundedCall<T>::Status::kTimedOut;
  } else if (!state->result->has_value()) {
    call.status = BoundedCall<T>::Status::kRejected;
    call.error = state->result->error().message;
  } else {
    call.status = BoundedCall<T>::Status::kDone;
    call.value = std::move(**state->result);
  }
  co_return call;
}

}  // namespace vigil::util
