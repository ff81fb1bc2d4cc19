#include "daemon/notify/notifier.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/model/relabel.h"
#include "daemon/web/http_server.h"

namespace vigil::notify {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// A fake Alertmanager on a loopback port: answers with the scripted status
// codes in turn (then 200) and records every accepted alert's labels.
class FakeAlertmanager {
 public:
  FakeAlertmanager(asio::io_context& io, std::vector<int> statuses)
      : server_(io, web::HttpServerOptions{.listen_address = "127.0.0.1:0"}, registry_),
        statuses_(std::move(statuses)) {
    server_.Handle("/prefix/api/v2/alerts", web::Sync([this](const web::Request& r) {
                     ++posts;
                     int status = next_ < statuses_.size() ? statuses_[next_++] : 200;
                     if (status == 200) {
                       for (const auto& alert : nlohmann::json::parse(r.body)) {
                         received.push_back(alert);
                       }
                     }
                     return web::Response::Text(status, "");
                   }),
                   "POST");
    EXPECT_TRUE(server_.Start().has_value());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }

  int posts = 0;
  std::vector<nlohmann::json> received;

 private:
  prometheus::Registry registry_;
  web::HttpServer server_;
  std::vector<int> statuses_;
  size_t next_ = 0;
};

ruler::Alert MakeAlert(std::string name, std::string severity = "page") {
  ruler::Alert alert;
  alert.labels = model::Labels{{"alertname", name}, {"severity", severity}};
  alert.annotations = {{"summary", name + " is broken"}};
  alert.starts_at = 1'700'000'000'123;
  alert.ends_at = 1'700'000'240'123;
  alert.generator_url = "http://vigil/graph?g0.expr=up";
  return alert;
}

config::Config ConfigFor(const std::vector<std::string>& addresses) {
  config::Config cfg;
  cfg.global.external_labels = model::Labels{{"cluster", "c1"}, {"severity", "external"}};
  config::AlertmanagerConfig am;
  am.path_prefix = "/prefix";
  am.timeout = milliseconds(2000);
  am.static_configs.push_back(config::StaticConfig{addresses, {}});
  cfg.alerting.alertmanagers.push_back(am);
  model::RelabelConfig drop;
  drop.source_labels = {"alertname"};
  drop.regex_text = "Ignored";
  drop.action = model::RelabelAction::kDrop;
  cfg.alerting.alert_relabel_configs.push_back(model::MakeRelabelConfig(drop).value());
  return cfg;
}

void RunUntil(asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(milliseconds(20));
  }
}

double Value(prometheus::Registry& registry, const std::string& name) {
  double sum = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) sum += m.counter.value + m.gauge.value;
  }
  return sum;
}

TEST(AlertJson, MatchesAlertmanagerV2) {
  auto json = nlohmann::json::parse(AlertJson(MakeAlert("Down")));
  EXPECT_EQ(json["labels"]["alertname"], "Down");
  EXPECT_EQ(json["annotations"]["summary"], "Down is broken");
  EXPECT_EQ(json["startsAt"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(json["endsAt"], "2023-11-14T22:17:20.123Z");
  EXPECT_EQ(json["generatorURL"], "http://vigil/graph?g0.expr=up");
}

TEST(Notifier, AddsExternalLabelsRelabelsAndDelivers) {
  asio::io_context io;
  FakeAlertmanager am(io, {});
  net::HttpClient http(io);
  prometheus::Registry registry;
  util::RealClock clock;
  Notifier notifier(io, http, registry, clock);
  ASSERT_TRUE(notifier.ApplyConfig(ConfigFor({am.address()})).empty());
  notifier.Send({MakeAlert("Down"), MakeAlert("Ignored")});
  RunUntil(io, [&] { return am.received.size() >= 1; });
  ASSERT_EQ(am.received.size(), 1u);
  EXPECT_EQ(am.received[0]["labels"]["cluster"], "c1");
  EXPECT_EQ(am.received[0]["labels"]["severity"], "page");  // the alert's own label wins
  EXPECT_EQ(Value(registry, "vigil_notifications_sent_total"), 1);
  EXPECT_EQ(Value(registry, "vigil_notifications_alertmanagers_discovered"), 1);
  notifier.Stop();
}

TEST(Notifier, RetriesAFailedBatchUntilAccepted) {
  asio::io_context io;
  FakeAlertmanager am(io, {500, 503, 500});
  net::HttpClient http(io);
  prometheus::Registry registry;
  util::RealClock clock;
  Notifier notifier(io, http, registry, clock,
                    NotifierOptions{.min_backoff = milliseconds(10), .max_backoff = milliseconds(40)});
  notifier.ApplyConfig(ConfigFor({am.address()}));
  notifier.Send({MakeAlert("A")});
  notifier.Send({MakeAlert("B")});
  RunUntil(io, [&] { return am.received.size() >= 2; });
  ASSERT_EQ(am.received.size(), 2u);
  EXPECT_EQ(am.received[0]["labels"]["alertname"], "A");  // order kept
  EXPECT_EQ(am.received[1]["labels"]["alertname"], "B");
  EXPECT_GE(am.posts, 4);
  EXPECT_GE(Value(registry, "vigil_notifications_errors_total"), 3);
  EXPECT_EQ(Value(registry, "vigil_notifications_sent_total"), 2);
  EXPECT_EQ(Value(registry, "vigil_notifications_dropped_total"), 0);
  auto status = notifier.Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].queue_length, 0u);
  EXPECT_EQ(status[0].last_error, "");
  EXPECT_GT(status[0].last_success_ms, 0);
  notifier.Stop();
}

TEST(Notifier, FullQueueDropsTheOldestAndCountsThem) {
  asio::io_context io;
  net::HttpClient http(io);
  prometheus::Registry registry;
  util::RealClock clock;
  Notifier notifier(io, http, registry, clock,
                    NotifierOptions{.queue_capacity = 3, .min_backoff = milliseconds(10),
                                    .max_backoff = milliseconds(20)});
  // Nothing listens on this port: every POST fails with a connect error.
  notifier.ApplyConfig(ConfigFor({"127.0.0.1:1"}));
  for (int i = 0; i < 5; ++i) notifier.Send({MakeAlert("A" + std::to_string(i))});
  RunUntil(io, [&] { return Value(registry, "vigil_notifications_errors_total") >= 3; });
  auto status = notifier.Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].queue_length, 3u);
  EXPECT_EQ(status[0].dropped, 2u);
  EXPECT_NE(status[0].last_error.find("connect"), std::string::npos) << status[0].last_error;
  EXPECT_EQ(Value(registry, "vigil_notifications_queue_length"), 3);
  notifier.Stop();
}

TEST(Notifier, EachAlertmanagerIsIndependent) {
  asio::io_context io;
  FakeAlertmanager up(io, {});
  net::HttpClient http(io);
  prometheus::Registry registry;
  util::RealClock clock;
  Notifier notifier(io, http, registry, clock,
                    NotifierOptions{.min_backoff = milliseconds(10), .max_backoff = milliseconds(20)});
  notifier.ApplyConfig(ConfigFor({up.address(), "127.0.0.1:1"}));
  notifier.Send({MakeAlert("A")});
  RunUntil(io, [&] { return !up.received.empty(); });
  EXPECT_EQ(up.received.size(), 1u);
  size_t down_queue = 0;
  for (const auto& s : notifier.Status()) {
    if (s.url.find("127.0.0.1:1/") != std::string::npos) down_queue = s.queue_length;
  }
  EXPECT_EQ(down_queue, 1u);  // kept for retry, not lost
  notifier.Stop();
}

}  // namespace
}  // namespace vigil::notify
