#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/config/config.h"
#include "daemon/net/http_client.h"
#include "daemon/ruler/alert.h"
#include "daemon/util/backoff.h"
#include "daemon/util/clock.h"

namespace vigil::notify {

struct NotifierOptions {
  size_t queue_capacity = 10000;  // alerts per Alertmanager; beyond it the oldest are dropped
  size_t batch_size = 64;         // alerts per POST
  util::Duration min_backoff{500};    // first retry delay after a failed POST
  util::Duration max_backoff{30000};  // retry delay ceiling
  std::string user_agent = "Vigil";
};

// What the status page shows of one Alertmanager.
struct AlertmanagerStatus {
  std::string url;
  size_t queue_length = 0;
  size_t queue_capacity = 0;
  std::string last_error;       // of the latest failed POST; "" after a success
  int64_t last_success_ms = 0;  // 0 when nothing was delivered yet
  uint64_t sent = 0;
  uint64_t errors = 0;
  uint64_t dropped = 0;
};

// Notifier delivers the ruler's alerts to every configured Alertmanager (API
// v2, POST <scheme>://<address><path_prefix>/api/v2/alerts) and, unlike
// Prometheus, loses nothing it can keep: each Alertmanager has its own bounded
// queue; a failed batch stays at the head and is retried with exponential
// backoff until it is accepted; only when a queue is full are its oldest alerts
// dropped, and counted. External labels are added where the alert lacks the
// name, then alerting.alert_relabel_configs apply (a dropped alert is not sent).
//
// Send() is thread-safe (rule groups call it from their threads); everything
// else is loop thread only. Self-metrics: vigil_notifications_sent_total,
// _errors_total, _dropped_total, _queue_length, _queue_capacity and
// _latency_seconds, labelled by alertmanager, and
// vigil_notifications_alertmanagers_discovered.
class Notifier final : public ruler::AlertSink {
 public:
  Notifier(boost::asio::io_context& io, net::HttpClient& http, prometheus::Registry& registry,
           const util::Clock& clock, NotifierOptions options = {});
  ~Notifier() override;

  // Makes the Alertmanagers those of `config`; one whose URL stays keeps its
  // queue. Returns the problems (targets without an address after relabeling).
  std::vector<std::string> ApplyConfig(const config::Config& config);
  void Send(const std::vector<ruler::Alert>& alerts) override;
  void Stop();

  std::vector<AlertmanagerStatus> Status() const;

 private:
  struct Alertmanager;
  struct Queued {
    uint64_t seq;
    std::string json;  // one alert, already serialized
  };
  boost::asio::awaitable<void> Deliver(std::shared_ptr<Alertmanager> am);
  void Wake();

  boost::asio::io_context& io_;
  net::HttpClient& http_;
  const util::Clock& clock_;
  NotifierOptions options_;

  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Gauge>& queue_length_;
  prometheus::Family<prometheus::Gauge>& queue_capacity_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& discovered_;

  mutable std::mutex mu_;  // guards the fields below
  model::Labels external_labels_;
  std::vector<model::RelabelConfig> relabel_;
  std::map<std::string, std::shared_ptr<Alertmanager>> alertmanagers_;  // by URL
  uint64_t next_seq_ = 1;
  bool stopped_ = false;
};

// The Alertmanager API v2 JSON of one alert (times RFC 3339 in UTC with ms).
std::string AlertJson(const ruler::Alert& alert);

}  // namespace vigil::notify
