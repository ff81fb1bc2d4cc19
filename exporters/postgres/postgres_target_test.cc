#include "exporters/postgres/postgres_target.h"

#include <gtest/gtest.h>

namespace vigil::exporters::postgres {
namespace {

TEST(ParsePostgresTarget, Url) {
  auto p = ParsePostgresTarget("postgresql://vigil:s%40cret@db1.example:6432/app?sslmode=require");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, (ConnParams{{"user", "vigil"},
                            {"password", "s@cret"},
                            {"host", "db1.example"},
                            {"port", "6432"},
                            {"dbname", "app"},
                            {"sslmode", "require"}}));
  EXPECT_EQ(DisplayName(*p), "db1.example:6432/app");
}

TEST(ParsePostgresTarget, ShortSchemeAndDefaults) {
  auto p = ParsePostgresTarget("postgres://monitor@127.0.0.1");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, (ConnParams{{"user", "monitor"}, {"host", "127.0.0.1"}}));
  EXPECT_EQ(DisplayName(*p), "127.0.0.1:5432/monitor");
}

TEST(ParsePostgresTarget, KeywordValueDsn) {
  auto p = ParsePostgresTarget("host=/run/postgresql port=5433 dbname='my db' user=vigil");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(
      *p,
      (ConnParams{
          {"host", "/run/postgresql"}, {"port", "5433"}, {"dbname", "my db"}, {"user", "vigil"}}));
  EXPECT_EQ(DisplayName(*p), "/run/postgresql:5433/my db");
}

TEST(ParsePostgresTarget, HostPortAndDatabase) {
  auto p = ParsePostgresTarget("10.1.2.3:5433/orders");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p, (ConnParams{{"host", "10.1.2.3"}, {"port", "5433"}, {"dbname", "orders"}}));
  auto h = ParsePostgresTarget("db.internal");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, (ConnParams{{"host", "db.internal"}}));
  auto v6 = ParsePostgresTarget("[::1]:5432");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(*v6, (ConnParams{{"host", "::1"}, {"port", "5432"}}));
  EXPECT_EQ(DisplayName(*v6), "[::1]:5432/");
}

TEST(ParsePostgresTarget, Errors) {
  EXPECT_EQ(ParsePostgresTarget("").error().message, "empty postgres target");
  EXPECT_EQ(ParsePostgresTarget("mysql://u:pw@h/db").error().message,
            "unsupported scheme \"mysql\" in postgres target (want postgresql://)");
  EXPECT_EQ(ParsePostgresTarget("h:0").error().message,
            "invalid port \"0\" in postgres target \"h:0\"");
  EXPECT_EQ(ParsePostgresTarget("h:port").error().message,
            "invalid port \"port\" in postgres target \"h:port\"");
  EXPECT_EQ(ParsePostgresTarget(":5432").error().message,
            "missing host in postgres target \":5432\"");
  EXPECT_EQ(ParsePostgresTarget("h/").error().message,
            "empty database name in postgres target \"h/\"");
  EXPECT_EQ(ParsePostgresTarget("fe80::1:5432").error().message,
            "IPv6 addresses need brackets in postgres target \"fe80::1:5432\"");
  EXPECT_EQ(ParsePostgresTarget("host=h bogus=1").error().message,
            "invalid postgres target: invalid connection option \"bogus\"");
  EXPECT_EQ(ParsePostgresTarget("postgresql://u:topsecret@h/db?bogus=1").error().message,
            "invalid postgres target: invalid URI query parameter: \"bogus\"");
}

TEST(BuildConnInfo, QuotesAndEscapes) {
  EXPECT_EQ(BuildConnInfo({{"host", "h"}, {"password", "it's a \\ pw"}, {"port", "5432"}}),
            "host='h' password='it\\'s a \\\\ pw' port='5432'");
}

}  // namespace
}  // namespace vigil::exporters::postgres
