#include "exporters/postgres/postgres_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/prober.h"
#include "exporters/postgres/postgres_prober.h"

namespace vigil::exporters::postgres {
namespace {

using Lines = std::vector<std::string>;

class PostgresOptionsTest : public ::testing::Test {
 protected:
  PostgresOptionsTest() { kinds_.Register(std::make_unique<PostgresKind>(pool_)); }

  config::Checked<config::Config> Load(std::string_view yaml) {
    return config::LoadString(yaml, "vigil.yml", kinds_.ConfigRegistry());
  }

  Lines ErrorsOf(std::string_view yaml) {
    auto loaded = Load(yaml);
    if (loaded) return {"<loaded>"};
    Lines out;
    for (const config::ConfigError& e : loaded.error()) out.push_back(e.ToString());
    return out;
  }

  const PostgresOptions& OptionsOf(const config::Config& config) {
    return dynamic_cast<const PostgresOptions&>(*config.modules.at("pg").options);
  }

  util::WorkerPool pool_{1, 4};
  ProbeKindRegistry kinds_;
};

TEST_F(PostgresOptionsTest, Defaults) {
  auto loaded = Load("modules:\n  pg:\n    prober: postgres\n");
  ASSERT_TRUE(loaded);
  const PostgresOptions& o = OptionsOf(*loaded);
  EXPECT_EQ(o.user, "");
  EXPECT_TRUE(o.password.Empty());
  EXPECT_EQ(o.database, "");
  EXPECT_EQ(o.sslmode, "");
  EXPECT_EQ(o.connect_timeout.count(), 0);
  EXPECT_EQ(o.statement_timeout.count(), 0);
  EXPECT_EQ(o.reconnect_backoff.count(), 1000);
  EXPECT_EQ(o.reconnect_backoff_max.count(), 60000);
  EXPECT_EQ(o.stat_statements_limit, 20u);
  EXPECT_EQ(o.user_tables_limit, 1000u);
  EXPECT_EQ(o.settings_refresh.count(), 300000);
  EXPECT_EQ(o.sizes_refresh.count(), 60000);
  EXPECT_TRUE(o.queries.empty());
}

TEST_F(PostgresOptionsTest, AllFieldsAndCustomQueries) {
  auto loaded = Load(
      "modules:\n"
      "  pg:\n"
      "    prober: postgres\n"
      "    postgres:\n"
      "      user: vigil\n"
      "      password: pw\n"
      "      database: app\n"
      "      sslmode: require\n"
      "      connect_timeout: 3s\n"
      "      statement_timeout: 1500ms\n"
      "      stat_statements_limit: 5\n"
      "      user_tables_limit: 50\n"
      "      settings_refresh: 0s\n"
      "      sizes_refresh: 90s\n"
      "      queries:\n"
      "        pg_orders:\n"
      "          query: SELECT status, count(*) AS n FROM orders GROUP BY status\n"
      "          metrics:\n"
      "            - status: {usage: LABEL, description: Order status}\n"
      "            - n: {usage: GAUGE, description: Orders by status}\n"
      "        app_events:\n"
      "          query: SELECT total FROM events\n"
      "          metrics:\n"
      "            - total: {usage: COUNTER}\n");
  ASSERT_TRUE(loaded) << loaded.error().front().ToString();
  const PostgresOptions& o = OptionsOf(*loaded);
  EXPECT_EQ(o.user, "vigil");
  EXPECT_EQ(o.password.Resolve().value(), "pw");
  EXPECT_EQ(o.database, "app");
  EXPECT_EQ(o.sslmode, "require");
  EXPECT_EQ(o.connect_timeout.count(), 3000);
  EXPECT_EQ(o.statement_timeout.count(), 1500);
  EXPECT_EQ(o.stat_statements_limit, 5u);
  EXPECT_EQ(o.user_tables_limit, 50u);
  EXPECT_EQ(o.settings_refresh.count(), 0);
  EXPECT_EQ(o.sizes_refresh.count(), 90000);
  ASSERT_EQ(o.queries.size(), 2u);
  EXPECT_EQ(o.queries[0].name, "app_events");  // sorted by name
  EXPECT_EQ(o.queries[1].name, "pg_orders");
  EXPECT_EQ(o.queries[1].query, "SELECT status, count(*) AS n FROM orders GROUP BY status");
  ASSERT_EQ(o.queries[1].columns.size(), 2u);
  EXPECT_EQ(o.queries[1].columns[0].name, "status");
  EXPECT_EQ(o.queries[1].columns[0].usage, ColumnUsage::kLabel);
  EXPECT_EQ(o.queries[1].columns[1].usage, ColumnUsage::kGauge);
  EXPECT_EQ(o.queries[1].columns[1].description, "Orders by status");
  EXPECT_EQ(o.queries[0].columns[0].usage, ColumnUsage::kCounter);

  YAML::Emitter out;
  o.EmitYaml(out);
  std::string shown = out.c_str();
  EXPECT_EQ(shown.find("pw\n"), std::string::npos);
  EXPECT_NE(shown.find("password: <secret>"), std::string::npos);
  EXPECT_NE(shown.find("settings_refresh: 0s\n"), std::string::npos) << shown;
  EXPECT_NE(shown.find("sizes_refresh: 1m30s\n"), std::string::npos) << shown;
  EXPECT_NE(shown.find("- n: {usage: GAUGE, description: Orders by status}"), std::string::npos)
      << shown;
}

TEST_F(PostgresOptionsTest, Errors) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  pg:\n"
                     "    prober: postgres\n"
                     "    postgres:\n"
                     "      usr: vigil\n"
                     "      sslmode: sometimes\n"
                     "      statement_timeout: 2 seconds\n"
                     "      stat_statements_limit: -1\n"),
            (Lines{"vigil.yml:5:7: unknown field \"usr\" in postgres prober",
                   "vigil.yml:6:16: invalid sslmode \"sometimes\" (want disable, allow, prefer, "
                   "require, verify-ca or verify-full)",
                   "vigil.yml:7:26: not a valid duration string: \"2 seconds\"",
                   "vigil.yml:8:30: expected a non-negative integer, got \"-1\""}));
}

TEST_F(PostgresOptionsTest, CustomQueryErrors) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  pg:\n"
                     "    prober: postgres\n"
                     "    postgres:\n"
                     "      queries:\n"
                     "        9bad:\n"
                     "          query: SELECT 1 AS x\n"
                     "          metrics:\n"
                     "            - x: {usage: HISTOGRAM}\n"
                     "        no_values:\n"
                     "          metrics:\n"
                     "            - a: {usage: LABEL, descr: typo}\n"),
            (Lines{"vigil.yml:6:9: \"9bad\" is not a valid metric name",
                   "vigil.yml:9:26: unsupported usage \"HISTOGRAM\" (want LABEL, GAUGE, COUNTER "
                   "or DISCARD)",
                   "vigil.yml:11:11: missing required field \"query\" in custom query "
                   "\"no_values\"",
                   "vigil.yml:12:13: custom query \"no_values\" has no GAUGE or COUNTER column",
                   "vigil.yml:12:33: unknown field \"descr\" in column \"a\" of custom query "
                   "\"no_values\""}));
}

TEST_F(PostgresOptionsTest, NewTargetRejectsBadTargets) {
  auto loaded = Load("modules:\n  pg:\n    prober: postgres\n");
  ASSERT_TRUE(loaded);
  ProbeKind* kind = kinds_.Find("postgres");
  ASSERT_NE(kind, nullptr);
  EXPECT_TRUE(kind->NewTarget(loaded->modules.at("pg"), "postgresql://vigil@127.0.0.1:5432/db"));
  EXPECT_EQ(kind->NewTarget(loaded->modules.at("pg"), "mysql://h").error().message,
            "unsupported scheme \"mysql\" in postgres target (want postgresql://)");
}

}  // namespace
}  // namespace vigil::exporters::postgres
