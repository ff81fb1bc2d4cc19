#include "exporters/redis/redis_prober.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "daemon/util/backoff.h"
#include "daemon/util/log.h"
#include "exporters/common/family_set.h"
#include "exporters/common/worker_call_gate.h"
#include "exporters/redis/info.h"
#include "exporters/redis/redis_connection.h"
#include "exporters/redis/redis_options.h"
#include "exporters/redis/redis_target.h"

namespace vigil::exporters::redis {

// The connection of one target. Touched only by the worker running the
// target's current call (Session::busy hands it over between threads).
struct Connection {
  std::unique_ptr<RedisConnection> link;  // null = not connected
  int databases = 0;                      // from CONFIG GET databases; 0 = unknown
};

// Shared by a prober and its calls in flight, which may outlive it, and kept
// in the kind's IdleConnectionPool between probers.
struct Session {
  std::atomic<bool> busy{false};
  Connection connection;
};

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// At most 4 idle sessions of destroyed probers, each for at most 1 minute.
constexpr size_t kMaxIdleSessions = 4;
constexpr std::chrono::seconds kMaxIdleTime{60};

// What a probe needs to connect; built once per target. Immutable.
struct Settings {
  RedisAddress address;
  std::string username;
  config::Secret password;  // the URL's password, inline, wins over the module's
  config::TlsConfig tls;    // used for rediss:// targets
  milliseconds connect_timeout{0};
  milliseconds command_timeout{0};
  std::string session_key;  // equal for targets that may share a connection
};

// What one call on a worker found.
struct Outcome {
  std::string reason;                              // "" on success
  std::string message;                             // detail for the debug log
  bool connect_failed = false;                     // drives the reconnect backoff
  std::vector<prometheus::MetricFamily> families;  // on success
  bool connected = false;                          // on success (resets the backoff)
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

// PING alone, so that its round trip is the server's latency and not INFO's
// cost, then INFO ALL, on a connected `connection`. `broken` tells whether the
// PING failed on a closed or reset connection (not a timeout, not an error
// reply).
Outcome Collect(Connection& connection, const Settings& settings, bool& broken) {
  RedisConnection& link = *connection.link;
  auto ping_start = steady_clock::now();
  auto pong = link.RoundTrip(std::vector<RedisCommand>{RedisCommand{"PING"}},
                             ping_start + settings.command_timeout);
  double ping_seconds = std::chrono::duration<double>(steady_clock::now() - ping_start).count();
  broken = !pong && pong.error().kind == RedisIoError::Kind::kConnect;
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
  outcome.connected = true;
  outcome.families = InfoToFamilies(ParseInfo(text.text), connection.databases);
  FamilySet extra;
  extra.Add("redis_up", "Information about the Redis instance", prometheus::MetricType::Gauge, 1);
  extra.Add("redis_exporter_last_scrape_ping_time_seconds",
            "exporter_last_scrape_ping_time_seconds metric", prometheus::MetricType::Gauge,
            ping_seconds);
  for (auto& family : extra.Take()) outcome.families.push_back(std::move(family));
  return outcome;
}

// Runs on a worker.
Outcome ProbeOnWorker(Connection& connection, const Settings& settings) {
  bool reused = connection.link != nullptr;
  if (!reused) {
    if (auto failed = Connect(connection, settings)) return std::move(*failed);
  }
  bool broken = false;
  Outcome outcome = Collect(connection, settings, broken);
  if (broken && reused) {
    // The connection was closed while idle (the server restarted, or its idle
    // `timeout` passed): one more try on a new one.
    if (auto failed = Connect(connection, settings)) return std::move(*failed);
    outcome = Collect(connection, settings, broken);
  }
  return outcome;
}

std::vector<prometheus::MetricFamily> DownFamilies() {
  FamilySet set;
  set.Add("redis_up", "Information about the Redis instance", prometheus::MetricType::Gauge, 0);
  return set.Take();
}

class RedisTargetProber final : public TargetProber {
 public:
  RedisTargetProber(util::WorkerPool& pool, std::shared_ptr<IdleConnectionPool<Session>> sessions,
                    std::shared_ptr<const Settings> settings, const RedisOptions& options,
                    uint64_t seed)
      : pool_(pool),
        sessions_(std::move(sessions)),
        settings_(std::move(settings)),
        session_(sessions_->TakeOrCreate(settings_->session_key)),
        gate_(util::Backoff(options.reconnect_backoff, options.reconnect_backoff_max, seed)) {}

  // Hands the connection on when it is open and no call is using it.
  ~RedisTargetProber() override {
    if (!session_->busy.load() && session_->connection.link != nullptr) {
      sessions_->Give(settings_->session_key, std::move(session_));
    } else {
      sessions_->Expire();
    }
  }

  boost::asio::awaitable<ProbeResult> Probe(milliseconds timeout) override {
    sessions_->Expire();
    ProbeResult result;
    result.families = DownFamilies();
    // A named callable: GCC 12 destroys a capturing lambda temporary inside a
    // co_await expression twice.
    auto work = [session = session_, settings = settings_]() {
      return ProbeOnWorker(session->connection, *settings);
    };
    auto outcome = co_await gate_.Run(pool_, timeout,
                                      std::shared_ptr<std::atomic<bool>>(session_, &session_->busy),
                                      std::move(work));
    if (!outcome) {
      result.failure_reason = outcome.error().reason;
      if (!outcome.error().message.empty()) Log(outcome.error().message);
      co_return result;
    }
    if (!outcome->reason.empty()) {
      result.failure_reason = outcome->reason;
      Log(outcome->message);
      co_return result;
    }
    result.success = true;
    result.families = std::move(outcome->families);
    co_return result;
  }

 private:
  void Log(const std::string& message) const {
    util::log::Debug("redis probe failed",
                     {{"target", settings_->address.Display()}, {"error", message}});
  }

  util::WorkerPool& pool_;
  std::shared_ptr<IdleConnectionPool<Session>> sessions_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<Session> session_;
  WorkerCallGate gate_;
};

}  // namespace

RedisKind::RedisKind(util::WorkerPool& pool)
    : pool_(pool),
      sessions_(std::make_shared<IdleConnectionPool<Session>>(kMaxIdleSessions, kMaxIdleTime)) {}

RedisKind::~RedisKind() = default;

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
  // Same address, user, password (an inline one by hash: Describe() hides it;
  // a file or variable by name) and options as written (tls_config included).
  YAML::Emitter rendered;
  options->EmitYaml(rendered);
  settings->session_key =
      fmt::format("{}://{}\n{}\n{}\n{}", settings->address.tls ? "rediss" : "redis",
                  settings->address.Display(), settings->username, settings->password.Describe(),
                  rendered.c_str());
  if (settings->password.source() == config::Secret::Source::kInline) {
    auto password = settings->password.Resolve();
    settings->session_key +=
        "\n" + std::to_string(std::hash<std::string>{}(password ? *password : ""));
  }
  uint64_t seed = std::hash<std::string>{}(target);
  return std::make_unique<RedisTargetProber>(pool_, sessions_, std::move(settings), *options, seed);
}

}  // namespace vigil::exporters::redis
