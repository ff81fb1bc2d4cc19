// The postgres probe kind against a real PostgreSQL 15 (scripts/testenv/postgres.sh).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/probe_result_testing.h"
#include "exporters/common/prober.h"
#include "exporters/postgres/postgres_prober.h"
#include "tests/fixtures/postgres_fixture.h"

namespace vigil::exporters::postgres {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::PostgresServer;

using probe_testing::FindFamily;
using probe_testing::RunProbe;
using probe_testing::SampleValue;

class PostgresProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = PostgresServer::Start();
    ASSERT_TRUE(started) << started.error().message;
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    kinds_.Register(std::make_unique<PostgresKind>(pool_));
  }

  // A module "pg" logging in as the fixture's user, plus `extra` YAML lines
  // (indented for the postgres: section).
  config::ModuleConfig Module(const std::string& extra = "", const std::string& timeout = "5s",
                              const std::string& password = PostgresServer::kPassword) {
    auto loaded = config::LoadString(
        fmt::format("modules:\n  pg:\n    prober: postgres\n    timeout: {}\n    postgres:\n"
                    "      user: vigil\n      password: {}\n      database: test\n{}",
                    timeout, password, extra),
        "vigil.yml", kinds_.ConfigRegistry());
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().front().ToString());
    return loaded ? loaded->modules.at("pg") : config::ModuleConfig{};
  }

  // A prober of `module` for the fixture's server, or for the one on `port`.
  std::unique_ptr<TargetProber> Prober(const config::ModuleConfig& module, int port = 0) {
    auto prober =
        kinds_.Find("postgres")
            ->NewTarget(module, fmt::format("127.0.0.1:{}", port != 0 ? port : server_->port()));
    EXPECT_TRUE(prober) << (prober ? "" : prober.error().message);
    return prober ? std::move(*prober) : nullptr;
  }

  std::string Sql(const std::string& database, const std::string& sql) {
    auto out = server_->Sql(database, sql);
    EXPECT_TRUE(out) << out.error().message;
    return out ? *out : "";
  }

  static inline PostgresServer* server_ = nullptr;
  util::WorkerPool pool_{2, 8};
  ProbeKindRegistry kinds_;
};

TEST_F(PostgresProbeTest, UpWithServerSettingsAndSizes) {
  auto prober = Prober(Module());
  ProbeResult r = RunProbe(*prober, milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  EXPECT_EQ(SampleValue(r, "pg_up"), 1);
  EXPECT_EQ(SampleValue(r, "pg_settings_max_connections"),
            std::stod(Sql("postgres", "SHOW max_connections")));
  EXPECT_EQ(SampleValue(r, "pg_settings_shared_buffers_bytes"),
            std::stod(Sql("postgres",
                          "SELECT setting::bigint * 8192 FROM pg_settings "
                          "WHERE name = 'shared_buffers'")));
  EXPECT_EQ(SampleValue(r, "pg_settings_statement_timeout_seconds"), 5);  // the probe's own session
  EXPECT_GT(SampleValue(r, "pg_database_size_bytes", {{"datname", "test"}}).value_or(0), 0);
  EXPECT_GT(SampleValue(r, "pg_postmaster_start_time_seconds").value_or(0), 1.7e9);
  EXPECT_EQ(SampleValue(r, "pg_replication_is_replica"), 0);
  EXPECT_EQ(SampleValue(r, "pg_replication_lag_seconds"), 0);
  EXPECT_EQ(SampleValue(r, "pg_locks_count", {{"datname", "test"}, {"mode", "sireadlock"}}), 0);
  EXPECT_EQ(FindFamily(r, "pg_locks_count")->metric.size(), 9u * 4u);  // 4 databases x 9 modes
  EXPECT_EQ(FindFamily(r, "pg_stat_activity_count")->metric.size(), 6u * 4u);
  EXPECT_GE(SampleValue(r, "pg_stat_database_numbackends", {{"datname", "test"}}).value_or(0), 1);
  EXPECT_GT(SampleValue(r, "pg_stat_database_xact_commit", {{"datname", "test"}}).value_or(0), 0);
  for (const auto& m : FindFamily(r, "pg_scrape_collector_success")->metric) {
    EXPECT_EQ(m.gauge.value, 1) << m.label[0].value;
  }
}

TEST_F(PostgresProbeTest, ReplicationSeenFromThePrimaryAndItsReplica) {
  auto replica = PostgresServer::StartReplicaOf(*server_);
  ASSERT_TRUE(replica) << replica.error().message;
  // A committed write for the replica to replay, then wait until it has.
  Sql("test",
      "CREATE TABLE IF NOT EXISTS vigil_replicated (x int); "
      "INSERT INTO vigil_replicated VALUES (1)");
  const auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (Sql("postgres",
             "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
             "AND replay_lsn >= pg_current_wal_lsn()") != "1") {
    ASSERT_LT(steady_clock::now(), deadline) << "the replica never caught up";
    std::this_thread::sleep_for(milliseconds(50));
  }

  auto primary_prober = Prober(Module());
  ProbeResult primary = RunProbe(*primary_prober, milliseconds(5000));
  ASSERT_TRUE(primary.success) << primary.failure_reason;
  EXPECT_EQ(SampleValue(primary, "pg_replication_is_replica"), 0);
  EXPECT_EQ(SampleValue(primary, "pg_replication_lag_seconds"), 0);
  // The standby connects over the primary's unix socket: no client address.
  const std::map<std::string, std::string> sender = {{"application_name", "walreceiver"},
                                                     {"client_addr", ""},
                                                     {"state", "streaming"},
                                                     {"slot_name", ""}};
  const double current_lsn =
      std::stod(Sql("postgres", "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')"));
  EXPECT_GT(
      SampleValue(primary, "pg_stat_replication_pg_current_wal_lsn_bytes", sender).value_or(0), 0);
  EXPECT_LE(
      SampleValue(primary, "pg_stat_replication_pg_current_wal_lsn_bytes", sender).value_or(0),
      current_lsn);
  // Caught up, give or take the primary's own background WAL since.
  EXPECT_GE(SampleValue(primary, "pg_stat_replication_pg_wal_lsn_diff", sender).value_or(-1), 0);
  EXPECT_LT(SampleValue(primary, "pg_stat_replication_pg_wal_lsn_diff", sender).value_or(1e9),
            1 << 20);
  EXPECT_EQ(FindFamily(primary, "pg_stat_replication_pg_wal_lsn_diff")->metric.size(), 1u);

  auto replica_prober = Prober(Module(), (*replica)->port());
  ProbeResult standby = RunProbe(*replica_prober, milliseconds(5000));
  ASSERT_TRUE(standby.success) << standby.failure_reason;
  EXPECT_EQ(SampleValue(standby, "pg_up"), 1);
  EXPECT_EQ(SampleValue(standby, "pg_replication_is_replica"), 1);
  EXPECT_GE(SampleValue(standby, "pg_replication_lag_seconds").value_or(-1), 0);
  EXPECT_GE(SampleValue(standby, "pg_replication_last_replay_seconds").value_or(-1), 0);
  EXPECT_LT(SampleValue(standby, "pg_replication_last_replay_seconds").value_or(1e9), 60);
  EXPECT_EQ(FindFamily(standby, "pg_stat_replication_pg_wal_lsn_diff"), nullptr);  // no WAL senders
  for (const auto& m : FindFamily(standby, "pg_scrape_collector_success")->metric) {
    EXPECT_EQ(m.gauge.value, 1) << m.label[0].value;
  }
}

// Every family we emit that postgres_exporter 0.11 also emits has its HELP
// text and type (the reference lines come from its real output, kept in testdata).
TEST_F(PostgresProbeTest, HelpAndTypeMatchPostgresExporter) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) +
                   "/exporters/postgres/testdata/postgres_exporter_0.11_help_type.txt");
  std::map<std::string, std::pair<std::string, std::string>> reference;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string hash, kind, name, rest;
    words >> hash >> kind >> name;
    std::getline(words, rest);
    if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    (kind == "HELP" ? reference[name].first : reference[name].second) = rest;
  }
  ASSERT_GT(reference.size(), 250u);
  ProbeResult r = RunProbe(*Prober(Module()), milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  int compared = 0;
  for (const auto& f : r.families) {
    auto it = reference.find(f.name);
    if (it == reference.end()) continue;
    ++compared;
    EXPECT_EQ(f.help, it->second.first) << f.name;
    std::string type = f.type == prometheus::MetricType::Counter ? "counter" : "gauge";
    EXPECT_EQ(type, it->second.second) << f.name;
  }
  EXPECT_GE(compared, 200);
}

TEST_F(PostgresProbeTest, OnePersistentConnection) {
  const std::string backends =
      "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = 'vigil'";
  auto prober = Prober(Module());
  ASSERT_TRUE(RunProbe(*prober, milliseconds(5000)).success);
  std::string first = Sql("postgres", backends);
  EXPECT_EQ(first.find(','), std::string::npos) << first;  // exactly one backend
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(RunProbe(*prober, milliseconds(5000)).success);
  EXPECT_EQ(Sql("postgres", backends), first);  // the same backend process
}

// Probers built one after another (as /probe builds one per request) take over
// the connection of a destroyed one with the same target and options, but
// never one opened with other credentials.
TEST_F(PostgresProbeTest, DestroyedProbersHandTheirConnectionOn) {
  const std::string backends =
      "SELECT COALESCE(string_agg(pid::text, ','), '') FROM pg_stat_activity "
      "WHERE application_name = 'vigil'";
  std::string first;
  {
    auto prober = Prober(Module());
    ASSERT_TRUE(RunProbe(*prober, milliseconds(5000)).success);
    first = Sql("postgres", backends);
  }
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.find(','), std::string::npos) << first;
  {
    auto prober = Prober(Module());
    ProbeResult r = RunProbe(*prober, milliseconds(5000));
    ASSERT_TRUE(r.success) << r.failure_reason;
    EXPECT_EQ(Sql("postgres", backends), first);  // the same backend process
  }
  ProbeResult wrong = RunProbe(*Prober(Module("", "5s", "not-the-password")), milliseconds(5000));
  EXPECT_EQ(wrong.failure_reason, "auth");
  EXPECT_EQ(SampleValue(wrong, "pg_up"), 0);
  EXPECT_EQ(Sql("postgres", backends), first);  // still idle, kept for the right password

  // A handed-on connection that broke while idle is replaced within the probe.
  EXPECT_EQ(Sql("postgres", "SELECT pg_terminate_backend(" + first + ")"), "t");
  for (int i = 0; i < 50 && Sql("postgres", backends) == first; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ProbeResult after = RunProbe(*Prober(Module()), milliseconds(5000));
  EXPECT_TRUE(after.success) << after.failure_reason;
  EXPECT_EQ(SampleValue(after, "pg_up"), 1);
  std::string second = Sql("postgres", backends);
  EXPECT_FALSE(second.empty());
  EXPECT_NE(second, first);
}

TEST_F(PostgresProbeTest, IdleConnectionsAreCounted) {
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  for (int i = 0; i < 5; ++i)
    idle.push_back(std::make_unique<pqxx::connection>(server_->UserDsn()));
  ProbeResult r = RunProbe(*Prober(Module()), milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  EXPECT_GE(SampleValue(r, "pg_stat_activity_count", {{"datname", "test"}, {"state", "idle"}})
                .value_or(0),
            5);
  EXPECT_GE(SampleValue(r, "pg_stat_database_numbackends", {{"datname", "test"}}).value_or(0), 6);
}

TEST_F(PostgresProbeTest, UserTablesAfterInsertAndAnalyze) {
  Sql("test",
      "DROP TABLE IF EXISTS probe_rows; CREATE TABLE probe_rows (id int PRIMARY KEY); "
      "INSERT INTO probe_rows SELECT generate_series(1, 1234); ANALYZE probe_rows");
  ProbeResult r = RunProbe(*Prober(Module()), milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  std::map<std::string, std::string> table = {
      {"datname", "test"}, {"schemaname", "public"}, {"relname", "probe_rows"}};
  EXPECT_EQ(SampleValue(r, "pg_stat_user_tables_n_live_tup", table), 1234);
  EXPECT_EQ(SampleValue(r, "pg_stat_user_tables_n_dead_tup", table), 0);
  EXPECT_EQ(SampleValue(r, "pg_stat_user_tables_n_tup_ins", table), 1234);
  EXPECT_GT(SampleValue(r, "pg_stat_user_tables_last_analyze", table).value_or(0), 1.7e9);
  EXPECT_EQ(SampleValue(r, "pg_stat_user_tables_last_vacuum", table), 0);
  EXPECT_GT(SampleValue(r, "pg_stat_user_tables_table_size_bytes", table).value_or(0), 0);
  EXPECT_GT(SampleValue(r, "pg_stat_user_tables_index_size_bytes", table).value_or(0), 0);
}

// Settings and sizes are queried once per refresh interval, not per probe: the
// server's own pg_stat_statements counts the statements' executions.
TEST_F(PostgresProbeTest, SettingsAndSizesAreCachedUntilTheirRefresh) {
  auto calls = [&](const std::string& like) {
    return std::stoi(Sql("test",
                         "SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements "
                         "WHERE query LIKE '" +
                             like + "'"));
  };
  const std::string settings_sql = "%short_desc, vartype FROM pg_settings%";
  const std::string sizes_sql = "%pg_database_size(oid) FROM pg_database%";
  const std::string table_sizes_sql = "%pg_table_size(relid), pg_indexes_size(relid)%";
  const int settings_before = calls(settings_sql);
  const int sizes_before = calls(sizes_sql);
  const int table_sizes_before = calls(table_sizes_sql);
  Sql("test", "DROP TABLE IF EXISTS cache_growth");
  std::map<std::string, std::string> growth = {
      {"datname", "test"}, {"schemaname", "public"}, {"relname", "cache_growth"}};

  auto cached = Prober(Module());  // settings_refresh 5m, sizes_refresh 1m
  ProbeResult first = RunProbe(*cached, milliseconds(5000));
  ASSERT_TRUE(first.success) << first.failure_reason;
  Sql("test",
      "CREATE TABLE cache_growth AS SELECT g AS id, md5(g::text) AS body "
      "FROM generate_series(1, 20000) g");
  ProbeResult second = RunProbe(*cached, milliseconds(5000));
  ASSERT_TRUE(second.success) << second.failure_reason;
  ASSERT_TRUE(SampleValue(first, "pg_database_size_bytes", {{"datname", "test"}}));
  EXPECT_EQ(SampleValue(second, "pg_database_size_bytes", {{"datname", "test"}}),
            SampleValue(first, "pg_database_size_bytes", {{"datname", "test"}}));
  EXPECT_EQ(SampleValue(second, "pg_settings_max_connections"),
            std::stod(Sql("postgres", "SHOW max_connections")));
  EXPECT_EQ(SampleValue(second, "pg_scrape_collector_success", {{"collector", "settings"}}), 1);
  // A new table joins pg_stat_user_tables_* with the next size refresh.
  EXPECT_EQ(SampleValue(second, "pg_stat_user_tables_n_live_tup", growth), std::nullopt);
  EXPECT_EQ(calls(settings_sql) - settings_before, 1);
  EXPECT_EQ(calls(sizes_sql) - sizes_before, 1);
  EXPECT_EQ(calls(table_sizes_sql) - table_sizes_before, 1);

  auto uncached = Prober(Module("      settings_refresh: 0s\n      sizes_refresh: 0s\n"));
  ProbeResult a = RunProbe(*uncached, milliseconds(5000));
  ASSERT_TRUE(a.success) << a.failure_reason;
  Sql("test", "INSERT INTO cache_growth SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
  ProbeResult b = RunProbe(*uncached, milliseconds(5000));
  ASSERT_TRUE(b.success) << b.failure_reason;
  EXPECT_GT(SampleValue(b, "pg_database_size_bytes", {{"datname", "test"}}).value_or(0),
            SampleValue(a, "pg_database_size_bytes", {{"datname", "test"}}).value_or(0));
  EXPECT_EQ(SampleValue(b, "pg_stat_user_tables_n_tup_ins", growth), 40000);
  EXPECT_GT(SampleValue(b, "pg_stat_user_tables_table_size_bytes", growth).value_or(0),
            SampleValue(a, "pg_stat_user_tables_table_size_bytes", growth).value_or(0));
  EXPECT_EQ(calls(settings_sql) - settings_before, 3);
  EXPECT_EQ(calls(sizes_sql) - sizes_before, 3);
  EXPECT_EQ(calls(table_sizes_sql) - table_sizes_before, 3);
}

TEST_F(PostgresProbeTest, TopStatementsFromPgStatStatements) {
  for (int i = 0; i < 3; ++i) Sql("test", "SELECT count(*) FROM pg_class");
  ProbeResult r = RunProbe(*Prober(Module("      stat_statements_limit: 3\n")), milliseconds(5000));
  ASSERT_TRUE(r.success) << r.failure_reason;
  const auto* calls = FindFamily(r, "pg_stat_statements_calls_total");
  ASSERT_NE(calls, nullptr);
  EXPECT_EQ(calls->metric.size(), 3u);
  ASSERT_NE(FindFamily(r, "pg_stat_statements_seconds_total"), nullptr);
  ASSERT_NE(FindFamily(r, "pg_stat_statements_mean_seconds"), nullptr);
  EXPECT_EQ(SampleValue(r, "pg_scrape_collector_success", {{"collector", "stat_statements"}}), 1);
}

TEST_F(PostgresProbeTest, CustomQueriesAndReadOnlySessions) {
  ProbeResult r =
      RunProbe(*Prober(Module("      queries:\n"
                              "        app_kinds:\n"
                              "          query: SELECT 'a' AS kind, 3 AS n, 10 AS total UNION ALL "
                              "SELECT 'b', 5, 20\n"
                              "          metrics:\n"
                              "            - kind: {usage: LABEL}\n"
                              "            - n: {usage: GAUGE, description: Things by kind}\n"
                              "            - total: {usage: COUNTER}\n"
                              "        app_writer:\n"
                              "          query: CREATE TABLE vigil_must_not_exist (i int)\n"
                              "          metrics:\n"
                              "            - i: {usage: GAUGE}\n")),
               milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "query");
  EXPECT_EQ(SampleValue(r, "pg_up"), 1);
  EXPECT_EQ(SampleValue(r, "app_kinds_n", {{"kind", "a"}}), 3);
  EXPECT_EQ(SampleValue(r, "app_kinds_n", {{"kind", "b"}}), 5);
  EXPECT_EQ(FindFamily(r, "app_kinds_n")->help, "Things by kind");
  EXPECT_EQ(FindFamily(r, "app_kinds_total")->type, prometheus::MetricType::Counter);
  EXPECT_EQ(SampleValue(r, "pg_scrape_collector_success", {{"collector", "app_kinds"}}), 1);
  EXPECT_EQ(SampleValue(r, "pg_scrape_collector_success", {{"collector", "app_writer"}}), 0);
  EXPECT_EQ(Sql("test", "SELECT count(*) FROM pg_class WHERE relname = 'vigil_must_not_exist'"),
            "0");
}

TEST_F(PostgresProbeTest, CredentialsFromAnOnDemandUrl) {
  auto loaded = config::LoadString("modules:\n  pg:\n    prober: postgres\n", "vigil.yml",
                                   kinds_.ConfigRegistry());
  ASSERT_TRUE(loaded);
  auto prober = kinds_.Find("postgres")
                    ->NewTarget(loaded->modules.at("pg"),
                                fmt::format("postgresql://vigil:{}@127.0.0.1:{}/test",
                                            PostgresServer::kPassword, server_->port()));
  ASSERT_TRUE(prober) << prober.error().message;
  ProbeResult r = RunProbe(**prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  EXPECT_GT(SampleValue(r, "pg_database_size_bytes", {{"datname", "test"}}).value_or(0), 0);
}

TEST_F(PostgresProbeTest, KeywordValueDsnOverTheUnixSocket) {
  auto module = Module(
      "      queries:\n"
      "        whoami:\n"
      "          query: SELECT current_database() AS db, 1 AS connected\n"
      "          metrics:\n"
      "            - db: {usage: LABEL}\n"
      "            - connected: {usage: GAUGE}\n");
  auto prober = kinds_.Find("postgres")
                    ->NewTarget(module, fmt::format("host={} port={} dbname=postgres",
                                                    server_->socket_dir(), server_->port()));
  ASSERT_TRUE(prober) << prober.error().message;
  ProbeResult r = RunProbe(**prober, milliseconds(5000));
  EXPECT_TRUE(r.success) << r.failure_reason;
  // The target's dbname wins over the module's database ("test").
  EXPECT_EQ(SampleValue(r, "whoami_connected", {{"db", "postgres"}}), 1);
  EXPECT_EQ(FindFamily(r, "whoami_connected")->metric.size(), 1u);
}

TEST_F(PostgresProbeTest, WrongPasswordIsAnAuthFailure) {
  ProbeResult r = RunProbe(*Prober(Module("", "5s", "not-the-password")), milliseconds(5000));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "auth");
  EXPECT_EQ(SampleValue(r, "pg_up"), 0);
  EXPECT_EQ(r.families.size(), 1u);
}

TEST_F(PostgresProbeTest, StatementTimeoutCancelsASlowQuery) {
  auto prober =
      Prober(Module("      statement_timeout: 300ms\n"
                    "      queries:\n"
                    "        slow:\n"
                    "          query: SELECT pg_sleep(3) IS NULL AS s\n"
                    "          metrics:\n"
                    "            - s: {usage: GAUGE}\n"));
  steady_clock::duration took{};
  ProbeResult r = RunProbe(*prober, milliseconds(5000), &took);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.failure_reason, "timeout");
  EXPECT_EQ(SampleValue(r, "pg_up"), 1);
  EXPECT_EQ(SampleValue(r, "pg_scrape_collector_success", {{"collector", "slow"}}), 0);
  EXPECT_LT(took, milliseconds(2500));  // pg_sleep(3) was cut short
}

TEST_F(PostgresProbeTest, ProbeDeadlineHoldsWhileAStatementRunsOn) {
  auto prober =
      Prober(Module("      statement_timeout: 10s\n"
                    "      queries:\n"
                    "        slow:\n"
                    "          query: SELECT pg_sleep(2) IS NULL AS s\n"
                    "          metrics:\n"
                    "            - s: {usage: GAUGE}\n",
                    "1s"));
  asio::io_context io;
  ProbeResult first, second;
  steady_clock::duration first_took{};
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto start = steady_clock::now();
        first = co_await prober->Probe(milliseconds(1000));
        first_took = steady_clock::now() - start;
        second = co_await prober->Probe(milliseconds(1000));
      },
      asio::detached);
  io.run();  // returns once the statement has finished on its worker
  EXPECT_EQ(first.failure_reason, "timeout");
  EXPECT_EQ(SampleValue(first, "pg_up"), 0);
  EXPECT_GE(first_took, milliseconds(1000));
  EXPECT_LT(first_took, milliseconds(1500));
  EXPECT_EQ(second.failure_reason, "busy");
}

// Stops and restarts the server (each CTest test runs in its own process and server).
TEST_F(PostgresProbeTest, DownThenReconnectsAfterBackoff) {
  auto prober = Prober(Module("      reconnect_backoff: 2s\n      reconnect_backoff_max: 2s\n"));
  ASSERT_TRUE(RunProbe(*prober, milliseconds(5000)).success);
  ASSERT_TRUE(server_->Stop());
  ProbeResult down = RunProbe(*prober, milliseconds(5000));
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.failure_reason, "connect");
  EXPECT_EQ(SampleValue(down, "pg_up"), 0);
  ProbeResult again = RunProbe(*prober, milliseconds(5000));  // a failed connect: backoff starts
  EXPECT_EQ(again.failure_reason, "connect");
  auto restarted = server_->Restart();
  ASSERT_TRUE(restarted) << restarted.error().message;
  std::this_thread::sleep_for(milliseconds(2100));
  ProbeResult up = RunProbe(*prober, milliseconds(5000));
  EXPECT_TRUE(up.success) << up.failure_reason;
  EXPECT_EQ(SampleValue(up, "pg_up"), 1);
}

}  // namespace
}  // namespace vigil::exporters::postgres
