#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/util/result.h"

namespace vigil::util {

// WorkerPool runs blocking calls (libpqxx, hiredis, large serializations) off
// the event loop on a fixed number of threads. At most `max_queued` calls wait
// or run at once; beyond that Run() fails at once with "worker pool full"
// rather than queueing without bound. Thread-safe. The destructor waits for
// running calls to finish, so every blocking client must set its own deadline.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued) : pool_(threads), max_queued_(max_queued) {}
  ~WorkerPool() { pool_.join(); }

  // From a coroutine on the loop: runs fn() on a worker, then resumes on the
  // caller's executor with its result.
  template <typename Fn>
  boost::asio::awaitable<Result<std::invoke_result_t<Fn>>> Run(Fn fn) {
    using T = std::invoke_result_t<Fn>;
    if (in_flight_.fetch_add(1) >= max_queued_) {
      in_flight_.fetch_sub(1);
      rejected_.fetch_add(1);
      co_return Fail("worker pool full ({} calls in flight)", max_queued_);
    }
    struct Release {
      std::atomic<size_t>& count;
      ~Release() { count.fetch_sub(1); }
    } release{in_flight_};
    // co_spawn runs the body on the pool and completes back on the caller's executor.
    T result = co_await boost::asio::co_spawn(
        pool_.get_executor(),
        [&fn]() -> boost::asio::awaitable<T> { co_return fn(); }, boost::asio::use_awaitable);
    co_return result;
  }

  size_t in_flight() const { return in_flight_.load(); }
  uint64_t rejected_total() const { return rejected_.load(); }

 private:
  boost::asio::thread_pool pool_;
  size_t max_queued_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace vigil::util
