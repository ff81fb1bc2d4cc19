#include "daemon/app/daemon.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <boost/asio/post.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include "daemon/app/build_info.h"
#include "daemon/app/api_handlers.h"
#include "daemon/app/builtin_exporters.h"
#include "daemon/app/html.h"
#include "daemon/app/probe_handler.h"
#include "daemon/util/log.h"
#include "daemon/web/metrics_handler.h"

namespace vigil::app {

namespace asio = boost::asio;
namespace log = util::log;

namespace {

constexpr size_t kWorkerThreads = 4;
constexpr size_t kMaxQueuedBlockingCalls = 1024;
constexpr std::chrono::seconds kCompactionInterval{60};
// Samples are kept at least this long, longer when a rule reads further back.
constexpr util::Duration kDefaultRetention = std::chrono::minutes(15);

std::string FormatTime(int64_t ms, bool valid) {
  if (!valid) return "";
  return fmt::format("{:%Y-%m-%d %H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(ms / 1000)));
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Daemon::Daemon(Flags flags)
    : flags_(std::move(flags)),
      reload_success_(prometheus::BuildGauge()
                          .Name("vigil_config_last_reload_successful")
                          .Help("Whether the last configuration reload attempt was successful.")
                          .Register(registry_)
                          .Add({})),
      reload_timestamp_(prometheus::BuildGauge()
                            .Name("vigil_config_last_reload_success_timestamp_seconds")
                            .Help("Timestamp of the last successful configuration reload.")
                            .Register(registry_)
                            .Add({})),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      watchdog_timer_(io_),
      compaction_timer_(io_),
      systemd_(SdNotifier::FromEnvironment()),
      workers_(kWorkerThreads, kMaxQueuedBlockingCalls),
      store_collector_(store_),
      http_(io_),
      scheduler_(io_, kinds_, store_, clock_),
      scrapes_(io_, http_, store_, clock_),
      engine_(promql::EngineOptions{.semantics = flags_.promql_semantics == "v2"
                                                     ? promql::Semantics::V2()
                                                     : promql::Semantics::V3()}),
      notifier_(io_, http_, registry_, clock_,
                notify::NotifierOptions{.user_agent = std::string("Vigil/") + kVersion}) {
  RegisterBuiltinExporters(kinds_, workers_, http_);
  probers_ = kinds_.ConfigRegistry();
  prometheus::BuildGauge()
      .Name("vigil_build_info")
      .Help("A metric with a constant '1' value labeled by version, revision and compiler "
            "from which vigil was built.")
      .Register(registry_)
      .Add({{"version", kVersion}, {"revision", kRevision}, {"compiler", kCompiler}})
      .Set(1);
}

Daemon::~Daemon() = default;

int Daemon::Run() {
  log::Info("starting vigil", {{"version", kVersion}, {"revision", kRevision}});
  std::error_code ec;
  std::filesystem::create_directories(flags_.state_dir, ec);
  if (ec) {
    log::Error("cannot create state directory",
               {{"dir", flags_.state_dir}, {"err", ec.message()}});
    return 1;
  }
  if (std::string errors = Reload(); !errors.empty()) {
    log::Error("cannot start with an invalid configuration", {{"file", flags_.config_file}});
    return 1;
  }
  server_ = std::make_unique<web::HttpServer>(
      io_, web::HttpServerOptions{.listen_address = flags_.listen_address}, registry_);
  RegisterHandlers();
  if (auto started = server_->Start(); !started) {
    log::Error("cannot start web server", {{"err", started.error().message}});
    return 1;
  }
  log::Info("listening", {{"address", flags_.listen_address}});
  WaitForSignals();
  ScheduleWatchdog();
  ScheduleCompaction();
  systemd_.Notify("READY=1\nSTATUS=serving");
  io_.run();
  log::Info("vigil stopped");
  return 0;
}

std::string Daemon::Reload() {
  auto loaded = config::LoadFile(flags_.config_file, probers_);
  std::vector<std::string> errors;
  if (!loaded) {
    for (const auto& error : loaded.error()) errors.push_back(error.ToString());
  }
  ruler::RuleFileResult rule_files;
  if (loaded) {
    rule_files = ruler::LoadRuleFiles(loaded->rule_files, "",
                                      ruler::RuleFileOptions{.semantics = engine_.options().semantics});
    errors.insert(errors.end(), rule_files.errors.begin(), rule_files.errors.end());
  }
  if (!errors.empty()) {
    std::string text;
    for (const auto& error : errors) {
      log::Error("invalid configuration", {{"err", error}});
      text += error + "\n";
    }
    reload_success_.Set(0);
    last_reload_error_ = text;
    return text;
  }
  bool initial = !config_.has_value();
  config_ = std::move(*loaded);
  scheduler_.Apply(*config_);
  scrapes_.Apply(*config_);
  notifier_.ApplyConfig(*config_);
  size_t groups = rule_files.groups.size();
  ApplyRules(std::move(rule_files.groups));
  reload_success_.Set(1);
  reload_timestamp_.Set(NowSeconds());
  last_reload_error_.clear();
  log::Info(initial ? "configuration loaded" : "configuration reloaded",
            {{"file", flags_.config_file},
             {"scrape_configs", config_->scrape_configs.size()},
             {"probes", config_->probes.size()},
             {"rule_groups", groups}});
  return {};
}

std::string Daemon::ExternalUrl() const {
  if (!flags_.external_url.empty()) return flags_.external_url;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
  std::string port = flags_.listen_address.substr(flags_.listen_address.rfind(':') + 1);
  return fmt::format("http://{}:{}", host, port);
}

ruler::ManagerOptions Daemon::RuleOptions(const config::Config& config) const {
  ruler::ManagerOptions options;
  options.evaluation_interval = config.global.evaluation_interval;
  // Validated by ParseCommandLine.
  options.resend_delay = util::ParseDuration(flags_.resend_delay).value();
  options.outage_tolerance = util::ParseDuration(flags_.for_outage_tolerance).value();
  options.grace_period = util::ParseDuration(flags_.for_grace_period).value();
  options.external_labels = config.global.external_labels;
  options.external_url = ExternalUrl();
  options.state_dir = flags_.state_dir;
  return options;
}

void Daemon::ApplyRules(std::vector<ruler::GroupSpec> groups) {
  // Rules read back at most this far; one more evaluation interval of slack.
  store_.SetRetention(std::max(kDefaultRetention, ruler::RulesMaxLookback(groups) +
                                                      config_->global.evaluation_interval));
  auto options = RuleOptions(*config_);
  if (rules_ && (rules_options_.evaluation_interval != options.evaluation_interval ||
                 rules_options_.external_labels != options.external_labels)) {
    rules_->Stop();
    rules_.reset();
  }
  if (!rules_) {
    rules_options_ = options;
    rules_ = std::make_unique<ruler::RuleManager>(io_, clock_, engine_, store_, store_, notifier_,
                                                  registry_, options, &workers_);
    rules_->Apply(std::move(groups));
    rules_->Start();
    return;
  }
  rules_->Apply(std::move(groups));
}

void Daemon::RegisterHandlers() {
  server_->Handle("/metrics", web::Sync([this](const web::Request&) {
                    return web::ServeMetrics({&registry_, &process_collector_, &store_collector_,
                                              &scheduler_, &rules_->alerts_collector()});
                  }));
  server_->Handle("/probe", [this](const web::Request& request) {
    return ServeProbe(request, *config_, kinds_);
  });
  server_->Handle("/-/healthy", web::Sync([](const web::Request&) {
                    return web::Response::Text(200, "Vigil is Healthy.\n");
                  }));
  server_->Handle("/-/ready", web::Sync([this](const web::Request&) {
                    if (config_ && scheduler_.FirstRoundDone() && scrapes_.FirstRoundDone() &&
                        !stopping_) {
                      return web::Response::Text(200, "Vigil is Ready.\n");
                    }
                    return web::Response::Text(503, "Service Unavailable\n");
                  }));
  server_->Handle(
      "/-/reload", web::Sync([this](const web::Request&) {
        systemd_.Notify("RELOADING=1");
        std::string errors = Reload();
        systemd_.Notify("READY=1");
        if (!errors.empty()) {
          return web::Response::Text(500, "failed to reload config:\n" + errors);
        }
        return web::Response::Text(200, "");
      }),
      "POST,PUT");
  server_->Handle("/api/v1/alerts",
                  web::Sync([this](const web::Request&) { return ServeAlerts(*rules_); }));
  server_->Handle("/api/v1/rules",
                  web::Sync([this](const web::Request& r) {
                    return ServeRules(*rules_, r.Param("type"));
                  }));
  server_->Handle("/api/v1/status/config", web::Sync([this](const web::Request&) {
                    return web::Response{200, "text/plain; charset=utf-8",
                                         config::ToYaml(*config_), {}};
                  }));
  server_->Handle("/", web::Sync([this](const web::Request&) { return StatusPage(); }));
}

std::string Daemon::ProbeRows() const {
  std::string rows;
  for (const auto& t : scheduler_.Status()) {
    std::string state = !t.probed ? "pending" : t.success ? "up" : "<span class=err>down</span>";
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}s</td>"
        "<td>{} / {}</td><td>{}</td></tr>\n",
        HtmlEscape(t.name), HtmlEscape(t.module), HtmlEscape(t.target), state,
        FormatTime(t.last_probe_ms, t.probed),
        t.last_duration_seconds, t.successes, t.failures, HtmlEscape(t.last_failure_reason));
  }
  return rows;
}

std::string Daemon::AlertSection() const {
  return fmt::format(
      "<h2>Active alerts</h2>\n<table>\n<tr><th>Alert</th><th>State</th><th>Labels</th>"
      "<th>Active since</th><th>Value</th></tr>\n{}</table>\n"
      "<h2>Rules</h2>\n<table>\n<tr><th>Group</th><th>Rule</th><th>Type</th><th>Health</th>"
      "<th>Last evaluation</th><th>Duration</th><th>Last error</th></tr>\n{}</table>\n"
      "<h2>Alertmanagers</h2>\n<table>\n<tr><th>URL</th><th>Queue</th><th>Sent</th>"
      "<th>Dropped</th><th>Last success</th><th>Last error</th></tr>\n{}</table>",
      AlertRows(*rules_), RuleRows(*rules_), AlertmanagerRows(notifier_.Status()));
}

std::string Daemon::ScrapeRows() const {
  std::string rows;
  for (const auto& t : scrapes_.Status()) {
    std::string state = !t.scraped ? "pending" : t.healthy ? "up" : "<span class=err>down</span>";
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}s</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        HtmlEscape(t.job), HtmlEscape(t.url), state, HtmlEscape(t.labels.ToString()),
        FormatTime(t.last_scrape_ms, t.scraped), t.last_duration_seconds, t.last_samples,
        HtmlEscape(t.last_error));
  }
  return rows;
}

web::Response Daemon::StatusPage() const {
  std::string reload_state =
      last_reload_error_.empty()
          ? "successful"
          : "<span class=err>failed</span><pre>" + HtmlEscape(last_reload_error_) + "</pre>";
  std::string body = fmt::format(
      R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{padding:2px 12px}}.err{{color:#b00}}</style>
</head><body>
<h1>Vigil</h1>
<table>
<tr><td>Version</td><td>{}</td></tr>
<tr><td>Revision</td><td>{}</td></tr>
<tr><td>Compiler</td><td>{}</td></tr>
<tr><td>Configuration file</td><td>{}</td></tr>
<tr><td>Last reload</td><td>{}</td></tr>
<tr><td>Scrape configs</td><td>{}</td></tr>
<tr><td>Probes</td><td>{}</td></tr>
<tr><td>Rule files</td><td>{}</td></tr>
</table>
<ul>
<li><a href="/metrics">/metrics</a></li>
<li><a href="/probe?module=http_2xx&amp;target=http://127.0.0.1:9777/-/healthy">/probe</a></li>
<li><a href="/-/healthy">/-/healthy</a></li>
<li><a href="/-/ready">/-/ready</a></li>
<li><a href="/api/v1/status/config">/api/v1/status/config</a></li>
<li><a href="/api/v1/alerts">/api/v1/alerts</a>, <a href="/api/v1/rules">/api/v1/rules</a></li>
</ul>
{}
<h2>Probes</h2>
<table>
<tr><th>Target</th><th>Module</th><th>Address</th><th>State</th><th>Last probe</th><th>Duration</th><th>OK / failed</th><th>Last failure</th></tr>
{}</table>
<h2>Scrape targets</h2>
<table>
<tr><th>Job</th><th>Endpoint</th><th>State</th><th>Labels</th><th>Last scrape</th><th>Duration</th><th>Samples</th><th>Error</th></tr>
{}</table>
</body></html>
)",
      kVersion, kRevision, HtmlEscape(kCompiler), HtmlEscape(flags_.config_file), reload_state,
      config_->scrape_configs.size(), config_->probes.size(), config_->rule_files.size(),
      AlertSection(), ProbeRows(), ScrapeRows());
  return web::Response{200, "text/html; charset=utf-8", std::move(body), {}};
}

void Daemon::WaitForSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log::Info("received SIGHUP, reloading configuration");
      systemd_.Notify("RELOADING=1");
      Reload();
      systemd_.Notify("READY=1");
      WaitForSignals();
      return;
    }
    log::Info("received signal, shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    Shutdown();
  });
}

void Daemon::ScheduleWatchdog() {
  auto interval = systemd_.watchdog_interval();
  if (!interval) return;
  systemd_.Notify("WATCHDOG=1");
  watchdog_timer_.expires_after(*interval);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) ScheduleWatchdog();
  });
}

void Daemon::ScheduleCompaction() {
  compaction_timer_.expires_after(kCompactionInterval);
  compaction_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    auto stats = store_.Compact(clock_.NowMillis());
    log::Debug("store compacted", {{"samples_dropped", stats.samples_dropped},
                                   {"series_removed", stats.series_removed}});
    ScheduleCompaction();
  });
}

void Daemon::Shutdown() {
  stopping_ = true;
  scheduler_.Stop();
  scrapes_.Stop();
  if (rules_) rules_->Stop();
  notifier_.Stop();
  compaction_timer_.cancel();
  systemd_.Notify("STOPPING=1");
  server_->Stop();
  signals_.cancel();
  watchdog_timer_.cancel();
  io_.stop();
}

}  // namespace vigil::app
