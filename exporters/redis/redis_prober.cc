#include "exporters/redis/redis_prober.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>

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
  milliseconds connect_timeout{0};
  milliseconds command_timeout{0};
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, ContextDeleter>;

// The connection of one target. Touched only by the worker running the
// target's current call (Session::busy hands it over between threads).
struct Connection {
  Context context;
  int databases = 0;  // from CONFIG GET databases; 0 = unknown
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

timeval ToTimeval(milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string IoReason(const redisContext& context) {
  std::string_view text = context.errstr;
  if (text.find("timed out") != std::string_view::npos ||
      text.find("temporarily unavailable") != std::string_view::npos) {
    return "timeout";
  }
  return "connect";
}

Reply Command(redisContext& context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

// A failed outcome that also drops the connection, whose state is unknown now.
Outcome Drop(Connection& connection, std::string reason, std::string message, bool connect_failed) {
  connection.context.reset();
  return Outcome{std::move(reason), std::move(message), connect_failed, {}};
}

std::optional<Outcome> Connect(Connection& connection, const Settings& settings) {
  auto password = settings.password.Resolve();
  if (!password) return Outcome{"secret", password.error().message, true, {}};
  timeval connect_tv = ToTimeval(settings.connect_timeout);
  Context context(settings.address.is_unix()
                      ? redisConnectUnixWithTimeout(settings.address.unix_path.c_str(), connect_tv)
                      : redisConnectWithTimeout(settings.address.host.c_str(),
                                                settings.address.port, connect_tv));
  if (context == nullptr) return Outcome{"connect", "cannot allocate a redis context", true, {}};
  if (context->err != 0) return Outcome{IoReason(*context), context->errstr, true, {}};
  if (redisSetTimeout(context.get(), ToTimeval(settings.command_timeout)) != REDIS_OK) {
    return Outcome{"connect", context->errstr, true, {}};
  }
  if (!password->empty() || !settings.username.empty()) {
    std::vector<std::string> args = {"AUTH"};
    if (!settings.username.empty()) args.push_back(settings.username);
    args.push_back(*password);
    Reply reply = Command(*context, args);
    if (reply == nullptr) return Outcome{IoReason(*context), context->errstr, true, {}};
    if (reply->type == REDIS_REPLY_ERROR) return Outcome{"auth", reply->str, true, {}};
  }
  connection.databases = 0;
  Reply databases = Command(*context, {"CONFIG", "GET", "databases"});
  if (databases == nullptr) return Outcome{IoReason(*context), context->errstr, true, {}};
  if (databases->type == REDIS_REPLY_ARRAY && databases->elements == 2 &&
      databases->element[1]->type == REDIS_REPLY_STRING) {
    std::string_view text(databases->element[1]->str, databases->element[1]->len);
    std::from_chars(text.data(), text.data() + text.size(), connection.databases);
  }
  connection.context = std::move(context);
  return std::nullopt;
}

// Runs on a worker.
Outcome ProbeOnWorker(Connection& connection, const Settings& settings) {
  if (connection.context == nullptr) {
    if (auto failed = Connect(connection, settings)) return std::move(*failed);
  }
  redisContext& context = *connection.context;

  auto ping_start = steady_clock::now();
  Reply pong = Command(context, {"PING"});
  double ping_seconds = std::chrono::duration<double>(steady_clock::now() - ping_start).count();
  if (pong == nullptr) return Drop(connection, IoReason(context), context.errstr, false);
  if (pong->type == REDIS_REPLY_ERROR) {
    std::string error(pong->str, pong->len);
    bool auth = error.starts_with("NOAUTH") || error.starts_with("WRONGPASS");
    return Drop(connection, auth ? "auth" : "command", "PING: " + error, auth);
  }

  Reply info = Command(context, {"INFO", "ALL"});
  if (info == nullptr) return Drop(connection, IoReason(context), context.errstr, false);
  if (info->type != REDIS_REPLY_STRING && info->type != REDIS_REPLY_STATUS) {
    std::string error = info->type == REDIS_REPLY_ERROR ? std::string(info->str, info->len)
                                                        : "unexpected reply type";
    return Outcome{"command", "INFO ALL: " + error, false, {}};
  }

  Outcome outcome;
  outcome.families =
      InfoToFamilies(ParseInfo(std::string_view(info->str, info->len)), connection.databases);
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
  settings->connect_timeout =
      options->connect_timeout.count() > 0 ? options->connect_timeout : module.timeout;
  settings->command_timeout =
      options->command_timeout.count() > 0 ? options->command_timeout : module.timeout;
  uint64_t seed = std::hash<std::string>{}(target);
  return std::make_unique<RedisTargetProber>(pool_, std::move(settings), *options, seed);
}

}  // namespace vigil::exporters::redis
