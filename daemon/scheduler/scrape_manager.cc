#include "daemon/scheduler/scrape_manager.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "daemon/model/sample.h"
#include "daemon/util/log.h"
#include "exporters/common/http_client_config.h"
#include "exporters/scrape/ingester.h"

namespace vigil::scheduler {

namespace asio = boost::asio;
namespace log = util::log;

namespace {

constexpr std::string_view kAcceptHeader =
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1";
constexpr std::chrono::seconds kMinRefresh{5};

constexpr std::array<std::string_view, 5> kReportSeries{
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

scrape::IngesterOptions IngesterOptionsFor(const config::ScrapeConfig& scrape,
                                           const model::Labels& labels) {
  scrape::IngesterOptions options;
  options.target_labels = labels;
  options.honor_labels = scrape.honor_labels;
  options.honor_timestamps = scrape.honor_timestamps;
  options.sample_limit = scrape.sample_limit;
  options.metric_relabel_configs = scrape.metric_relabel_configs;
  options.label_limit = scrape.label_limit;
  return options;
}

// Same relabel steps as written (a reload compiles new regex objects).
bool SameRelabelConfigs(const std::vector<model::RelabelConfig>& a,
                        const std::vector<model::RelabelConfig>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const model::RelabelConfig& x, const model::RelabelConfig& y) {
                      return x.source_labels == y.source_labels && x.separator == y.separator &&
                             x.regex_text == y.regex_text && x.modulus == y.modulus &&
                             x.target_label == y.target_label &&
                             x.replacement == y.replacement && x.action == y.action;
                    });
}

bool SameIngestion(const config::ScrapeConfig& a, const config::ScrapeConfig& b) {
  return a.honor_labels == b.honor_labels && a.honor_timestamps == b.honor_timestamps &&
         a.sample_limit == b.sample_limit && a.label_limit == b.label_limit &&
         SameRelabelConfigs(a.metric_relabel_configs, b.metric_relabel_configs);
}

std::string StatusError(long status) {
  return fmt::format("server returned HTTP status {}", status);
}

}  // namespace

struct ScrapeManager::Target {
  ScrapeTarget spec;
  std::shared_ptr<const config::ScrapeConfig> config;
  std::unique_ptr<scrape::Ingester> ingester;
  std::shared_ptr<Ticker> ticker;
  ScrapeTargetStatus status;
  bool reported = false;  // report series were written at least once
};

ScrapeManager::ScrapeManager(asio::io_context& io, net::HttpClient& http,
                             model::Appender& appender, const util::Clock& clock)
    : io_(io), http_(http), appender_(appender), clock_(clock), refresh_timer_(io) {}

ScrapeManager::~ScrapeManager() { Stop(); }

std::vector<std::string> ScrapeManager::Apply(const config::Config& config) {
  scrape_configs_.clear();
  for (const auto& sc : config.scrape_configs) {
    scrape_configs_.push_back(std::make_shared<const config::ScrapeConfig>(sc));
  }
  auto problems = Sync();
  refresh_timer_.cancel();
  ScheduleRefresh();
  return problems;
}

std::vector<std::string> ScrapeManager::Sync() {
  std::vector<std::string> problems;
  std::map<std::string, std::shared_ptr<Target>> next;
  for (const auto& sc : scrape_configs_) {
    auto groups = StaticGroups(*sc);
    auto file_groups = ReadFileSdGroups(*sc, problems);
    groups.insert(groups.end(), file_groups.begin(), file_groups.end());
    for (const auto& group : groups) {
      for (auto& spec : PopulateTargets(*sc, group, problems)) {
        std::string key = fmt::format("{}|{}|{}", sc->job_name, spec.url, spec.labels.ToString());
        if (next.count(key)) continue;  // the same target twice: scrape it once
        std::shared_ptr<Target> target;
        if (auto it = targets_.find(key); it != targets_.end()) {
          target = it->second;
          targets_.erase(it);
          bool same_schedule = target->spec.interval == spec.interval &&
                               target->spec.timeout == spec.timeout;
          if (!SameIngestion(*target->config, *sc)) {
            target->ingester->MarkAllStale(clock_.NowMillis(), appender_);
            target->ingester =
                std::make_unique<scrape::Ingester>(IngesterOptionsFor(*sc, spec.labels));
          }
          target->config = sc;
          target->spec = std::move(spec);
          if (same_schedule) {
            next[key] = target;
            continue;
          }
          target->ticker->Stop();
        } else {
          target = std::make_shared<Target>();
          target->config = sc;
          target->ingester =
              std::make_unique<scrape::Ingester>(IngesterOptionsFor(*sc, spec.labels));
          target->status.job = sc->job_name;
          target->status.url = spec.url;
          target->status.labels = spec.labels;
          target->spec = std::move(spec);
        }
        target->ticker = std::make_shared<Ticker>(
            io_, clock_, key, target->spec.interval,
            [this, weak = std::weak_ptr<Target>(target)](int64_t ts) -> asio::awaitable<void> {
              if (auto t = weak.lock()) co_await ScrapeOnce(t, ts);
            });
        target->ticker->Start();
        next[key] = target;
      }
    }
  }
  int64_t now = clock_.NowMillis();
  for (auto& [key, removed] : targets_) {
    removed->ticker->Stop();
    EndSeries(*removed, now);
  }
  targets_ = std::move(next);
  for (const auto& problem : problems) log::Warn("scrape discovery problem", {{"err", problem}});
  return problems;
}

void ScrapeManager::ScheduleRefresh() {
  std::optional<util::Duration> refresh;
  for (const auto& sc : scrape_configs_) {
    for (const auto& sd : sc->file_sd_configs) {
      util::Duration d = std::max<util::Duration>(sd.refresh_interval, kMinRefresh);
      refresh = refresh ? std::min(*refresh, d) : d;
    }
  }
  if (!refresh || stopped_) return;
  refresh_timer_.expires_after(*refresh);
  refresh_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    Sync();
    ScheduleRefresh();
  });
}

void ScrapeManager::Stop() {
  stopped_ = true;
  refresh_timer_.cancel();
  for (auto& [key, target] : targets_) target->ticker->Stop();
  targets_.clear();
}

bool ScrapeManager::FirstRoundDone() const {
  for (const auto& [key, target] : targets_) {
    if (!target->status.scraped) return false;
  }
  return true;
}

std::vector<ScrapeTargetStatus> ScrapeManager::Status() const {
  std::vector<ScrapeTargetStatus> out;
  for (const auto& [key, target] : targets_) out.push_back(target->status);
  return out;
}

asio::awaitable<void> ScrapeManager::ScrapeOnce(std::shared_ptr<Target> target,
                                                int64_t timestamp_ms) {
  const config::ScrapeConfig& sc = *target->config;
  net::HttpRequest request;
  request.url = target->spec.url;
  request.timeout = target->spec.timeout;
  request.max_body_bytes = sc.body_size_limit;
  request.headers.emplace_back("Accept", std::string(kAcceptHeader));
  request.headers.emplace_back(
      "X-Prometheus-Scrape-Timeout-Seconds",
      fmt::format("{}", std::chrono::duration<double>(target->spec.timeout).count()));
  std::string error;
  if (auto applied = exporters::ApplyHttpClientConfig(sc.http, request); !applied) {
    error = applied.error().message;
  }
  auto started = std::chrono::steady_clock::now();
  net::HttpResponse response;
  if (error.empty()) {
    response = co_await http_.Perform(std::move(request));
    if (!response.ok()) {
      error = fmt::format("{}: {}", net::TransferErrorName(response.error),
                          response.error_message);
    } else if (response.status < 200 || response.status >= 300) {
      error = StatusError(response.status);
    }
  }
  if (target->ticker->stopped()) co_return;

  size_t scraped = 0, added = 0, post_relabel = 0;
  if (error.empty()) {
    auto content_type = response.HeaderValues("content-type");
    auto format = scrape::DetectFormat(content_type.empty() ? "" : content_type.front());
    auto report = target->ingester->Ingest(response.body, format, timestamp_ms, appender_);
    if (report) {
      scraped = report->samples_scraped;
      post_relabel = report->samples_post_relabel;
      added = report->series_added;
    } else {
      error = report.error().message;
    }
  }
  if (!error.empty()) {
    target->ingester->MarkAllStale(timestamp_ms, appender_);
    log::Debug("scrape failed", {{"job", sc.job_name}, {"url", target->spec.url}, {"err", error}});
  }
  // As Prometheus's scrape_duration_seconds: fetch, parse and append (or the
  // stale markers of a failed scrape), without the report series themselves.
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  AppendReport(*target, timestamp_ms, error.empty(), seconds, scraped, post_relabel, added);
  auto& status = target->status;
  status.scraped = true;
  status.healthy = error.empty();
  status.last_error = error;
  status.last_scrape_ms = timestamp_ms;
  status.last_duration_seconds = seconds;
  status.last_samples = scraped;
}

void ScrapeManager::AppendReport(Target& target, int64_t timestamp_ms, bool up, double seconds,
                                 size_t scraped, size_t post_relabel, size_t added) {
  const double values[] = {up ? 1.0 : 0.0, seconds, static_cast<double>(scraped),
                           static_cast<double>(post_relabel), static_cast<double>(added)};
  for (size_t i = 0; i < kReportSeries.size(); ++i) {
    auto labels = model::LabelsBuilder(target.spec.labels)
                      .Set(model::kMetricName, kReportSeries[i])
                      .Build();
    (void)appender_.Append(labels, timestamp_ms, values[i]);
  }
  target.reported = true;
}

void ScrapeManager::EndSeries(Target& target, int64_t timestamp_ms) {
  target.ingester->MarkAllStale(timestamp_ms, appender_);
  if (!target.reported) return;
  for (auto name : kReportSeries) {
    auto labels = model::LabelsBuilder(target.spec.labels).Set(model::kMetricName, name).Build();
    (void)appender_.Append(labels, timestamp_ms, model::StaleNaN());
  }
}

}  // namespace vigil::scheduler
