#include "exporters/postgres/postgres_prober.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <poll.h>
#include <pqxx/connection>
#include <pqxx/except>
#include <utility>
#include <vector>

#include "daemon/util/backoff.h"
#include "daemon/util/log.h"
#include "exporters/common/family_set.h"
#include "exporters/common/worker_call_gate.h"
#include "exporters/postgres/collectors.h"
#include "exporters/postgres/postgres_options.h"
#include "exporters/postgres/postgres_target.h"

namespace vigil::exporters::postgres {

// The connection of one target. Touched only by the worker running the
// target's current call (Session::busy hands it over between threads).
struct Session {
  std::atomic<bool> busy{false};
  std::unique_ptr<pqxx::connection> connection;
  CollectorCache cache;  // belongs to `connection`
};

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What a probe needs to connect and collect; built once per target. Immutable.
struct Settings {
  ConnParams params;        // libpq keywords, with the target's password if it had one
  config::Secret password;  // the module's; used when params has no "password"
  std::string display;      // host:port/dbname
  std::shared_ptr<const PostgresOptions> options;
  std::string session_key;  // equal for targets that may share a connection
};

// What one call on a worker found.
struct Outcome {
  bool connected = false;                          // pg_up; see WorkerCallGate
  std::string reason;                              // "" on success
  std::string message;                             // detail for the debug log
  bool connect_failed = false;                     // drives the reconnect backoff
  std::vector<prometheus::MetricFamily> families;  // when up
};

std::string ConnectReason(std::string_view message) {
  for (std::string_view auth :
       {"password authentication failed", "no password supplied", "authentication failed",
        "pg_hba.conf rejects", "no pg_hba.conf entry"}) {
    if (message.find(auth) != std::string_view::npos) return "auth";
  }
  if (message.find("timeout expired") != std::string_view::npos) return "timeout";
  return "connect";
}

std::optional<Outcome> Connect(Session& session, const Settings& settings) {
  ConnParams params = settings.params;
  if (!params.contains("password")) {
    auto password = settings.password.Resolve();
    if (!password) return Outcome{false, "secret", password.error().message, true, {}};
    if (!password->empty()) params["password"] = *password;
  }
  session.cache = {};
  try {
    session.connection = std::make_unique<pqxx::connection>(BuildConnInfo(params));
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Outcome{false, ConnectReason(message), std::move(message), true, {}};
  }
  return std::nullopt;
}

// Whether an idle connection can still be used. The server rarely sends
// anything unasked on an idle connection (Vigil never LISTENs), so anything
// readable is taken to mean it is going away: a FATAL "terminating
// connection" message, EOF or a socket error (a ParameterStatus after a
// configuration reload only costs a reconnect). Checked without blocking, so
// a dead connection is replaced before a query is sent on it (libpqxx 6.4
// also leaks the PGresult of a query that fails on a broken connection).
bool StillUsable(const pqxx::connection& connection) {
  if (!connection.is_open()) return false;
  pollfd idle{connection.sock(), POLLIN, 0};
  return ::poll(&idle, 1, 0) == 0;
}

// Runs on a worker.
Outcome ProbeOnWorker(Session& session, const Settings& settings) {
  bool reused = session.connection != nullptr && StillUsable(*session.connection);
  if (!reused) {
    session.connection.reset();
    if (auto failed = Connect(session, settings)) return std::move(*failed);
  }
  Collection collection =
      Collect(*session.connection, *settings.options, session.cache, steady_clock::now());
  if (collection.reason == "connect" && reused) {
    // The connection broke while idle (the server restarted, or the backend
    // was terminated): one more try on a new one.
    session.connection.reset();
    if (auto failed = Connect(session, settings)) return std::move(*failed);
    collection =
        Collect(*session.connection, *settings.options, session.cache, steady_clock::now());
  }
  if (collection.reason == "connect") {
    session.connection.reset();
    return Outcome{false, "connect", std::move(collection.message), false, {}};
  }
  Outcome outcome{true, std::move(collection.reason), std::move(collection.message), false,
                  std::move(collection.families)};
  FamilySet up;
  up.Add("pg_up",
         "Whether the last scrape of metrics from PostgreSQL was able to connect to the server "
         "(1 for yes, 0 for no).",
         prometheus::MetricType::Gauge, 1);
  for (auto& family : up.Take()) outcome.families.push_back(std::move(family));
  return outcome;
}

std::vector<prometheus::MetricFamily> DownFamilies() {
  FamilySet set;
  set.Add("pg_up",
          "Whether the last scrape of metrics from PostgreSQL was able to connect to the server "
          "(1 for yes, 0 for no).",
          prometheus::MetricType::Gauge, 0);
  return set.Take();
}

// At most 4 idle sessions of destroyed probers, each for at most 1 minute.
constexpr size_t kMaxIdleSessions = 4;
constexpr std::chrono::seconds kMaxIdleTime{60};

class PostgresTargetProber final : public TargetProber {
 public:
  PostgresTargetProber(util::WorkerPool& pool,
                       std::shared_ptr<IdleConnectionPool<Session>> sessions,
                       std::shared_ptr<const Settings> settings, uint64_t seed)
      : pool_(pool),
        sessions_(std::move(sessions)),
        settings_(std::move(settings)),
        session_(sessions_->TakeOrCreate(settings_->session_key)),
        gate_(util::Backoff(settings_->options->reconnect_backoff,
                            settings_->options->reconnect_backoff_max, seed)) {}

  // Hands the connection on when it is still usable and no call is using it.
  ~PostgresTargetProber() override {
    if (!session_->busy.load() && session_->connection != nullptr &&
        StillUsable(*session_->connection)) {
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
      return ProbeOnWorker(*session, *settings);
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
    }
    result.success = outcome->reason.empty();
    if (outcome->connected) result.families = std::move(outcome->families);
    co_return result;
  }

 private:
  void Log(const std::string& message) const {
    util::log::Debug("postgres probe failed", {{"target", settings_->display}, {"error", message}});
  }

  util::WorkerPool& pool_;
  std::shared_ptr<IdleConnectionPool<Session>> sessions_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<Session> session_;
  WorkerCallGate gate_;
};

}  // namespace

PostgresKind::PostgresKind(util::WorkerPool& pool)
    : pool_(pool),
      sessions_(std::make_shared<IdleConnectionPool<Session>>(kMaxIdleSessions, kMaxIdleTime)) {}

PostgresKind::~PostgresKind() = default;

std::shared_ptr<const config::ProberOptions> PostgresKind::ParseOptions(
    const YAML::Node& options, config::YamlErrorSink& errors) const {
  return ParsePostgresOptions(options, errors);
}

util::Result<std::unique_ptr<TargetProber>> PostgresKind::NewTarget(
    const config::ModuleConfig& module, const std::string& target) {
  auto options = std::dynamic_pointer_cast<const PostgresOptions>(module.options);
  if (options == nullptr) {
    return util::Fail("module \"{}\" has no postgres options", module.name);
  }
  auto params = ParsePostgresTarget(target);
  if (!params) return tl::unexpected(params.error());
  auto settings = std::make_shared<Settings>();
  settings->params = std::move(*params);
  settings->options = options;
  settings->password = options->password;  // unless the target carries one (Connect)
  ConnParams& p = settings->params;
  if (!options->user.empty()) p.try_emplace("user", options->user);
  if (!options->database.empty()) p.try_emplace("dbname", options->database);
  if (!options->sslmode.empty()) p.try_emplace("sslmode", options->sslmode);
  milliseconds connect_timeout =
      options->connect_timeout.count() > 0 ? options->connect_timeout : module.timeout;
  milliseconds statement_timeout =
      options->statement_timeout.count() > 0 ? options->statement_timeout : module.timeout;
  // libpq takes whole seconds and treats 1 as 2.
  p["connect_timeout"] =
      std::to_string(std::max<int64_t>(2, (connect_timeout.count() + 999) / 1000));
  std::string session_options = fmt::format(
      "-c statement_timeout={} -c default_transaction_read_only=on", statement_timeout.count());
  auto existing = p.find("options");
  p["options"] = existing == p.end() ? session_options : existing->second + " " + session_options;
  p.try_emplace("application_name", "vigil");
  settings->display = DisplayName(p);
  // Same connection parameters (a target's password included) and the same
  // options as written (a password file or variable by name).
  YAML::Emitter rendered;
  options->EmitYaml(rendered);
  settings->session_key = BuildConnInfo(p) + "\n" + rendered.c_str();
  if (options->password.source() == config::Secret::Source::kInline) {
    // Rendered as "<secret>": two modules differing only in it must not share.
    auto password = options->password.Resolve();
    settings->session_key += std::to_string(std::hash<std::string>{}(password ? *password : ""));
  }
  uint64_t seed = std::hash<std::string>{}(target);
  return std::make_unique<PostgresTargetProber>(pool_, sessions_, std::move(settings), seed);
}

}  // namespace vigil::exporters::postgres
