#pragma once

#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "daemon/app/flags.h"
#include "daemon/app/process_collector.h"
#include "daemon/app/sd_notify.h"
#include "daemon/app/store_collector.h"
#include "daemon/config/config.h"
#include "daemon/net/http_client.h"
#include "daemon/notify/notifier.h"
#include "daemon/promql/engine.h"
#include "daemon/ruler/manager.h"
#include "daemon/scheduler/probe_scheduler.h"
#include "daemon/scheduler/scrape_manager.h"
#include "daemon/store/store.h"
#include "daemon/util/clock.h"
#include "daemon/util/worker_pool.h"
#include "daemon/web/http_server.h"
#include "exporters/common/prober.h"

namespace vigil::app {

// Daemon is the running vigil process: it owns the io_context, the loaded
// configuration, the series store, the probe scheduler and scrape manager, the
// rule manager and the Alertmanager notifier, the HTTP server and the
// self-metrics, and handles signals
// (SIGHUP reloads, SIGTERM/SIGINT stop) and systemd notifications.
// Reload is all-or-nothing: a config with errors is logged and the running one
// stays. Loop thread only; Run() is called once from main.
class Daemon {
 public:
  explicit Daemon(Flags flags);
  ~Daemon();

  // Loads the config, starts serving and blocks until told to stop.
  // Returns the process exit code (non-zero when start-up failed).
  int Run();

 private:
  // Loads the config file and every rule file; only when all are valid applies
  // them, else keeps the running ones. Returns the errors as text ("" on success).
  std::string Reload();
  // Hands the rule groups to the rule manager (rebuilt when the global
  // evaluation interval or external labels change) and sizes the store's retention.
  void ApplyRules(std::vector<ruler::GroupSpec> groups);
  ruler::ManagerOptions RuleOptions(const config::Config& config) const;
  std::string ExternalUrl() const;
  void RegisterHandlers();
  void WaitForSignals();
  void ScheduleWatchdog();
  void ScheduleCompaction();
  void Shutdown();
  web::Response StatusPage() const;
  std::string ProbeRows() const;
  std::string ScrapeRows() const;
  std::string AlertSection() const;

  Flags flags_;
  boost::asio::io_context io_;
  prometheus::Registry registry_;
  ProcessCollector process_collector_;
  prometheus::Gauge& reload_success_;
  prometheus::Gauge& reload_timestamp_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer compaction_timer_;
  SdNotifier systemd_;
  util::RealClock clock_;
  util::WorkerPool workers_;
  exporters::ProbeKindRegistry kinds_;
  config::ProberRegistry probers_;  // the kinds' option parsers, for the config loader
  store::Store store_;
  StoreCollector store_collector_;
  net::HttpClient http_;
  scheduler::ProbeScheduler scheduler_;
  scheduler::ScrapeManager scrapes_;
  promql::Engine engine_;
  notify::Notifier notifier_;
  std::unique_ptr<ruler::RuleManager> rules_;  // created with the first config
  ruler::ManagerOptions rules_options_;         // what rules_ was built with
  std::unique_ptr<web::HttpServer> server_;

  std::optional<config::Config> config_;
  std::string last_reload_error_;
  bool stopping_ = false;
};

}  // namespace vigil::app
