#include "exporters/redis/redis_prober.h"

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "daemon/util/backoff.h"
#include "daemon/util/log.h"
#include "daemon/util/run_within.h"
#include "exporters/common/family_set.h"
#include "exporters/redis/info.h"
#include "exporters/redis/redis_connection.h"
#include "exporters/redis/redis_options.h"
#include "exporters/redis/redis_target.h"

namespace vigil::exporters::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What a probe needs to connect; built once per target. Immutable.
struct Settings {
  RedisAddress address;
  std::string username;
  config::Secret password;  // the URL's password, inline, wins over the module's
  config::TlsConfig tls;    // used for rediss:// targets
  milliseconds connect_timeout{0};
  milliseconds command_timeout{0};
};

// The connection of one target. Touched only by the worker running the
// target's current call (Session::busy hands it over between threads).
struct Connection {
  std::unique_ptr<RedisConnection> link;  // null = not connected
  int databases = 0;                      // from CONFIG GET databases; 0 = unknown
};

// Shared by a prober and its calls in flight, which may outlive it.
struct Session {
  std::atomic<bool> busy{false};
  Connection connection;
};

// What one call on a worker found.
struct Outcome {
  std::string reason;                              // "" on success
  std::string message;                             // detail for the debug log
  bool connect_failed = false;                     // drives the reconnect backoff
  std::vector<prometheus::MetricFamily> families;  // on success
};

Outcome IoFailure(const RedisIoError& error, bool connect_failed) {
  std::string reason = error.kind == RedisIoError::Kind::kTimeout ? "timeout"
                       : error.kind == RedisIoError::Kind::kTls   ? "tls"
                                                                  : "connect";
  return Outcome{std::move(reason), error.message, connect_failed, {}};
}

// A failed outcome that also drops the connection, whose state is unknown now.
Outcome Drop(Connection& connection, Outcome outcome) {
  connection.link.reset();
  return outcome;
}

// Connects, then sends AUTH (when there are credentials) and CONFIG GET
// databases pipelined in one round trip.
std::optional<Outcome> Connect(Connection& connection, const Settings& settings) {
  auto password = settings.password.Resolve();
  if (!password) return Outcome{"secret", password.error().message, true, {}};
  auto link = RedisConnection::Open(settings.address, settings.tls,
                                    steady_clock::now() + settings.connect_timeout);
  if (!link) return IoFailure(link.error(), true);
  std::vector<RedisCommand> commands;
  bool auth = !password->empty() || !settings.username.empty();
  if (auth) {
    RedisCommand command = {"AUTH"};
    if (!settings.username.empty()) command.push_back(settings.username);
    command.push_back(*password);
    commands.push_back(std::move(command));
  }
  commands.push_back({"CONFIG", "GET", "databases"});
  auto replies = (*link)->RoundTrip(commands, steady_clock::now() + settings.command_timeout);
  if (!replies) return IoFailure(replies.error(), true);
  if (auth && replies->front().type == RedisReply::Type::kError) {
    return Outcome{"auth", replies->front().text, true, {}};
  }
  connection.databases = 0;
  const RedisReply& databases = replies->back();
  if (databases.type == RedisReply::Type::kArray && databases.elements.size() == 2 &&
      databases.elements[1].type == RedisReply::Type::kString) {
    const std::string& text = databases.elements[1].text;
    std::from_chars(text.data(), text.data() + text.size(), connection.databases);
  }
  connection.link = std::move(*link);
  return std::nullopt;
}

// Runs on a worker: PING alone, so that its round trip is the server's
// latency and not INFO's cost, then INFO ALL.
Outcome ProbeOnWorker(Connection& connection, const Settings& settings) {
  if (connection.link == nullptr) {
    if (auto failed = Connect(connection, settings)) return std::move(*failed);
  }
  RedisConnection& link = *connection.link;

  auto ping_start = steady_clock::now();
  auto pong = link.RoundTrip(std::vector<RedisCommand>{RedisCommand{"PING"}},
                             ping_start + settings.command_timeout);
  double ping_seconds = std::chrono::duration<double>(steady_clock::now() - ping_start).count();
  if (!pong) return Drop(connection, IoFailure(pong.error(), false));
  if (pong->front().type == RedisReply::Type::kError) {
    const std::string& error = pong->front().text;
    bool auth = error.starts_with("NOAUTH") || error.starts_with("WRONGPASS");
    return Drop(connection, Outcome{auth ? "auth" : "command", "PING: " + error, auth, {}});
  }

  auto info = link.RoundTrip(std::vector<RedisCommand>{RedisCommand{"INFO", "ALL"}},
                             steady_clock::now() + settings.command_timeout);
  if (!info) return Drop(connection, IoFailure(info.error(), false));
  const RedisReply& text = info->front();
  if (text.type != RedisReply::Type::kString && text.type != RedisReply::Type::kStatus) {
    std::string error = text.type == RedisReply::Type::kError ? text.text : "unexpected reply type";
    return Outcome{"command", "INFO ALL: " + error, false, {}};
  }

  Outcome outcome;
  outcome.families = InfoToFamilies(ParseInfo(text.text), connection.databases);
  FamilySet extra;
  extra.Add("redis_up", "Information about the Redis instance", prometheus::MetricType::Gauge, 1);
  extra.Add("redis_exporter_last_scrape_ping_time_seconds",
            "exporter_last_scrape_ping_time_seconds metric", prometheus::MetricType::Gauge,
            ping_seconds);
  for (auto& family : extra.Take()) outcome.families.push_back(std::move(family));
  return outcome;
}

std::vector<prometheus::MetricFamily> DownFamilies() {
  FamilySet set;
  set.Add("redis_up", "Information about the Redis instance", prometheus::MetricType::Gauge, 0);
  return set.Take();
}

class RedisTargetProber final : public TargetProber {
 public:
  RedisTargetProber(util::WorkerPool& pool, std::shared_ptr<const Settings> settings,
                    const RedisOptions& options, uint64_t seed)
      : pool_(pool),
        settings_(std::move(settings)),
        session_(std::make_shared<Session>()),
        backoff_(options.reconnect_backoff, options.reconnect_backoff_max, seed) {}

  boost::asio::awaitable<ProbeResult> Probe(milliseconds timeout) override {
    ProbeResult result;
    result.families = DownFamilies();
    auto now = steady_clock::now();
    if (session_->busy.load()) {
      result.failure_reason = "busy";
      Log("the previous probe's call is still running");
      co_return result;
    }
    if (now < retry_at_) {
      result.failure_reason = last_reason_;
      co_return result;
    }
    session_->busy.store(true);
    // A named callable: GCC 12 destroys a capturing lambda temporary inside a
    // co_await expression twice.
    auto work = [session = session_, settings = settings_]() {
      Outcome outcome = ProbeOnWorker(session->connection, *settings);
      session->busy.store(false);
      return outcome;
    };
    auto call = co_await util::RunWithin(pool_, timeout, std::move(work));
    using Status = util::BoundedCall<Outcome>::Status;
    if (call.status == Status::kRejected) {
      session_->busy.store(false);
      result.failure_reason = "busy";
      Log(call.error);
      co_return result;
    }
    if (call.status == Status::kTimedOut) {
      result.failure_reason = "timeout";
      Log(fmt::format("no answer within {}ms", timeout.count()));
      co_return result;
    }
    Outcome& outcome = *call.value;
    if (outcome.connect_failed) {
      retry_at_ = steady_clock::now() + backoff_.Next();
    } else if (outcome.reason.empty()) {
      backoff_.Reset();
    }
    if (!outcome.reason.empty()) {
      last_reason_ = outcome.reason;
      result.failure_reason = outcome.reason;
      Log(outcome.message);
      co_return result;
    }
    result.success = true;
    result.families = std::move(outcome.families);
    co_return result;
  }

 private:
  void Log(const std::string& message) const {
    util::log::Debug("redis probe failed",
                     {{"target", settings_->address.Display()}, {"error", message}});
  }

  util::WorkerPool& pool_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<Session> session_;
  util::Backoff backoff_;
  steady_clock::time_point retry_at_{};
  std::string last_reason_;
};

}  // namespace

std::shared_ptr<const config::ProberOptions> RedisKind::ParseOptions(
    const YAML::Node& options, config::YamlErrorSink& errors) const {
  return ParseRedisOptions(options, errors);
}

util::Result<std::unique_ptr<TargetProber>> RedisKind::NewTarget(const config::ModuleConfig& module,
                                                                 const std::string& target) {
  const auto* options = dynamic_cast<const RedisOptions*>(module.options.get());
  if (options == nullptr) {
    return util::Fail("module \"{}\" has no redis options", module.name);
  }
  auto address = ParseRedisTarget(target);
  if (!address) return tl::unexpected(address.error());
  auto settings = std::make_shared<Settings>();
  settings->username = address->username.empty() ? options->username : address->username;
  settings->password =
      address->password ? config::Secret::Inline(*address->password) : options->password;
  settings->address = std::move(*address);
  settings->address.password.reset();
  settings->tls = options->tls_config;
  settings->connect_timeout =
      options->connect_timeout.count() > 0 ? options->connect_timeout : module.timeout;
  settings->command_timeout =
      options->command_timeout.count() > 0 ? options->command_timeout : module.timeout;
  uint64_t seed = std::hash<std::string>{}(target);
  return std::make_unique<RedisTargetProber>(pool_, std::move(settings), *options, seed);
}

}  // namespace vigil::exporters::redis
