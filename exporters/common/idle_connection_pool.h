#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vigil::exporters {

// IdleConnectionPool keeps the idle connections of probers that went away, so
// that the next prober of the same target and options takes one over instead
// of connecting again (/probe builds a prober per request; a config reload
// rebuilds probers). Connections are matched by a key the kind computes from
// everything that makes two connections interchangeable (address, TLS
// settings, user, a hash of an inline password, module options).
//
// At most `capacity` connections are kept, each at most `max_idle`: Give()
// drops the oldest when full, and every call first closes the ones idle for
// `max_idle` or longer. Dropped connections are destroyed (closed) outside
// the pool's lock, on the calling thread. Whether a connection is worth
// keeping (open, no call in flight) is the caller's decision.
//
// Thread-safe (one mutex). No errors: Take() gives nullptr when it has nothing.
template <typename Conn>
class IdleConnectionPool {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  // `now` is injected for tests; it must be thread-safe.
  IdleConnectionPool(size_t capacity, Clock::duration max_idle, NowFn now = &Clock::now)
      : capacity_(capacity), max_idle_(max_idle), now_(std::move(now)) {}

  // The connection most recently given for `key`, now the caller's, or nullptr.
  std::shared_ptr<Conn> Take(const std::string& key) {
    std::vector<std::shared_ptr<Conn>> closing;  // destroyed after the lock is released
    std::lock_guard lock(mutex_);
    ExpireLocked(closing);
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      if (it->key != key) continue;
      std::shared_ptr<Conn> connection = std::move(it->connection);
      idle_.erase(std::next(it).base());
      return connection;
    }
    return nullptr;
  }

  // Take(key), or a new default-constructed Conn (not yet connected) when
  // none is kept: how a prober starts its session.
  std::shared_ptr<Conn> TakeOrCreate(const std::string& key) {
    std::shared_ptr<Conn> connection = Take(key);
    return connection != nullptr ? connection : std::make_shared<Conn>();
  }

  // Keeps `connection` (ignored when null) for a later Take(key).
  void Give(std::string key, std::shared_ptr<Conn> connection) {
    std::vector<std::shared_ptr<Conn>> closing;
    std::lock_guard lock(mutex_);
    if (connection != nullptr) {
      idle_.push_back(Idle{std::move(key), std::move(connection), now_()});
    }
    ExpireLocked(closing);
  }

  // Closes the connections idle for max_idle or longer.
  void Expire() {
    std::vector<std::shared_ptr<Conn>> closing;
    std::lock_guard lock(mutex_);
    ExpireLocked(closing);
  }

  // How many connections are kept now.
  size_t size() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
  }

 private:
  struct Idle {
    std::string key;
    std::shared_ptr<Conn> connection;
    Clock::time_point since;
  };

  void ExpireLocked(std::vector<std::shared_ptr<Conn>>& closing) {
    Clock::time_point now = now_();
    while (!idle_.empty() && (idle_.size() > capacity_ || now - idle_.front().since >= max_idle_)) {
      closing.push_back(std::move(idle_.front().connection));
      idle_.pop_front();
    }
  }

  const size_t capacity_;
  const Clock::duration max_idle_;
  const NowFn now_;
  mutable std::mutex mutex_;
  std::deque<Idle> idle_;  // oldest first
};

}  // namespace vigil::exporters
