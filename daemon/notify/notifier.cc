#include "daemon/notify/notifier.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/model/relabel.h"
#include "daemon/util/log.h"
#include "exporters/common/http_client_config.h"

namespace vigil::notify {

namespace asio = boost::asio;
namespace log = util::log;

namespace {

std::string Rfc3339(int64_t ms) {
  auto seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int millis = static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(seconds), millis);
}

}  // namespace

std::string AlertJson(const ruler::Alert& alert) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& l : alert.labels) labels[l.name] = l.value;
  nlohmann::json annotations = nlohmann::json::object();
  for (const auto& [k, v] : alert.annotations) annotations[k] = v;
  nlohmann::json out = {{"labels", labels},
                        {"annotations", annotations},
                        {"startsAt", Rfc3339(alert.starts_at)},
                        {"endsAt", Rfc3339(alert.ends_at)},
                        {"generatorURL", alert.generator_url}};
  return out.dump();
}

struct Notifier::Alertmanager {
  Alertmanager(asio::io_context& io, std::string url_in, const config::AlertmanagerConfig& cfg,
               size_t capacity, util::Backoff backoff_in)
      : url(std::move(url_in)), config(cfg), capacity(capacity), backoff(std::move(backoff_in)),
        wake(io) {}

  const std::string url;
  config::AlertmanagerConfig config;  // loop thread only
  const size_t capacity;
  util::Backoff backoff;              // loop thread only
  asio::steady_timer wake;            // loop thread only: idle wait and retry delay
  prometheus::Counter* sent = nullptr;
  prometheus::Counter* errors = nullptr;
  prometheus::Counter* dropped = nullptr;
  prometheus::Gauge* queue_length = nullptr;
  prometheus::Histogram* latency = nullptr;

  // Guarded by Notifier::mu_.
  std::deque<Queued> queue;
  bool stopped = false;
  std::string last_error;
  int64_t last_success_ms = 0;
};

Notifier::Notifier(asio::io_context& io, net::HttpClient& http, prometheus::Registry& registry,
                   const util::Clock& clock, NotifierOptions options)
    : io_(io),
      http_(http),
      clock_(clock),
      options_(std::move(options)),
      sent_(prometheus::BuildCounter()
                .Name("vigil_notifications_sent_total")
                .Help("Total number of alerts sent.")
                .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("vigil_notifications_errors_total")
                  .Help("Total number of alerts whose sending failed (each failed attempt).")
                  .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("vigil_notifications_dropped_total")
                   .Help("Total number of alerts dropped because the queue was full.")
                   .Register(registry)),
      queue_length_(prometheus::BuildGauge()
                        .Name("vigil_notifications_queue_length")
                        .Help("The number of alert notifications in the queue.")
                        .Register(registry)),
      queue_capacity_(prometheus::BuildGauge()
                          .Name("vigil_notifications_queue_capacity")
                          .Help("The capacity of the alert notifications queue.")
                          .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("vigil_notifications_latency_seconds")
                   .Help("Latency of sending alert notifications.")
                   .Register(registry)),
      discovered_(prometheus::BuildGauge()
                      .Name("vigil_notifications_alertmanagers_discovered")
                      .Help("The number of alertmanagers discovered and active.")
                      .Register(registry)
                      .Add({})) {
  queue_capacity_.Add({}).Set(static_cast<double>(options_.queue_capacity));
}

Notifier::~Notifier() { Stop(); }

std::vector<std::string> Notifier::ApplyConfig(const config::Config& config) {
  std::vector<std::string> problems;
  std::map<std::string, const config::AlertmanagerConfig*> wanted;
  for (const auto& am : config.alerting.alertmanagers) {
    for (const auto& sc : am.static_configs) {
      for (const auto& target : sc.targets) {
        model::LabelsBuilder builder(sc.labels);
        builder.Set("__address__", target).Set("__scheme__", am.scheme)
            .Set("__alerts_path__", am.path_prefix + "/api/v2/alerts");
        auto relabeled = model::Relabel(builder.Build(), am.relabel_configs);
        if (!relabeled) continue;
        std::string address(relabeled->Get("__address__"));
        if (address.empty()) {
          problems.push_back(fmt::format("alertmanager target {} has no address", target));
          continue;
        }
        std::string path(relabeled->Get("__alerts_path__"));
        if (path.empty() || path.front() != '/') path = "/" + path;
        wanted[fmt::format("{}://{}{}", relabeled->Get("__scheme__"), address, path)] = &am;
      }
    }
  }
  std::lock_guard lock(mu_);
  external_labels_ = config.global.external_labels;
  relabel_ = config.alerting.alert_relabel_configs;
  std::map<std::string, std::shared_ptr<Alertmanager>> next;
  for (const auto& [url, cfg] : wanted) {
    if (auto it = alertmanagers_.find(url); it != alertmanagers_.end()) {
      it->second->config = *cfg;
      next[url] = it->second;
      alertmanagers_.erase(it);
      continue;
    }
    auto am = std::make_shared<Alertmanager>(
        io_, url, *cfg, options_.queue_capacity,
        util::Backoff(options_.min_backoff, options_.max_backoff, std::hash<std::string>{}(url)));
    am->sent = &sent_.Add({{"alertmanager", url}});
    am->errors = &errors_.Add({{"alertmanager", url}});
    am->dropped = &dropped_.Add({{"alertmanager", url}});
    am->queue_length = &queue_length_.Add({{"alertmanager", url}});
    am->latency = &latency_.Add({{"alertmanager", url}},
                                prometheus::Histogram::BucketBoundaries{
                                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    next[url] = am;
    asio::co_spawn(io_, Deliver(am), asio::detached);
  }
  for (auto& [url, removed] : alertmanagers_) {
    removed->stopped = true;
    removed->dropped->Increment(static_cast<double>(removed->queue.size()));
    removed->queue.clear();
    removed->queue_length->Set(0);
    asio::post(io_, [removed] { removed->wake.cancel(); });
  }
  alertmanagers_ = std::move(next);
  discovered_.Set(static_cast<double>(alertmanagers_.size()));
  return problems;
}

void Notifier::Send(const std::vector<ruler::Alert>& alerts) {
  std::lock_guard lock(mu_);
  if (stopped_ || alertmanagers_.empty()) return;
  for (const auto& alert : alerts) {
    model::LabelsBuilder builder(alert.labels);
    for (const auto& l : external_labels_) {
      if (builder.Get(l.name).empty()) builder.Set(l.name, l.value);
    }
    auto labels = model::Relabel(builder.Build(), relabel_);
    if (!labels || labels->empty()) continue;
    ruler::Alert out = alert;
    out.labels = std::move(*labels);
    Queued queued{next_seq_++, AlertJson(out)};
    for (auto& [url, am] : alertmanagers_) {
      if (am->queue.size() >= am->capacity) {
        am->queue.pop_front();
        am->dropped->Increment();
      }
      am->queue.push_back(queued);
      am->queue_length->Set(static_cast<double>(am->queue.size()));
    }
  }
  Wake();
}

void Notifier::Wake() {
  // Called with mu_ held; the timers belong to the loop.
  std::vector<std::shared_ptr<Alertmanager>> targets;
  for (auto& [url, am] : alertmanagers_) targets.push_back(am);
  asio::post(io_, [targets = std::move(targets)] {
    for (const auto& am : targets) {
      if (am->backoff.attempts() == 0) am->wake.cancel();  // a retry keeps its backoff
    }
  });
}

void Notifier::Stop() {
  std::vector<std::shared_ptr<Alertmanager>> all;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [url, am] : alertmanagers_) {
      am->stopped = true;
      all.push_back(am);
    }
  }
  for (auto& am : all) am->wake.cancel();
}

std::vector<AlertmanagerStatus> Notifier::Status() const {
  std::lock_guard lock(mu_);
  std::vector<AlertmanagerStatus> out;
  for (const auto& [url, am] : alertmanagers_) {
    out.push_back(AlertmanagerStatus{url, am->queue.size(), am->capacity, am->last_error,
                                     am->last_success_ms, static_cast<uint64_t>(am->sent->Value()),
                                     static_cast<uint64_t>(am->errors->Value()),
                                     static_cast<uint64_t>(am->dropped->Value())});
  }
  return out;
}

asio::awaitable<void> Notifier::Deliver(std::shared_ptr<Alertmanager> am) {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  for (;;) {
    std::string body;
    uint64_t last_seq = 0;
    size_t count = 0;
    {
      std::lock_guard lock(mu_);
      if (am->stopped) co_return;
      if (!am->queue.empty()) {
        body = "[";
        for (const auto& q : am->queue) {
          if (count == options_.batch_size) break;
          if (count > 0) body += ',';
          body += q.json;
          last_seq = q.seq;
          ++count;
        }
        body += ']';
      }
    }
    if (count == 0) {
      am->wake.expires_at(asio::steady_timer::time_point::max());
      co_await am->wake.async_wait(kTuple);
      continue;
    }
    net::HttpRequest request;
    request.url = am->url;
    request.method = "POST";
    request.body = std::move(body);
    request.timeout = am->config.timeout;
    request.user_agent = options_.user_agent;
    request.headers.emplace_back("Content-Type", "application/json");
    std::string error;
    if (auto applied = exporters::ApplyHttpClientConfig(am->config.http, request); !applied) {
      error = applied.error().message;
    }
    auto started = std::chrono::steady_clock::now();
    if (error.empty()) {
      net::HttpResponse response = co_await http_.Perform(std::move(request));
      if (!response.ok()) {
        error = fmt::format("{}: {}", net::TransferErrorName(response.error),
                            response.error_message);
      } else if (response.status / 100 != 2) {
        error = fmt::format("bad response status {}", response.status);
      }
    }
    am->latency->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    bool retry = false;
    {
      std::lock_guard lock(mu_);
      if (am->stopped) co_return;
      if (error.empty()) {
        size_t delivered = 0;
        while (!am->queue.empty() && am->queue.front().seq <= last_seq) {
          am->queue.pop_front();
          ++delivered;
        }
        am->sent->Increment(static_cast<double>(delivered));
        am->queue_length->Set(static_cast<double>(am->queue.size()));
        am->last_error.clear();
        am->last_success_ms = clock_.NowMillis();
      } else {
        am->errors->Increment(static_cast<double>(count));
        am->last_error = error;
        retry = true;
      }
    }
    if (!retry) {
      am->backoff.Reset();
      continue;
    }
    auto delay = am->backoff.Next();
    log::Warn("error sending alerts, will retry",
              {{"alertmanager", am->url}, {"count", count}, {"err", error},
               {"retry_in_ms", delay.count()}});
    am->wake.expires_after(delay);
    co_await am->wake.async_wait(kTuple);
  }
}

}  // namespace vigil::notify
