#include "daemon/config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "daemon/config/test_probers.h"

namespace vigil::config {
namespace {

using std::chrono::milliseconds;

std::string Join(const Errors& errors) {
  std::string out;
  for (const ConfigError& e : errors) out += e.ToString() + "\n";
  return out;
}

Config MustLoad(std::string_view yaml, const std::string& filename = "vigil.yml") {
  auto loaded = LoadString(yaml, filename, testing_probers::Registry());
  EXPECT_TRUE(loaded.has_value()) << Join(loaded.error());
  return loaded ? *loaded : Config{};
}

TEST(ConfigTest, EmptyFileIsAllDefaults) {
  Config c = MustLoad("");
  EXPECT_EQ(c.source_file, "vigil.yml");
  EXPECT_EQ(c.global.scrape_interval, milliseconds(60000));
  EXPECT_EQ(c.global.scrape_timeout, milliseconds(10000));
  EXPECT_EQ(c.global.evaluation_interval, milliseconds(60000));
  EXPECT_TRUE(c.global.external_labels.empty());
  EXPECT_TRUE(c.rule_files.empty());
  EXPECT_TRUE(c.alerting.alertmanagers.empty());
  EXPECT_TRUE(c.alerting.alert_relabel_configs.empty());
  EXPECT_TRUE(c.scrape_configs.empty());
  EXPECT_TRUE(c.modules.empty());
  EXPECT_TRUE(c.probes.empty());
  // A file with only a comment, or with empty sections, is the same.
  Config comment = MustLoad("# nothing yet\n");
  EXPECT_EQ(comment.global.scrape_interval, milliseconds(60000));
  Config empty_sections = MustLoad("global:\nscrape_configs:\nrule_files:\n");
  EXPECT_EQ(empty_sections.global.scrape_timeout, milliseconds(10000));
  EXPECT_TRUE(empty_sections.scrape_configs.empty());
}

TEST(ConfigTest, ScrapeConfigDefaultsFieldByField) {
  Config c = MustLoad(R"(
scrape_configs:
  - job_name: node
)");
  ASSERT_EQ(c.scrape_configs.size(), 1u);
  const ScrapeConfig& s = c.scrape_configs[0];
  EXPECT_EQ(s.job_name, "node");
  EXPECT_EQ(s.scrape_interval, milliseconds(60000));
  EXPECT_EQ(s.scrape_timeout, milliseconds(10000));
  EXPECT_EQ(s.metrics_path, "/metrics");
  EXPECT_EQ(s.scheme, "http");
  EXPECT_TRUE(s.params.empty());
  EXPECT_FALSE(s.honor_labels);
  EXPECT_TRUE(s.honor_timestamps);
  EXPECT_FALSE(s.http.basic_auth.has_value());
  EXPECT_EQ(s.http.authorization_type, "Bearer");
  EXPECT_TRUE(s.http.authorization_credentials.Empty());
  EXPECT_EQ(s.http.tls_config.ca_file, "");
  EXPECT_FALSE(s.http.tls_config.insecure_skip_verify);
  EXPECT_TRUE(s.http.follow_redirects);
  EXPECT_TRUE(s.http.enable_http2);
  EXPECT_EQ(s.http.proxy_url, "");
  EXPECT_TRUE(s.static_configs.empty());
  EXPECT_TRUE(s.file_sd_configs.empty());
  EXPECT_TRUE(s.relabel_configs.empty());
  EXPECT_TRUE(s.metric_relabel_configs.empty());
  EXPECT_EQ(s.sample_limit, 0u);
  EXPECT_EQ(s.label_limit, 0u);
  EXPECT_EQ(s.body_size_limit, 0u);
}

TEST(ConfigTest, TimeoutInheritanceFollowsPrometheus) {
  Config c = MustLoad(R"(
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: inherits
  - job_name: short
    scrape_interval: 2s
  - job_name: long
    scrape_interval: 1m
  - job_name: explicit
    scrape_interval: 30s
    scrape_timeout: 30s
)");
  // Global timeout defaults to min(10s, interval).
  EXPECT_EQ(c.global.scrape_timeout, milliseconds(5000));
  ASSERT_EQ(c.scrape_configs.size(), 4u);
  EXPECT_EQ(c.scrape_configs[0].scrape_interval, milliseconds(5000));
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout, milliseconds(5000));
  EXPECT_EQ(c.scrape_configs[1].scrape_timeout, milliseconds(2000));  // min(global 5s, 2s)
  EXPECT_EQ(c.scrape_configs[2].scrape_timeout, milliseconds(5000));  // global timeout
  EXPECT_EQ(c.scrape_configs[3].scrape_timeout, milliseconds(30000));
}

class FullConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("vigil_full_config_test" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "am_password") << "  from-file\n";
    setenv("VIGIL_TEST_TOKEN", "from-env", 1);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    unsetenv("VIGIL_TEST_TOKEN");
  }
  std::filesystem::path dir_;
};

TEST_F(FullConfigTest, EverySection) {
  Config c = MustLoad(R"yaml(
global:
  scrape_interval: 15s
  scrape_timeout: 5s
  evaluation_interval: 30s
  external_labels:
    cluster: eu-1
    replica: "a"

rule_files:
  - rules/*.yml
  - /etc/vigil/alerts.yml

alerting:
  alert_relabel_configs:
    - regex: replica
      action: labeldrop
  alertmanagers:
    - scheme: https
      path_prefix: /am
      timeout: 7s
      api_version: v2
      basic_auth:
        username: vigil
        password_file: am_password
      tls_config:
        ca_file: ca.pem
        server_name: am.internal
        insecure_skip_verify: true
        min_version: TLS12
      static_configs:
        - targets: ["am-1:9093", "[::1]:9093"]
      relabel_configs:
        - source_labels: [__address__]
          target_label: instance

scrape_configs:
  - job_name: api
    scrape_interval: 10s
    scrape_timeout: 2s
    metrics_path: /internal/metrics
    scheme: https
    params:
      module: [http_2xx]
      debug: ["true", "1"]
    honor_labels: true
    honor_timestamps: false
    authorization:
      type: Token
      credentials_env: VIGIL_TEST_TOKEN
    follow_redirects: false
    enable_http2: false
    proxy_url: http://proxy:3128
    static_configs:
      - targets: [api-1:8080, api-2:8080]
        labels:
          env: prod
      - targets: [localhost]
    file_sd_configs:
      - files: [targets/*.json, more.yml]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__, env]
        separator: "/"
        regex: "(.*):8080/(.*)"
        target_label: host
        replacement: "${1}-$2"
      - source_labels: [host]
        modulus: 8
        target_label: __tmp_shard
        action: hashmod
      - source_labels: [__tmp_shard]
        regex: "4|5"
        action: keep
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: "go_.*"
        action: Drop
    sample_limit: 5000
    label_limit: 30
    body_size_limit: 10MB
  - job_name: legacy
    bearer_token: s3cr3t-inline

modules:
  http_2xx:
    prober: http
    timeout: 3s
    http:
      method: HEAD
      valid_status_codes: [200, 204]
  pg:
    prober: postgres

probes:
  - name: api-health
    module: http_2xx
    target: "http://127.0.0.1:8080/health"
    interval: 15s
    labels:
      service: api
  - name: db
    module: pg
    target: "postgres://db:5432/app"
)yaml",
                      (dir_ / "vigil.yml").string());

  EXPECT_EQ(c.source_file, (dir_ / "vigil.yml").string());
  EXPECT_EQ(c.global.scrape_interval, milliseconds(15000));
  EXPECT_EQ(c.global.scrape_timeout, milliseconds(5000));
  EXPECT_EQ(c.global.evaluation_interval, milliseconds(30000));
  EXPECT_EQ(c.global.external_labels.ToString(), R"({cluster="eu-1", replica="a"})");

  ASSERT_EQ(c.rule_files.size(), 2u);
  EXPECT_EQ(c.rule_files[0], (dir_ / "rules/*.yml").string());
  EXPECT_EQ(c.rule_files[1], "/etc/vigil/alerts.yml");

  ASSERT_EQ(c.alerting.alert_relabel_configs.size(), 1u);
  EXPECT_EQ(c.alerting.alert_relabel_configs[0].action, model::RelabelAction::kLabelDrop);
  ASSERT_EQ(c.alerting.alertmanagers.size(), 1u);
  const AlertmanagerConfig& am = c.alerting.alertmanagers[0];
  EXPECT_EQ(am.scheme, "https");
  EXPECT_EQ(am.path_prefix, "/am");
  EXPECT_EQ(am.timeout, milliseconds(7000));
  EXPECT_EQ(am.api_version, "v2");
  ASSERT_TRUE(am.http.basic_auth.has_value());
  EXPECT_EQ(am.http.basic_auth->username, "vigil");
  EXPECT_EQ(am.http.basic_auth->password.Describe(), "file:" + (dir_ / "am_password").string());
  EXPECT_EQ(am.http.basic_auth->password.Resolve().value(), "from-file");
  EXPECT_EQ(am.http.tls_config.ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(am.http.tls_config.server_name, "am.internal");
  EXPECT_TRUE(am.http.tls_config.insecure_skip_verify);
  EXPECT_EQ(am.http.tls_config.min_version, "TLS12");
  ASSERT_EQ(am.static_configs.size(), 1u);
  EXPECT_EQ(am.static_configs[0].targets, (std::vector<std::string>{"am-1:9093", "[::1]:9093"}));
  ASSERT_EQ(am.relabel_configs.size(), 1u);
  EXPECT_EQ(am.relabel_configs[0].target_label, "instance");

  ASSERT_EQ(c.scrape_configs.size(), 2u);
  const ScrapeConfig& api = c.scrape_configs[0];
  EXPECT_EQ(api.job_name, "api");
  EXPECT_EQ(api.scrape_interval, milliseconds(10000));
  EXPECT_EQ(api.scrape_timeout, milliseconds(2000));
  EXPECT_EQ(api.metrics_path, "/internal/metrics");
  EXPECT_EQ(api.scheme, "https");
  EXPECT_EQ(api.params, (std::map<std::string, std::vector<std::string>>{
                            {"debug", {"true", "1"}}, {"module", {"http_2xx"}}}));
  EXPECT_TRUE(api.honor_labels);
  EXPECT_FALSE(api.honor_timestamps);
  EXPECT_EQ(api.http.authorization_type, "Token");
  EXPECT_EQ(api.http.authorization_credentials.Describe(), "env:VIGIL_TEST_TOKEN");
  EXPECT_EQ(api.http.authorization_credentials.Resolve().value(), "from-env");
  EXPECT_FALSE(api.http.follow_redirects);
  EXPECT_FALSE(api.http.enable_http2);
  EXPECT_EQ(api.http.proxy_url, "http://proxy:3128");
  ASSERT_EQ(api.static_configs.size(), 2u);
  EXPECT_EQ(api.static_configs[0].targets, (std::vector<std::string>{"api-1:8080", "api-2:8080"}));
  EXPECT_EQ(api.static_configs[0].labels.ToString(), R"({env="prod"})");
  EXPECT_EQ(api.static_configs[1].targets, (std::vector<std::string>{"localhost"}));
  ASSERT_EQ(api.file_sd_configs.size(), 1u);
  EXPECT_EQ(
      api.file_sd_configs[0].files,
      (std::vector<std::string>{(dir_ / "targets/*.json").string(), (dir_ / "more.yml").string()}));
  EXPECT_EQ(api.file_sd_configs[0].refresh_interval, milliseconds(60000));
  ASSERT_EQ(api.relabel_configs.size(), 3u);
  EXPECT_EQ(api.relabel_configs[0].source_labels, (std::vector<std::string>{"__address__", "env"}));
  EXPECT_EQ(api.relabel_configs[0].separator, "/");
  EXPECT_EQ(api.relabel_configs[0].regex_text, "(.*):8080/(.*)");
  EXPECT_EQ(api.relabel_configs[0].replacement, "${1}-$2");
  EXPECT_EQ(api.relabel_configs[1].action, model::RelabelAction::kHashMod);
  EXPECT_EQ(api.relabel_configs[1].modulus, 8u);
  ASSERT_EQ(api.metric_relabel_configs.size(), 1u);
  EXPECT_EQ(api.metric_relabel_configs[0].action, model::RelabelAction::kDrop);
  EXPECT_EQ(api.sample_limit, 5000u);
  EXPECT_EQ(api.label_limit, 30u);
  EXPECT_EQ(api.body_size_limit, 10u * 1024 * 1024);

  // The parsed relabel configs work end to end.
  auto relabeled = model::Relabel(model::Labels{{"__address__", "api-1:8080"}, {"env", "prod"}},
                                  api.relabel_configs);
  ASSERT_TRUE(relabeled.has_value());
  // md5("api-1-prod") ends in 0x54 (shard 84 % 8 = 4, kept); md5("api-3-prod") in 0x92 (2).
  EXPECT_EQ(relabeled->ToString(),
            R"({__address__="api-1:8080", __tmp_shard="4", env="prod", host="api-1-prod"})");
  EXPECT_FALSE(model::Relabel(model::Labels{{"__address__", "api-3:8080"}, {"env", "prod"}},
                              api.relabel_configs)
                   .has_value());

  const ScrapeConfig& legacy = c.scrape_configs[1];
  EXPECT_EQ(legacy.scrape_interval, milliseconds(15000));
  EXPECT_EQ(legacy.scrape_timeout, milliseconds(5000));
  EXPECT_EQ(legacy.http.authorization_type, "Bearer");
  EXPECT_EQ(legacy.http.authorization_credentials.Describe(), "<secret>");
  EXPECT_EQ(legacy.http.authorization_credentials.Resolve().value(), "s3cr3t-inline");

  ASSERT_EQ(c.modules.size(), 2u);
  const ModuleConfig& http = c.modules.at("http_2xx");
  EXPECT_EQ(http.name, "http_2xx");
  EXPECT_EQ(http.prober, "http");
  EXPECT_EQ(http.timeout, milliseconds(3000));
  auto options = std::dynamic_pointer_cast<const testing_probers::FakeHttpOptions>(http.options);
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->method, "HEAD");
  EXPECT_EQ(options->valid_status_codes, (std::vector<uint64_t>{200, 204}));
  const ModuleConfig& pg = c.modules.at("pg");
  EXPECT_EQ(pg.timeout, milliseconds(5000));
  ASSERT_NE(pg.options, nullptr);
  // The definition identifies a module across reloads (it changes with any option).
  EXPECT_NE(http.definition.find("prober: http"), std::string::npos);
  EXPECT_NE(http.definition, pg.definition);

  ASSERT_EQ(c.probes.size(), 2u);
  EXPECT_EQ(c.probes[0].name, "api-health");
  EXPECT_EQ(c.probes[0].module, "http_2xx");
  EXPECT_EQ(c.probes[0].target, "http://127.0.0.1:8080/health");
  EXPECT_EQ(c.probes[0].interval, milliseconds(15000));
  EXPECT_EQ(c.probes[0].labels.ToString(), R"({service="api"})");
  EXPECT_EQ(c.probes[1].interval, milliseconds(15000));  // global.scrape_interval
  EXPECT_TRUE(c.probes[1].labels.empty());
}

TEST_F(FullConfigTest, FakeProberDefaultsWhenSectionAbsent) {
  Config c = MustLoad("modules:\n  plain:\n    prober: http\n");
  auto options = std::dynamic_pointer_cast<const testing_probers::FakeHttpOptions>(
      c.modules.at("plain").options);
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(options->method, "GET");
  EXPECT_TRUE(options->valid_status_codes.empty());
}

TEST_F(FullConfigTest, LoadFileReadsFromDisk) {
  std::ofstream(dir_ / "disk.yml") << "global:\n  scrape_interval: 20s\nrule_files: [a.yml]\n";
  auto c = LoadFile((dir_ / "disk.yml").string(), testing_probers::Registry());
  ASSERT_TRUE(c.has_value()) << Join(c.error());
  EXPECT_EQ(c->global.scrape_interval, milliseconds(20000));
  EXPECT_EQ(c->source_file, (dir_ / "disk.yml").string());
  EXPECT_EQ(c->rule_files, (std::vector<std::string>{(dir_ / "a.yml").string()}));
}

TEST(ProberRegistryTest, KindsAreSortedAndFindable) {
  const ProberRegistry& registry = testing_probers::Registry();
  EXPECT_EQ(registry.Kinds(), (std::vector<std::string>{"http", "postgres", "redis"}));
  EXPECT_TRUE(registry.Has("redis"));
  EXPECT_FALSE(registry.Has("ftp"));
  EXPECT_NE(registry.Find("http"), nullptr);
  EXPECT_EQ(registry.Find("ftp"), nullptr);
}

}  // namespace
}  // namespace vigil::config
