#include "exporters/redis/redis_options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/prober.h"
#include "exporters/redis/redis_prober.h"

namespace vigil::exporters::redis {
namespace {

using Lines = std::vector<std::string>;

class RedisOptionsTest : public ::testing::Test {
 protected:
  RedisOptionsTest() { kinds_.Register(std::make_unique<RedisKind>(pool_)); }

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

  const RedisOptions& OptionsOf(const config::Config& config, const std::string& module) {
    return dynamic_cast<const RedisOptions&>(*config.modules.at(module).options);
  }

  util::WorkerPool pool_{1, 4};
  ProbeKindRegistry kinds_;
};

TEST_F(RedisOptionsTest, Defaults) {
  auto loaded = Load("modules:\n  r:\n    prober: redis\n");
  ASSERT_TRUE(loaded);
  const RedisOptions& o = OptionsOf(*loaded, "r");
  EXPECT_EQ(o.username, "");
  EXPECT_TRUE(o.password.Empty());
  EXPECT_EQ(o.connect_timeout.count(), 0);
  EXPECT_EQ(o.command_timeout.count(), 0);
  EXPECT_EQ(o.reconnect_backoff.count(), 1000);
  EXPECT_EQ(o.reconnect_backoff_max.count(), 60000);
}

TEST_F(RedisOptionsTest, AllFields) {
  setenv("VIGIL_TEST_REDIS_PW", "s3cret", 1);
  auto loaded = Load(
      "modules:\n"
      "  r:\n"
      "    prober: redis\n"
      "    redis:\n"
      "      username: monitor\n"
      "      password_env: VIGIL_TEST_REDIS_PW\n"
      "      connect_timeout: 1s500ms\n"
      "      command_timeout: 2s\n"
      "      reconnect_backoff: 250ms\n"
      "      reconnect_backoff_max: 30s\n");
  ASSERT_TRUE(loaded) << loaded.error().front().ToString();
  const RedisOptions& o = OptionsOf(*loaded, "r");
  EXPECT_EQ(o.username, "monitor");
  EXPECT_EQ(o.password.Resolve().value(), "s3cret");
  EXPECT_EQ(o.connect_timeout.count(), 1500);
  EXPECT_EQ(o.command_timeout.count(), 2000);
  EXPECT_EQ(o.reconnect_backoff.count(), 250);
  EXPECT_EQ(o.reconnect_backoff_max.count(), 30000);
  YAML::Emitter out;
  o.EmitYaml(out);
  EXPECT_EQ(std::string(out.c_str()),
            "username: monitor\npassword_env: VIGIL_TEST_REDIS_PW\nconnect_timeout: 1s500ms\n"
            "command_timeout: 2s\nreconnect_backoff: 250ms\nreconnect_backoff_max: 30s");
}

TEST_F(RedisOptionsTest, TlsConfig) {
  auto loaded = Load(
      "modules:\n"
      "  r:\n"
      "    prober: redis\n"
      "    redis:\n"
      "      tls_config:\n"
      "        ca_file: /etc/vigil/ca.pem\n"
      "        cert_file: /etc/vigil/client.pem\n"
      "        key_file: /etc/vigil/client.key\n"
      "        server_name: cache.internal\n"
      "        min_version: TLS12\n");
  ASSERT_TRUE(loaded) << loaded.error().front().ToString();
  const config::TlsConfig& tls = OptionsOf(*loaded, "r").tls_config;
  EXPECT_EQ(tls.ca_file, "/etc/vigil/ca.pem");
  EXPECT_EQ(tls.cert_file, "/etc/vigil/client.pem");
  EXPECT_EQ(tls.key_file, "/etc/vigil/client.key");
  EXPECT_EQ(tls.server_name, "cache.internal");
  EXPECT_EQ(tls.min_version, "TLS12");
  EXPECT_FALSE(tls.insecure_skip_verify);
  YAML::Emitter out;
  OptionsOf(*loaded, "r").EmitYaml(out);
  EXPECT_EQ(std::string(out.c_str()),
            "connect_timeout: 0s\ncommand_timeout: 0s\nreconnect_backoff: 1s\n"
            "reconnect_backoff_max: 1m\ntls_config:\n  ca_file: /etc/vigil/ca.pem\n"
            "  cert_file: /etc/vigil/client.pem\n  key_file: /etc/vigil/client.key\n"
            "  server_name: cache.internal\n  insecure_skip_verify: false\n"
            "  min_version: TLS12");

  auto insecure = Load(
      "modules:\n  r:\n    prober: redis\n    redis: {tls_config: {insecure_skip_verify: true}}\n");
  ASSERT_TRUE(insecure) << insecure.error().front().ToString();
  EXPECT_TRUE(OptionsOf(*insecure, "r").tls_config.insecure_skip_verify);
}

TEST_F(RedisOptionsTest, InlinePasswordIsHiddenWhenShown) {
  auto loaded = Load("modules:\n  r:\n    prober: redis\n    redis: {password: hunter2}\n");
  ASSERT_TRUE(loaded);
  YAML::Emitter out;
  OptionsOf(*loaded, "r").EmitYaml(out);
  EXPECT_EQ(std::string(out.c_str()).find("hunter2"), std::string::npos);
  EXPECT_NE(std::string(out.c_str()).find("password: <secret>"), std::string::npos);
}

TEST_F(RedisOptionsTest, Errors) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  r:\n"
                     "    prober: redis\n"
                     "    redis:\n"
                     "      pasword: x\n"
                     "      connect_timeout: soon\n"
                     "      password: a\n"
                     "      password_env: B\n"
                     "      tls_config: {cert_file: c.pem, min_version: TLS9}\n"),
            (Lines{"vigil.yml:5:7: unknown field \"pasword\" in redis prober",
                   "vigil.yml:6:24: not a valid duration string: \"soon\"",
                   "vigil.yml:8:21: at most one of password, password_file & password_env must "
                   "be configured",
                   "vigil.yml:9:19: exactly one of key or key_file must be configured when a "
                   "client certificate is configured",
                   "vigil.yml:9:51: unknown TLS version: TLS9"}));
}

TEST_F(RedisOptionsTest, BackoffErrors) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  r:\n"
                     "    prober: redis\n"
                     "    redis:\n"
                     "      reconnect_backoff: 0s\n"),
            Lines{"vigil.yml:5:26: reconnect_backoff must be greater than 0"});
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  r:\n"
                     "    prober: redis\n"
                     "    redis:\n"
                     "      reconnect_backoff_max: 500ms\n"),
            Lines{"vigil.yml:5:7: reconnect_backoff_max (500ms) is less than reconnect_backoff "
                  "(1s)"});
  EXPECT_EQ(ErrorsOf("modules:\n  r:\n    prober: redis\n    redis: [a]\n"),
            Lines{"vigil.yml:4:12: expected a map in redis prober, got a list"});
}

TEST_F(RedisOptionsTest, NewTargetRejectsBadTargets) {
  auto loaded = Load("modules:\n  r:\n    prober: redis\n");
  ASSERT_TRUE(loaded);
  ProbeKind* kind = kinds_.Find("redis");
  ASSERT_NE(kind, nullptr);
  EXPECT_TRUE(kind->NewTarget(loaded->modules.at("r"), "redis://127.0.0.1:6379"));
  EXPECT_TRUE(kind->NewTarget(loaded->modules.at("r"), "rediss://127.0.0.1:6380"));
  EXPECT_EQ(kind->NewTarget(loaded->modules.at("r"), "rediss://h:x").error().message,
            "invalid port \"x\" in redis address \"h:x\"");
}

}  // namespace
}  // namespace vigil::exporters::redis
