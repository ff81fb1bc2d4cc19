#include "exporters/redis/redis_target.h"

#include <gtest/gtest.h>

namespace vigil::exporters::redis {
namespace {

TEST(ParseRedisTarget, RedisUrlWithCredentialsAndDb) {
  auto a = ParseRedisTarget("redis://alice:p%40ss@cache.example:6380/3");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "cache.example");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->password, "p@ss");
  EXPECT_FALSE(a->is_unix());
  EXPECT_EQ(a->Display(), "cache.example:6380");
}

TEST(ParseRedisTarget, RedissIsTls) {
  auto a = ParseRedisTarget("rediss://bob:pw@cache.example:6380/0");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->host, "cache.example");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->username, "bob");
  EXPECT_EQ(a->password, "pw");
  auto plain = ParseRedisTarget("redis://cache.example");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->tls);
  EXPECT_FALSE(ParseRedisTarget("cache.example:6380")->tls);
  EXPECT_EQ(ParseRedisTarget("rediss://:pw@h:0").error().message,
            "invalid port \"0\" in redis address \"h:0\"");
}

TEST(ParseRedisTarget, PasswordOnlyAndDefaultPort) {
  auto a = ParseRedisTarget("redis://:secret@127.0.0.1");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6379);
  EXPECT_EQ(a->username, "");
  EXPECT_EQ(a->password, "secret");
}

TEST(ParseRedisTarget, HostPortAndIpv6) {
  auto a = ParseRedisTarget("10.0.0.7:7000");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "10.0.0.7");
  EXPECT_EQ(a->port, 7000);
  EXPECT_FALSE(a->password.has_value());

  auto v6 = ParseRedisTarget("redis://[::1]:6390");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6390);
  EXPECT_EQ(v6->Display(), "[::1]:6390");
}

TEST(ParseRedisTarget, UnixSockets) {
  auto a = ParseRedisTarget("unix:///run/redis/redis.sock");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->is_unix());
  EXPECT_EQ(a->unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(a->Display(), "unix:/run/redis/redis.sock");
  auto b = ParseRedisTarget("/tmp/r.sock");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->unix_path, "/tmp/r.sock");
}

TEST(ParseRedisTarget, Errors) {
  EXPECT_EQ(ParseRedisTarget("").error().message, "empty redis target");
  EXPECT_EQ(ParseRedisTarget("http://u:pw@h:1").error().message,
            "unsupported scheme \"http\" in redis target (want redis://, rediss:// or unix://)");
  EXPECT_EQ(ParseRedisTarget("redis://:pw@h:99999").error().message,
            "invalid port \"99999\" in redis address \"h:99999\"");
  EXPECT_EQ(ParseRedisTarget("h:").error().message, "empty port in redis address \"h:\"");
  EXPECT_EQ(ParseRedisTarget("redis://:pw@:6379").error().message,
            "missing host in redis address \":6379\"");
  EXPECT_EQ(ParseRedisTarget("::1:6379").error().message,
            "IPv6 addresses need brackets in redis address \"::1:6379\"");
  EXPECT_EQ(ParseRedisTarget("redis://h/x").error().message,
            "invalid database \"x\" in redis target (want a number)");
  EXPECT_EQ(ParseRedisTarget("redis://u:%zz@h").error().message,
            "invalid percent-encoding in the password of the redis URL");
  EXPECT_EQ(ParseRedisTarget("unix://relative.sock").error().message,
            "redis unix socket path must be absolute in \"unix://relative.sock\"");
}

}  // namespace
}  // namespace vigil::exporters::redis
