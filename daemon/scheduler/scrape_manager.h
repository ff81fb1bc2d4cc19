#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/config/config.h"
#include "daemon/model/storage.h"
#include "daemon/net/http_client.h"
#include "daemon/scheduler/scrape_targets.h"
#include "daemon/scheduler/ticker.h"
#include "daemon/util/clock.h"

namespace vigil::scheduler {

// What the status page shows of one scrape target (like Prometheus's /targets).
struct ScrapeTargetStatus {
  std::string job;
  std::string url;
  model::Labels labels;
  bool scraped = false;  // at least one scrape finished
  bool healthy = false;  // the latest scrape succeeded
  std::string last_error;
  int64_t last_scrape_ms = 0;
  double last_duration_seconds = 0;
  size_t last_samples = 0;
};

// ScrapeManager scrapes the `scrape_configs` targets (static_configs and
// file_sd_configs, after relabel_configs) like Prometheus's scrape manager:
// each target on its interval at a stable offset, one scrape in flight, the
// body parsed (text 0.0.4 or OpenMetrics) and appended to the store with the
// target's labels, plus the synthetic series up, scrape_duration_seconds,
// scrape_samples_scraped, scrape_samples_post_metric_relabeling and
// scrape_series_added. scrape_duration_seconds (and the status page's
// last_duration_seconds) means what it does in Prometheus: the wall time from
// the start of the fetch until the body is parsed and appended to the store
// (or, for a failed scrape, until the stale markers are written), excluding
// the append of these report series. A failed scrape (transport error, non-2xx, malformed
// body, sample limit) sets up 0 and ends the target's series with stale
// markers; so does removing the target. file_sd files are re-read every
// refresh_interval. Loop thread only.
class ScrapeManager {
 public:
  ScrapeManager(boost::asio::io_context& io, net::HttpClient& http, model::Appender& appender,
                const util::Clock& clock);
  ~ScrapeManager();

  // Makes the running targets those of `config`. A target that stays (same
  // job, URL and labels) keeps its series cache and staleness state. Returns
  // the problems found (unreadable file_sd files, targets without an address).
  std::vector<std::string> Apply(const config::Config& config);
  void Stop();

  // True once every current target finished at least one scrape.
  bool FirstRoundDone() const;
  std::vector<ScrapeTargetStatus> Status() const;

 private:
  struct Target;
  std::vector<std::string> Sync();
  void ScheduleRefresh();
  boost::asio::awaitable<void> ScrapeOnce(std::shared_ptr<Target> target, int64_t timestamp_ms);
  void AppendReport(Target& target, int64_t timestamp_ms, bool up, double seconds,
                    size_t scraped, size_t post_relabel, size_t added);
  void EndSeries(Target& target, int64_t timestamp_ms);

  boost::asio::io_context& io_;
  net::HttpClient& http_;
  model::Appender& appender_;
  const util::Clock& clock_;
  std::vector<std::shared_ptr<const config::ScrapeConfig>> scrape_configs_;
  std::map<std::string, std::shared_ptr<Target>> targets_;  // by job, URL and labels
  boost::asio::steady_timer refresh_timer_;
  bool stopped_ = false;
};

}  // namespace vigil::scheduler
