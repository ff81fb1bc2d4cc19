// The redis probe kind against a real redis-server (scripts/testenv/redis.sh),
// over TCP, a unix socket and TLS.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "daemon/config/config.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/probe_result_testing.h"
#include "exporters/common/prober.h"
#include "exporters/redis/redis_connection.h"
#include "exporters/redis/redis_prober.h"
#include "tests/fixtures/db_fixture_util.h"
#include "tests/fixtures/redis_fixture.h"

namespace vigil::exporters::redis {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::RedisServer;

using probe_testing::RunProbe;
using probe_testing::SampleValue;

// Loads modules and runs probes; the suites below add their server.
class RedisKindTest : public ::testing::Test {
 protected:
  RedisKindTest() { kinds_.Register(std::make_unique<RedisKind>(pool_)); }

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

  util::WorkerPool pool_{2, 8};
  ProbeKindRegistry kinds_;
};

class RedisProbeTest : public RedisKindTest {
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

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static inline RedisServer* server_ = nullptr;
};

TEST_F(RedisProbeTest, UpWithCoreMetrics) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(r.failure_reason, "");
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
  EXPECT_GE(SampleValue(r, "redis_connected_clients").value_or(0), 1);
  EXPECT_EQ(SampleValue(r, "redis_blocked_clients"), 0);
  EXPECT_GT(SampleValue(r, "redis_memory_used_bytes").value_or(0), 0);
  EXPECT_EQ(SampleValue(r, "redis_memory_max_bytes"), 0);
  EXPECT_GT(SampleValue(r, "redis_exporter_last_scrape_ping_time_seconds").value_or(0), 0);
  EXPECT_EQ(SampleValue(r, "redis_instance_info", {{"tcp_port", std::to_string(server_->port())}}),
            1);
  // CONFIG GET databases worked: a zero series for every empty database.
  EXPECT_EQ(SampleValue(r, "redis_db_keys", {{"db", "db15"}}), 0);
}

TEST_F(RedisProbeTest, OnePersistentConnection) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult first = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(first.success) << first.failure_reason;
  ProbeResult third;
  for (int i = 0; i < 2; ++i) third = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(third.success) << third.failure_reason;
  EXPECT_EQ(SampleValue(third, "redis_connections_received_total"),
            SampleValue(first, "redis_connections_received_total"));
}

// Probers built one after another (as /probe builds one per request) take over
// the connection of a destroyed one with the same target and options, with
// its database count, but never one opened with other credentials.
TEST_F(RedisProbeTest, DestroyedProbersHandTheirConnectionOn) {
  ProbeResult first =
      RunProbe(*Prober(Module("{password: vigil-test}"), server_->url()), milliseconds(5000));
  ASSERT_TRUE(first.success) << first.failure_reason;
  std::optional<double> received = SampleValue(first, "redis_connections_received_total");
  ASSERT_TRUE(received.has_value());

  ProbeResult second =
      RunProbe(*Prober(Module("{password: vigil-test}"), server_->url()), milliseconds(5000));
  ASSERT_TRUE(second.success) << second.failure_reason;
  EXPECT_EQ(SampleValue(second, "redis_connections_received_total"),
            *received);  // no new connection
  EXPECT_EQ(SampleValue(second, "redis_connected_clients"),
            SampleValue(first, "redis_connected_clients"));
  EXPECT_EQ(SampleValue(second, "redis_db_keys", {{"db", "db15"}}), 0);  // CONFIG GET's, kept

  ProbeResult wrong =
      RunProbe(*Prober(Module("{password: not-the-password}"), server_->url()), milliseconds(5000));
  EXPECT_EQ(wrong.failure_reason, "auth");
  ProbeResult third =
      RunProbe(*Prober(Module("{password: vigil-test}"), server_->url()), milliseconds(5000));
  ASSERT_TRUE(third.success) << third.failure_reason;
  // Only the wrong password's own connection came in between.
  EXPECT_EQ(SampleValue(third, "redis_connections_received_total"), *received + 1);

  // A handed-on connection that the server closed while idle is replaced
  // within the probe.
  auto killed = server_->Command(0, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_GE(std::stoi(*killed), 1) << *killed;
  ProbeResult after =
      RunProbe(*Prober(Module("{password: vigil-test}"), server_->url()), milliseconds(5000));
  EXPECT_TRUE(after.success) << after.failure_reason;
  EXPECT_EQ(SampleValue(after, "redis_up"), 1);
  EXPECT_EQ(SampleValue(after, "redis_db_keys", {{"db", "db15"}}), 0);
  // redis-cli's connection and the new one.
  EXPECT_EQ(SampleValue(after, "redis_connections_received_total"), *received + 3);
}

TEST_F(RedisProbeTest, KeysAndCommandCountersFollowTheServer) {
  auto prober = Prober(Module("{password: vigil-test}"), server_->url());
  ProbeResult before = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(before.success) << before.failure_reason;
  double sets = SampleValue(before, "redis_commands_total", {{"cmd", "set"}}).value_or(0);
  double processed = SampleValue(before, "redis_commands_processed_total").value_or(0);
  EXPECT_EQ(SampleValue(before, "redis_db_keys", {{"db", "db3"}}), 0);

  auto set = server_->Command(3, {"SET", "vigil:key", "value"});
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(*set, "OK");

  ProbeResult after = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(after.success) << after.failure_reason;
  EXPECT_EQ(SampleValue(after, "redis_db_keys", {{"db", "db3"}}), 1);
  EXPECT_EQ(SampleValue(after, "redis_db_keys_expiring", {{"db", "db3"}}), 0);
  EXPECT_EQ(SampleValue(after, "redis_commands_total", {{"cmd", "set"}}), sets + 1);
  EXPECT_GT(SampleValue(after, "redis_commands_processed_total").value_or(0), processed);
  ASSERT_TRUE(server_->Command(3, {"DEL", "vigil:key"}));
}

TEST_F(RedisProbeTest, AclUserWithPasswordFile) {
  std::string path = ::testing::TempDir() + "/redis_acl_password";
  std::ofstream(path) << RedisServer::kAclPassword << "\n";
  auto prober =
      Prober(Module(fmt::format("{{username: vigil, password_file: {}}}", path)), server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
  EXPECT_EQ(SampleValue(r, "redis_db_keys", {{"db", "db0"}}), 0);
  std::remove(path.c_str());
}

TEST_F(RedisProbeTest, CredentialsFromTheTargetUrl) {
  auto prober = Prober(
      Module("{password: wrong}"),
      fmt::format("redis://vigil:{}@127.0.0.1:{}", RedisServer::kAclPassword, server_->port()));
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
}

TEST_F(RedisProbeTest, UnixSocket) {
  auto prober = Prober(Module("{password: vigil-test}"), "unix://" + server_->socket_path());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
}

TEST_F(RedisProbeTest, NothingListeningIsAConnectFailure) {
  auto prober = Prober(Module("{password: vigil-test}"), "unix://" + server_->socket_path() + ".x");
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "connect");
  EXPECT_EQ(SampleValue(r, "redis_up"), 0);
}

TEST_F(RedisProbeTest, WrongPasswordIsAnAuthFailure) {
  auto prober = Prober(Module("{password: not-the-password}"), server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "auth");
  EXPECT_EQ(SampleValue(r, "redis_up"), 0);
  ASSERT_EQ(r.families.size(), 1u);
}

TEST_F(RedisProbeTest, NoPasswordIsAnAuthFailure) {
  auto prober = Prober(Module("{}"), server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "auth");
}

TEST_F(RedisProbeTest, UnreadablePasswordFileIsASecretFailure) {
  std::string path = ::testing::TempDir() + "/redis_rotating_password";
  std::ofstream(path) << RedisServer::kPassword;
  auto prober = Prober(Module(fmt::format("{{password_file: {}}}", path)), server_->url());
  std::remove(path.c_str());  // rotated away after the config was loaded
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "secret");
}

TEST_F(RedisProbeTest, ABlockedServerDoesNotHoldTheProbePastItsTimeout) {
  auto prober =
      Prober(Module("{password: vigil-test, command_timeout: 10s}", "300ms"), server_->url());
  ASSERT_TRUE(RunProbe(*prober, milliseconds(300)).success);  // connected
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
  EXPECT_EQ(SampleValue(first, "redis_up"), 0);
  EXPECT_GE(first_took, milliseconds(300));
  EXPECT_LT(first_took, milliseconds(1000));
  EXPECT_EQ(second.failure_reason, "busy");

  ProbeResult later = RunProbe(*prober, milliseconds(300));
  EXPECT_TRUE(later.success) << later.failure_reason;
}

// Last: it stops and restarts the server.
TEST_F(RedisProbeTest, DownThenReconnectsAfterBackoff) {
  auto prober = Prober(
      Module("{password: vigil-test, reconnect_backoff: 2s, reconnect_backoff_max: 2s}", "1s"),
      server_->url());
  ASSERT_TRUE(RunProbe(*prober, milliseconds(1000)).success);

  ASSERT_TRUE(server_->Stop());
  ProbeResult down = RunProbe(*prober, milliseconds(1000));
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.failure_reason, "connect");
  EXPECT_EQ(SampleValue(down, "redis_up"), 0);
  auto failed_at = steady_clock::now();
  ProbeResult again = RunProbe(*prober, milliseconds(1000));  // fails to reconnect: backoff starts
  EXPECT_EQ(again.failure_reason, "connect");

  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  if (steady_clock::now() - failed_at < milliseconds(900)) {
    // Still inside the backoff (at least 1s): no attempt, still down.
    ProbeResult waiting = RunProbe(*prober, milliseconds(1000));
    EXPECT_FALSE(waiting.success);
    EXPECT_EQ(waiting.failure_reason, "connect");
  }
  std::this_thread::sleep_for(milliseconds(2100));
  ProbeResult up = RunProbe(*prober, milliseconds(1000));
  EXPECT_TRUE(up.success) << up.failure_reason;
  EXPECT_EQ(SampleValue(up, "redis_up"), 1);
}

// A redis-server that speaks TLS only, on a free loopback port, with the test
// CA of `redis.sh start-tls` (tls/ca.pem; tls/other-ca.pem did not sign the
// server's certificate; tls/client.pem a client certificate it signed), which
// requires client certificates when `require_client_certificate`. Same users
// and passwords as RedisServer.
class TlsRedisServer {
 public:
  static util::Result<std::unique_ptr<TlsRedisServer>> Start(bool require_client_certificate) {
    auto dir = vigil::testing::MakeTempDir("vigil-redis-tls");
    if (!dir) return tl::unexpected(dir.error());
    auto port = vigil::testing::FreeLoopbackPort();
    if (!port) return tl::unexpected(port.error());
    std::unique_ptr<TlsRedisServer> server(new TlsRedisServer(*dir, *port));
    auto out = vigil::testing::RunCommand(
        {vigil::testing::SourcePath("scripts/testenv/redis.sh"), "start-tls", *dir,
         std::to_string(*port)},
        {fmt::format("VIGIL_REDIS_PASSWORD={}", RedisServer::kPassword),
         fmt::format("VIGIL_REDIS_ACL_PASSWORD={}", RedisServer::kAclPassword),
         fmt::format("VIGIL_REDIS_TLS_AUTH_CLIENTS={}",
                     require_client_certificate ? "yes" : "no")});
    if (!out) return tl::unexpected(out.error());
    auto pid = vigil::testing::LastLineAsPid(*out);
    if (!pid) return tl::unexpected(pid.error());
    server->pid_ = *pid;
    return server;
  }
  ~TlsRedisServer() {
    if (pid_ != 0) {
      (void)vigil::testing::RunCommand(
          {vigil::testing::SourcePath("scripts/testenv/redis.sh"), "stop", dir_});
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs one command with redis-cli over TLS as the default user.
  util::Result<std::string> Command(int db, const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"redis-cli", "--tls",
                                     "--cacert",  ca_file(),
                                     "--cert",    dir_ + "/tls/client.pem",
                                     "--key",     dir_ + "/tls/client.key",
                                     "-h",        "127.0.0.1",
                                     "-p",        std::to_string(port_),
                                     "-n",        std::to_string(db)};
    argv.insert(argv.end(), args.begin(), args.end());
    auto out =
        vigil::testing::RunCommand(argv, {fmt::format("REDISCLI_AUTH={}", RedisServer::kPassword)});
    if (!out) return out;
    while (!out->empty() && out->back() == '\n') out->pop_back();
    return out;
  }

  int port() const { return port_; }
  int pid() const { return pid_; }
  std::string url() const { return fmt::format("rediss://127.0.0.1:{}", port_); }
  std::string ca_file() const { return dir_ + "/tls/ca.pem"; }
  std::string other_ca_file() const { return dir_ + "/tls/other-ca.pem"; }
  std::string client_cert_file() const { return dir_ + "/tls/client.pem"; }
  std::string client_key_file() const { return dir_ + "/tls/client.key"; }

 private:
  TlsRedisServer(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}

  std::string dir_;
  int port_;
  int pid_ = 0;
};

// One TLS redis-server per suite; kClientAuth: it requires client certificates.
template <bool kClientAuth>
class RedisTlsSuite : public RedisKindTest {
 protected:
  static void SetUpTestSuite() {
    auto started = TlsRedisServer::Start(kClientAuth);
    ASSERT_TRUE(started) << started.error().message;
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static inline TlsRedisServer* server_ = nullptr;
};
using RedisTlsTest = RedisTlsSuite<false>;

TEST_F(RedisTlsTest, UpWithTheServersInfoOverTls) {
  auto set = server_->Command(2, {"SET", "vigil:tls", "1"});
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(*set, "OK");
  auto prober = Prober(Module(fmt::format("{{password: vigil-test, tls_config: {{ca_file: {}}}}}",
                                          server_->ca_file())),
                       server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(r.failure_reason, "");
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
  EXPECT_EQ(SampleValue(r, "redis_instance_info", {{"process_id", std::to_string(server_->pid())}}),
            1);
  EXPECT_EQ(SampleValue(r, "redis_instance_info", {{"tcp_port", std::to_string(server_->port())}}),
            1);
  EXPECT_EQ(SampleValue(r, "redis_db_keys", {{"db", "db2"}}), 1);
  EXPECT_EQ(SampleValue(r, "redis_db_keys", {{"db", "db15"}}), 0);  // CONFIG GET databases worked
  EXPECT_GT(SampleValue(r, "redis_exporter_last_scrape_ping_time_seconds").value_or(0), 0);

  auto sets = SampleValue(r, "redis_commands_total", {{"cmd", "set"}});
  ASSERT_TRUE(sets.has_value());
  ASSERT_TRUE(server_->Command(2, {"DEL", "vigil:tls"}));
  ProbeResult again = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(again.success) << again.failure_reason;
  EXPECT_EQ(SampleValue(again, "redis_db_keys", {{"db", "db2"}}), 0);
  EXPECT_EQ(SampleValue(again, "redis_commands_total", {{"cmd", "del"}}), 1);
  EXPECT_EQ(SampleValue(again, "redis_commands_total", {{"cmd", "set"}}), *sets);
  // The same TLS connection served both probes.
  EXPECT_EQ(SampleValue(again, "redis_connections_received_total"),
            SampleValue(r, "redis_connections_received_total").value_or(0) + 1);  // redis-cli DEL
}

TEST_F(RedisTlsTest, AclUserFromTheUrlAndServerName) {
  auto prober = Prober(
      Module(fmt::format("{{tls_config: {{ca_file: {}, server_name: localhost}}}}",
                         server_->ca_file())),
      fmt::format("rediss://vigil:{}@127.0.0.1:{}", RedisServer::kAclPassword, server_->port()));
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
}

TEST_F(RedisTlsTest, WrongCaIsATlsFailure) {
  auto prober = Prober(Module(fmt::format("{{password: vigil-test, tls_config: {{ca_file: {}}}}}",
                                          server_->other_ca_file())),
                       server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "tls");
  EXPECT_EQ(SampleValue(r, "redis_up"), 0);
  ASSERT_EQ(r.families.size(), 1u);

  // What the debug log says about it.
  RedisAddress address;
  address.host = "127.0.0.1";
  address.port = server_->port();
  address.tls = true;
  config::TlsConfig tls;
  tls.ca_file = server_->other_ca_file();
  auto connection = RedisConnection::Open(address, tls, steady_clock::now() + milliseconds(5000));
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().kind, RedisIoError::Kind::kTls);
  EXPECT_EQ(connection.error().message,
            fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed: "
                        "self-signed certificate in certificate chain",
                        server_->port()));
}

TEST_F(RedisTlsTest, NameMismatchIsATlsFailureUnlessVerificationIsOff) {
  RedisAddress address;
  address.host = "127.0.0.1";
  address.port = server_->port();
  address.tls = true;
  config::TlsConfig tls;
  tls.ca_file = server_->ca_file();
  tls.server_name = "cache.example";
  auto connection = RedisConnection::Open(address, tls, steady_clock::now() + milliseconds(5000));
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().kind, RedisIoError::Kind::kTls);
  EXPECT_EQ(connection.error().message,
            fmt::format("TLS handshake with 127.0.0.1:{} failed: certificate verify failed: "
                        "hostname mismatch",
                        server_->port()));

  auto prober = Prober(
      Module(fmt::format(
          "{{password: vigil-test, tls_config: {{ca_file: {}, server_name: cache.example}}}}",
          server_->ca_file())),
      server_->url());
  EXPECT_EQ(RunProbe(*prober, milliseconds(5000)).failure_reason, "tls");

  auto insecure = Prober(Module("{password: vigil-test, tls_config: {insecure_skip_verify: true}}"),
                         server_->url());
  ProbeResult r = RunProbe(*insecure, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
}

TEST_F(RedisTlsTest, PlainRedisToTheTlsPortIsDown) {
  auto prober = Prober(Module("{password: vigil-test, command_timeout: 1s}"),
                       fmt::format("redis://127.0.0.1:{}", server_->port()));
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "connect");
  EXPECT_EQ(SampleValue(r, "redis_up"), 0);
}

using RedisMutualTlsTest = RedisTlsSuite<true>;

TEST_F(RedisMutualTlsTest, ClientCertificate) {
  auto prober = Prober(Module(fmt::format("{{password: vigil-test, tls_config: {{ca_file: {}, "
                                          "cert_file: {}, key_file: {}}}}}",
                                          server_->ca_file(), server_->client_cert_file(),
                                          server_->client_key_file())),
                       server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(SampleValue(r, "redis_up"), 1);
  EXPECT_EQ(SampleValue(r, "redis_instance_info", {{"process_id", std::to_string(server_->pid())}}),
            1);
}

TEST_F(RedisMutualTlsTest, NoClientCertificateIsATlsFailure) {
  auto prober = Prober(Module(fmt::format("{{password: vigil-test, tls_config: {{ca_file: {}}}}}",
                                          server_->ca_file())),
                       server_->url());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "tls");
  EXPECT_EQ(SampleValue(r, "redis_up"), 0);

  // TLS 1.3: the client's handshake ends before the server checks; its alert
  // comes before the first reply, or resets the first write.
  RedisAddress address;
  address.host = "127.0.0.1";
  address.port = server_->port();
  address.tls = true;
  config::TlsConfig tls;
  tls.ca_file = server_->ca_file();
  auto connection = RedisConnection::Open(address, tls, steady_clock::now() + milliseconds(5000));
  ASSERT_TRUE(connection) << connection.error().message;
  auto replies = (*connection)->RoundTrip({{"PING"}}, steady_clock::now() + milliseconds(5000));
  ASSERT_FALSE(replies);
  EXPECT_EQ(replies.error().kind, RedisIoError::Kind::kTls);
  EXPECT_THAT(replies.error().message,
              ::testing::AnyOf(
                  fmt::format("read from 127.0.0.1:{} failed: tlsv13 alert certificate required",
                              server_->port()),
                  fmt::format("write to 127.0.0.1:{} failed: tlsv13 alert certificate required",
                              server_->port())));
}

}  // namespace
}  // namespace vigil::exporters::redis
