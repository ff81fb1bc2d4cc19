#include "daemon/scheduler/ticker.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace vigil::scheduler {

namespace asio = boost::asio;

namespace {

uint64_t Fnv1a(std::string_view key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::chrono::milliseconds DelayToFirstTick(std::string_view key, std::chrono::milliseconds interval,
                                           int64_t now_ms) {
  int64_t period = std::max<int64_t>(interval.count(), 1);
  int64_t offset = static_cast<int64_t>(Fnv1a(key) % static_cast<uint64_t>(period));
  int64_t phase = ((now_ms % period) + period) % period;
  return std::chrono::milliseconds((offset - phase + period) % period);
}

std::chrono::steady_clock::time_point AlignToTickGrid(std::chrono::steady_clock::time_point t,
                                                      std::chrono::milliseconds interval) {
  using std::chrono::steady_clock;
  const steady_clock::duration grid = std::max<steady_clock::duration>(
      std::min(interval, kTickGranularity), steady_clock::duration(1));
  steady_clock::duration since = t.time_since_epoch();
  steady_clock::duration rest = since % grid;
  if (rest < steady_clock::duration::zero()) rest += grid;
  return rest == steady_clock::duration::zero() ? t : t + (grid - rest);
}

Ticker::Ticker(asio::io_context& io, const util::Clock& clock, std::string key,
               std::chrono::milliseconds interval, Work work, LatenessHistogram* lateness)
    : io_(io),
      clock_(clock),
      key_(std::move(key)),
      interval_(std::max(interval, std::chrono::milliseconds(1))),
      work_(std::move(work)),
      lateness_(lateness),
      timer_(io) {}

void Ticker::Start() {
  asio::co_spawn(io_, [self = shared_from_this()] { return self->Run(); }, asio::detached);
}

void Ticker::Stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> Ticker::Run() {
  auto keep_alive = shared_from_this();
  auto next = std::chrono::steady_clock::now() +
              DelayToFirstTick(key_, interval_, clock_.NowMillis());
  while (!stopped_) {
    auto deadline = AlignToTickGrid(next, interval_);
    timer_.expires_at(deadline);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    if (lateness_ != nullptr) {  // against the schedule: the grid's delay counts as late
      lateness_->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - next).count());
    }
    co_await work_(clock_.NowMillis());
    next += interval_;
    for (auto now = std::chrono::steady_clock::now(); next <= now; next += interval_) {
      ++missed_;
    }
  }
}

}  // namespace vigil::scheduler
