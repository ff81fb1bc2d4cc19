// The redis probe kind against a real redis-server (scripts/testenv/redis.sh).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "daemon/config/config.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/prober.h"
#include "exporters/redis/redis_prober.h"
#include "tests/fixtures/redis_fixture.h"

namespace vigil::exporters::redis {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::RedisServer;

std::optional<double> Value(const ProbeResult& r, const std::string& name,
                            const std::string& label = "", const std::string& value = "") {
  for (const auto& f : r.families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool match = label.empty();
      for (const auto& l : m.label) match = match || (l.name == label && l.value == value);
      if (!match) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nullopt;
}

class RedisProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RedisServer::Start();
    ASSERT_TRUE(started) << started.error().message;
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    kinds_.Register(std::make_unique<RedisKind>(pool_));
  }

  // A module "m" with the given `redis:` section (flow YAML) and timeout.
  config::ModuleConfig Module(const std::string& section, const std::string& timeout = "5s") {
    auto loaded = config::LoadString(
        fmt::format("modules:\n  m:\n    prober: redis\n    timeout: {}\n    redis: {}\n", timeout,
                    section),
        "vigil.yml", kinds_.ConfigRegistry());
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().front().ToString());
    return loaded ? loaded->modules.at("m") : config::ModuleConfig{};
  }

  std::unique_ptr<TargetProber> Prober(const config::ModuleConfig& module,
                                       const std::string& target) {
    auto prober = kinds_.Find("redis")->NewTarget(module, target);
    EXPECT_TRUE(prober) << (prober ? "" : prober.error().message);
    return prober ? std::move(*prober) : nullptr;
  }

  // Runs one probe on a fresh loop; `elapsed` is how long Probe() itself took
  // (the loop may run on until a call that outlived its probe comes back).
  ProbeResult Run(TargetProber& prober, milliseconds timeout,
                  steady_clock::duration* elapsed = nullptr) {
    asio::io_context io;
    ProbeResult result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto start = steady_clock::now();
          result = co_await prober.Probe(timeout);
          if (elapsed != nullptr) *elapsed = steady_clock::now() - start;
        },
        asio::detached);
    io.run();
    return result;
  }

  static inline RedisServer* server_ = nullptr;
  util::WorkerPool pool_{2, 8};
  ProbeKindRegistry kinds_;
};

TEST_F(RedisProbeTest, UpWithCoreMetrics) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult r = Run(*prober, milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(r.failure_reason, "");
  EXPECT_EQ(Value(r, "redis_up"), 1);
  EXPECT_GE(Value(r, "redis_connected_clients").value_or(0), 1);
  EXPECT_EQ(Value(r, "redis_blocked_clients"), 0);
  EXPECT_GT(Value(r, "redis_memory_used_bytes").value_or(0), 0);
  EXPECT_EQ(Value(r, "redis_memory_max_bytes"), 0);
  EXPECT_GT(Value(r, "redis_exporter_last_scrape_ping_time_seconds").value_or(0), 0);
  EXPECT_EQ(Value(r, "redis_instance_info", "tcp_port", std::to_string(server_->port())), 1);
  // CONFIG GET databases worked: a zero series for every empty database.
  EXPECT_EQ(Value(r, "redis_db_keys", "db", "db15"), 0);
}

TEST_F(RedisProbeTest, OnePersistentConnection) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult first = Run(*prober, milliseconds(5000));
  ASSERT_TRUE(first.success) << first.failure_reason;
  ProbeResult third;
  for (int i = 0; i < 2; ++i) third = Run(*prober, milliseconds(5000));
  ASSERT_TRUE(third.success) << third.failure_reason;
  EXPECT_EQ(Value(third, "redis_connections_received_total"),
            Value(first, "redis_connections_received_total"));
}

TEST_F(RedisProbeTest, KeysAndCommandCountersFollowTheServer) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult before = Run(*prober, milliseconds(5000));
  ASSERT_TRUE(before.success) << before.failure_reason;
  double sets = Value(before, "redis_commands_total", "cmd", "set").value_or(0);
  double processed = Value(before, "redis_commands_processed_total").value_or(0);
  EXPECT_EQ(Value(before, "redis_db_keys", "db", "db3"), 0);

  auto set = server_->Command(3, {"SET", "vigil:key", "value"});
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(*set, "OK");

  ProbeResult after = Run(*prober, milliseconds(5000));
  ASSERT_TRUE(after.success) << after.failure_reason;
  EXPECT_EQ(Value(after, "redis_db_keys", "db", "db3"), 1);
  EXPECT_EQ(Value(after, "redis_db_keys_expiring", "db", "db3"), 0);
  EXPECT_EQ(Value(after, "redis_commands_total", "cmd", "set"), sets + 1);
  EXPECT_GT(Value(after, "redis_commands_processed_total").value_or(0), processed);
  ASSERT_TRUE(server_->Command(3, {"DEL", "vigil:key"}));
}

TEST_F(RedisProbeTest, AclUserWithPasswordFile) {
  std::string path = ::testing::TempDir() + "/redis_acl_password";
  std::ofstream(path) << RedisServer::kAclPassword << "\n";
  auto prober =
      Prober(Module(fmt::format("{{username: vigil, password_file: {}}}", path)), server_->url());
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(Value(r, "redis_up"), 1);
  EXPECT_EQ(Value(r, "redis_db_keys", "db", "db0"), 0);
  std::remove(path.c_str());
}

TEST_F(RedisProbeTest, CredentialsFromTheTargetUrl) {
  auto prober = Prober(
      Module("{password: wrong}"),
      fmt::format("redis://vigil:{}@127.0.0.1:{}", RedisServer::kAclPassword, server_->port()));
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
}

TEST_F(RedisProbeTest, UnixSocket) {
  auto prober = Prober(Module("{password: vigil-test}"), "unix://" + server_->socket_path());
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(Value(r, "redis_up"), 1);
}

TEST_F(RedisProbeTest, NothingListeningIsAConnectFailure) {
  auto prober = Prober(Module("{password: vigil-test}"), "unix://" + server_->socket_path() + ".x");
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "connect");
  EXPECT_EQ(Value(r, "redis_up"), 0);
}

TEST_F(RedisProbeTest, WrongPasswordIsAnAuthFailure) {
  auto prober = Prober(Module("{password: not-the-password}"), server_->url());
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "auth");
  EXPECT_EQ(Value(r, "redis_up"), 0);
  ASSERT_EQ(r.families.size(), 1u);
}

TEST_F(RedisProbeTest, NoPasswordIsAnAuthFailure) {
  auto prober = Prober(Module("{}"), server_->url());
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "auth");
}

TEST_F(RedisProbeTest, UnreadablePasswordFileIsASecretFailure) {
  std::string path = ::testing::TempDir() + "/redis_rotating_password";
  std::ofstream(path) << RedisServer::kPassword;
  auto prober = Prober(Module(fmt::format("{{password_file: {}}}", path)), server_->url());
  std::remove(path.c_str());  // rotated away after the config was loaded
  ProbeResult r = Run(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "secret");
}

TEST_F(RedisProbeTest, ABlockedServerDoesNotHoldTheProbePastItsTimeout) {
  auto prober =
      Prober(Module("{password: vigil-test, command_timeout: 10s}", "300ms"), server_->url());
  ASSERT_TRUE(Run(*prober, milliseconds(300)).success);  // connected
  auto paused = server_->Command(0, {"CLIENT", "PAUSE", "1500", "ALL"});
  ASSERT_TRUE(paused) << paused.error().message;

  asio::io_context io;
  ProbeResult first, second;
  steady_clock::duration first_took{};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto start = steady_clock::now();
        first = co_await prober->Probe(milliseconds(300));
        first_took = steady_clock::now() - start;
        second = co_await prober->Probe(milliseconds(300));
      },
      asio::detached);
  io.run();  // returns once the blocked call has come back after the pause
  EXPECT_FALSE(first.success);
  EXPECT_EQ(first.failure_reason, "timeout");
  EXPECT_EQ(Value(first, "redis_up"), 0);
  EXPECT_GE(first_took, milliseconds(300));
  EXPECT_LT(first_took, milliseconds(1000));
  EXPECT_EQ(second.failure_reason, "busy");

  ProbeResult later = Run(*prober, milliseconds(300));
  EXPECT_TRUE(later.success) << later.failure_reason;
}

// Last: it stops and restarts the server.
TEST_F(RedisProbeTest, DownThenReconnectsAfterBackoff) {
  auto prober = Prober(
      Module("{password: vigil-test, reconnect_backoff: 2s, reconnect_backoff_max: 2s}", "1s"),
      server_->url());
  ASSERT_TRUE(Run(*prober, milliseconds(1000)).success);

  ASSERT_TRUE(server_->Stop());
  ProbeResult down = Run(*prober, milliseconds(1000));
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.failure_reason, "connect");
  EXPECT_EQ(Value(down, "redis_up"), 0);
  auto failed_at = steady_clock::now();
  ProbeResult again = Run(*prober, milliseconds(1000));  // fails to reconnect: backoff starts
  EXPECT_EQ(again.failure_reason, "connect");

  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  if (steady_clock::now() - failed_at < milliseconds(900)) {
    // Still inside the backoff (at least 1s): no attempt, still down.
    ProbeResult waiting = Run(*prober, milliseconds(1000));
    EXPECT_FALSE(waiting.success);
    EXPECT_EQ(waiting.failure_reason, "connect");
  }
  std::this_thread::sleep_for(milliseconds(2100));
  ProbeResult up = Run(*prober, milliseconds(1000));
  EXPECT_TRUE(up.success) << up.failure_reason;
  EXPECT_EQ(Value(up, "redis_up"), 1);
}

}  // namespace
}  // namespace vigil::exporters::redis
