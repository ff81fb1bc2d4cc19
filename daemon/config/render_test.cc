#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "daemon/config/config.h"
#include "daemon/config/test_probers.h"

namespace vigil::config {
namespace {

Config MustLoad(std::string_view yaml, const std::string& filename) {
  auto loaded = LoadString(yaml, filename, testing_probers::Registry());
  EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error()[0].ToString());
  return loaded ? *loaded : Config{};
}

TEST(RenderTest, EmptyConfigRendersDefaults) {
  EXPECT_EQ(ToYaml(MustLoad("", "vigil.yml")),
            "global:\n"
            "  scrape_interval: 1m\n"
            "  scrape_timeout: 10s\n"
            "  evaluation_interval: 1m\n");
}

TEST(RenderTest, RendersEverySectionAndReloads) {
  const std::string yaml = R"(global:
  scrape_interval: 15s
  external_labels: {cluster: eu}
rule_files: [/etc/vigil/rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["am:9093"]
scrape_configs:
  - job_name: api
    params: {module: [a]}
    static_configs:
      - targets: [api:8080]
        labels: {env: prod}
    relabel_configs:
      - source_labels: [env]
        target_label: stage
    body_size_limit: 10MB
modules:
  web:
    prober: http
    http: {method: HEAD, valid_status_codes: [200]}
  cache:
    prober: redis
probes:
  - {name: p, module: web, target: "http://x/"}
)";
  Config first = MustLoad(yaml, "/etc/vigil/vigil.yml");
  std::string rendered = ToYaml(first);
  EXPECT_EQ(rendered,
            R"(global:
  scrape_interval: 15s
  scrape_timeout: 10s
  evaluation_interval: 1m
  external_labels:
    cluster: eu
rule_files:
  - /etc/vigil/rules.yml
alerting:
  alertmanagers:
    - scheme: http
      timeout: 10s
      api_version: v2
      tls_config:
        insecure_skip_verify: false
      follow_redirects: true
      enable_http2: true
      static_configs:
        - targets:
            - am:9093
scrape_configs:
  - job_name: api
    scrape_interval: 15s
    scrape_timeout: 10s
    metrics_path: /metrics
    scheme: http
    params:
      module: [a]
    honor_labels: false
    honor_timestamps: true
    tls_config:
      insecure_skip_verify: false
    follow_redirects: true
    enable_http2: true
    static_configs:
      - targets:
          - api:8080
        labels:
          env: prod
    relabel_configs:
      - source_labels: [env]
        separator: ;
        regex: (.*)
        target_label: stage
        replacement: $1
        action: replace
    sample_limit: 0
    label_limit: 0
    body_size_limit: 10MiB
modules:
  cache:
    prober: redis
    timeout: 5s
    redis: {}
  web:
    prober: http
    timeout: 5s
    http:
      method: HEAD
      valid_status_codes: [200]
probes:
  - name: p
    module: web
    target: http://x/
    interval: 15s
)");
  // The rendering is itself a valid config that loads to the same rendering.
  EXPECT_EQ(ToYaml(MustLoad(rendered, "/etc/vigil/vigil.yml")), rendered);
}

TEST(RenderTest, NoSecretValueInOutput) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("vigil_render_test" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pw") << "file-secret-value";
  setenv("VIGIL_RENDER_TEST_TOKEN", "env-secret-value", 1);
  Config c = MustLoad(R"(
alerting:
  alertmanagers:
    - basic_auth: {username: am-user, password: inline-secret-value-1}
scrape_configs:
  - job_name: a
    authorization: {credentials: inline-secret-value-2}
  - job_name: b
    bearer_token: inline-secret-value-3
  - job_name: c
    basic_auth: {username: u, password_file: pw}
  - job_name: d
    authorization: {type: Token, credentials_env: VIGIL_RENDER_TEST_TOKEN}
modules:
  m:
    prober: http
    http: {bearer_token: inline-secret-value-4}
)",
                      (dir / "vigil.yml").string());
  std::string rendered = ToYaml(c);
  EXPECT_EQ(rendered.find("secret-value"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("password: <secret>"), std::string::npos);
  EXPECT_NE(rendered.find("credentials: <secret>"), std::string::npos);
  EXPECT_NE(rendered.find("password_file: " + (dir / "pw").string()), std::string::npos);
  EXPECT_NE(rendered.find("credentials_env: VIGIL_RENDER_TEST_TOKEN"), std::string::npos);
  EXPECT_NE(rendered.find("bearer_token: <secret>"), std::string::npos);
  // The secrets are still there for the code that needs them.
  EXPECT_EQ(c.scrape_configs[1].http.authorization_credentials.Resolve().value(),
            "inline-secret-value-3");
  EXPECT_EQ(c.scrape_configs[2].http.basic_auth->password.Resolve().value(), "file-secret-value");
  unsetenv("VIGIL_RENDER_TEST_TOKEN");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::config
