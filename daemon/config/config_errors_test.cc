// Every bad input yields exact `file:line:col: message` errors, all of them, in
// file order.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/test_probers.h"

namespace vigil::config {
namespace {

std::vector<std::string> ErrorsOf(std::string_view yaml) {
  auto loaded = LoadString(yaml, "vigil.yml", testing_probers::Registry());
  if (loaded) return {"<loaded>"};
  std::vector<std::string> out;
  for (const ConfigError& e : loaded.error()) out.push_back(e.ToString());
  return out;
}

using Lines = std::vector<std::string>;

TEST(ConfigErrorsTest, UnknownFieldAtTopLevel) {
  EXPECT_EQ(ErrorsOf("foo: 1\n"), Lines{"vigil.yml:1:1: unknown field \"foo\" in config"});
}

TEST(ConfigErrorsTest, UnknownFieldInGlobal) {
  EXPECT_EQ(ErrorsOf("global:\n  scrape_intervl: 5s\n"),
            Lines{"vigil.yml:2:3: unknown field \"scrape_intervl\" in global"});
}

TEST(ConfigErrorsTest, UnknownFieldInScrapeConfig) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n    foo: bar\n"),
            Lines{"vigil.yml:3:5: unknown field \"foo\" in scrape_config"});
}

TEST(ConfigErrorsTest, PrometheusSettingsVigilDoesNotImplementAreNamedAsSuch) {
  EXPECT_EQ(ErrorsOf("global:\n"
                     "  query_log_file: q.log\n"
                     "scrape_configs:\n"
                     "  - job_name: pods\n"
                     "    kubernetes_sd_configs:\n"
                     "      - role: pod\n"
                     "  - job_name: api\n"
                     "    oauth2: {client_id: x}\n"
                     "    static_configs: [{targets: [a:1]}]\n"
                     "alerting:\n"
                     "  alertmanagers:\n"
                     "    - consul_sd_configs: [{server: c:8500}]\n"
                     "remote_write:\n"
                     "  - url: http://r/api/v1/write\n"),
            (Lines{"vigil.yml:2:3: unsupported field \"query_log_file\" in global: Vigil does not "
                   "implement this Prometheus setting",
                   "vigil.yml:5:5: unsupported field \"kubernetes_sd_configs\" in scrape_config: "
                   "Vigil does not implement this Prometheus setting; service discovery: "
                   "static_configs and file_sd_configs",
                   "vigil.yml:8:5: unsupported field \"oauth2\" in scrape_config: Vigil does not "
                   "implement this Prometheus setting",
                   "vigil.yml:12:7: unsupported field \"consul_sd_configs\" in alertmanager_config: "
                   "Vigil does not implement this Prometheus setting; service discovery: "
                   "static_configs and file_sd_configs",
                   "vigil.yml:13:1: unsupported field \"remote_write\" in config: Vigil does not "
                   "implement this Prometheus setting"}));
}

TEST(ConfigErrorsTest, UnknownFieldInStaticConfig) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    static_configs:\n"
                     "      - targets: [a:1]\n"
                     "        label: {x: y}\n"),
            Lines{"vigil.yml:5:9: unknown field \"label\" in static_config"});
}

TEST(ConfigErrorsTest, UnknownFieldInModule) {
  EXPECT_EQ(ErrorsOf("modules:\n  m:\n    prober: redis\n    tcp: {}\n"),
            Lines{"vigil.yml:4:5: unknown field \"tcp\" in module \"m\""});
}

TEST(ConfigErrorsTest, BadDuration) {
  EXPECT_EQ(ErrorsOf("global:\n  scrape_interval: 5x\n"),
            Lines{"vigil.yml:2:20: not a valid duration string: \"5x\""});
}

TEST(ConfigErrorsTest, BooleanWhereDurationExpected) {
  EXPECT_EQ(ErrorsOf("global:\n  evaluation_interval: true\n"),
            Lines{"vigil.yml:2:24: expected a duration, got boolean true"});
}

TEST(ConfigErrorsTest, MapWhereListExpected) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  job_name: a\n"),
            Lines{"vigil.yml:2:3: expected a list, got a map"});
}

TEST(ConfigErrorsTest, ListWhereMapExpected) {
  EXPECT_EQ(ErrorsOf("global:\n  - a\n"),
            Lines{"vigil.yml:2:3: expected a map in global, got a list"});
}

TEST(ConfigErrorsTest, StringWhereIntegerExpected) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n    sample_limit: many\n"),
            Lines{"vigil.yml:3:19: expected a non-negative integer, got \"many\""});
}

TEST(ConfigErrorsTest, StringWhereBooleanExpected) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n    honor_labels: \"true\"\n"),
            Lines{"vigil.yml:3:19: expected a boolean, got \"true\""});
}

TEST(ConfigErrorsTest, DuplicateJobName) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n  - job_name: a\n"),
            Lines{"vigil.yml:3:15: found multiple scrape configs with job name \"a\""});
}

TEST(ConfigErrorsTest, MissingJobName) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - scrape_interval: 5s\n"),
            Lines{"vigil.yml:2:5: missing required field \"job_name\" in scrape_config"});
}

TEST(ConfigErrorsTest, DuplicateProbeName) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  m:\n"
                     "    prober: redis\n"
                     "probes:\n"
                     "  - name: p\n"
                     "    module: m\n"
                     "    target: x\n"
                     "  - name: p\n"
                     "    module: m\n"
                     "    target: y\n"),
            Lines{"vigil.yml:8:11: found multiple probes with name \"p\" (first at line 5)"});
}

TEST(ConfigErrorsTest, ProbeWithUnknownModule) {
  EXPECT_EQ(ErrorsOf("probes:\n  - name: p\n    module: nope\n    target: x\n"),
            Lines{"vigil.yml:3:13: unknown module \"nope\" in probe \"p\""});
}

TEST(ConfigErrorsTest, ProbeMissingFields) {
  EXPECT_EQ(ErrorsOf("probes:\n  - name: p\n"),
            (Lines{"vigil.yml:2:5: missing required field \"module\" in probe",
                   "vigil.yml:2:5: missing required field \"target\" in probe"}));
}

TEST(ConfigErrorsTest, ModuleTimeoutAboveProbeInterval) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  slow:\n"
                     "    prober: redis\n"
                     "    timeout: 10s\n"
                     "probes:\n"
                     "  - name: p\n"
                     "    module: slow\n"
                     "    target: x\n"
                     "    interval: 5s\n"),
            Lines{"vigil.yml:9:15: timeout of module \"slow\" (10s) greater than interval (5s) of "
                  "probe \"p\""});
}

TEST(ConfigErrorsTest, UnknownProber) {
  EXPECT_EQ(ErrorsOf("modules:\n  m:\n    prober: ftp\n"),
            Lines{"vigil.yml:3:13: unknown prober \"ftp\" (known: http, postgres, redis)"});
}

TEST(ConfigErrorsTest, MissingProber) {
  EXPECT_EQ(ErrorsOf("modules:\n  m:\n    timeout: 1s\n"),
            Lines{"vigil.yml:3:5: missing required field \"prober\" in module \"m\""});
}

TEST(ConfigErrorsTest, ErrorInsideProberOptions) {
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  m:\n"
                     "    prober: http\n"
                     "    http:\n"
                     "      valid_status_codes: [200, abc]\n"
                     "      methd: GET\n"),
            (Lines{"vigil.yml:5:33: expected a non-negative integer, got \"abc\"",
                   "vigil.yml:6:7: unknown field \"methd\" in http prober"}));
}

TEST(ConfigErrorsTest, ScrapeTimeoutAboveInterval) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    scrape_interval: 5s\n"
                     "    scrape_timeout: 10s\n"),
            Lines{"vigil.yml:4:21: scrape timeout greater than scrape interval for scrape config "
                  "with job name \"a\""});
}

TEST(ConfigErrorsTest, GlobalTimeoutAboveInterval) {
  EXPECT_EQ(ErrorsOf("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n"),
            Lines{"vigil.yml:3:19: global scrape timeout greater than scrape interval"});
}

TEST(ConfigErrorsTest, BadRelabelRegex) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    relabel_configs:\n"
                     "      - regex: \"(x\"\n"
                     "        target_label: t\n"),
            Lines{"vigil.yml:4:16: invalid regular expression \"(x\": missing ): (x"});
}

TEST(ConfigErrorsTest, ReplaceWithoutTargetLabel) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    relabel_configs:\n"
                     "      - source_labels: [a]\n"),
            Lines{"vigil.yml:4:9: relabel configuration for replace action requires "
                  "'target_label' value"});
}

TEST(ConfigErrorsTest, HashModWithoutModulus) {
  EXPECT_EQ(ErrorsOf("alerting:\n"
                     "  alert_relabel_configs:\n"
                     "    - target_label: shard\n"
                     "      action: hashmod\n"),
            Lines{"vigil.yml:3:7: relabel configuration for hashmod requires non-zero modulus"});
}

TEST(ConfigErrorsTest, UnknownRelabelActionAndBadSourceLabel) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    metric_relabel_configs:\n"
                     "      - source_labels: [ok, not-ok]\n"
                     "        action: explode\n"),
            (Lines{"vigil.yml:4:29: \"not-ok\" is not a valid label name",
                   "vigil.yml:5:17: unknown relabel action \"explode\""}));
}

TEST(ConfigErrorsTest, TwoFormsOfOneSecret) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    basic_auth:\n"
                     "      username: u\n"
                     "      password: p\n"
                     "      password_file: /x\n"),
            Lines{"vigil.yml:6:22: at most one of password, password_file & password_env must "
                  "be configured"});
}

TEST(ConfigErrorsTest, SecretFromUnsetEnvironmentVariable) {
  unsetenv("VIGIL_SURELY_UNSET_VAR");
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    authorization:\n"
                     "      credentials_env: VIGIL_SURELY_UNSET_VAR\n"),
            Lines{"vigil.yml:4:24: environment variable \"VIGIL_SURELY_UNSET_VAR\" named by "
                  "credentials_env is not set"});
}

TEST(ConfigErrorsTest, UnreadablePasswordFile) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    basic_auth:\n"
                     "      username: u\n"
                     "      password_file: /nonexistent/vigil/pw\n"),
            Lines{"vigil.yml:5:22: password_file: unable to read secret file "
                  "\"/nonexistent/vigil/pw\": No such file or directory"});
}

TEST(ConfigErrorsTest, BasicAuthTogetherWithBearerToken) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    basic_auth: {username: u, password: p}\n"
                     "    bearer_token: t\n"),
            Lines{"vigil.yml:4:5: at most one of basic_auth, authorization & bearer_token must be "
                  "configured"});
}

TEST(ConfigErrorsTest, AuthorizationTypeBasic) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    authorization: {type: Basic, credentials: c}\n"),
            Lines{"vigil.yml:3:27: authorization type cannot be set to \"basic\", use "
                  "\"basic_auth\" instead"});
}

TEST(ConfigErrorsTest, BadLabelName) {
  EXPECT_EQ(ErrorsOf("global:\n  external_labels:\n    1bad: x\n"),
            Lines{"vigil.yml:3:5: \"1bad\" is not a valid label name"});
}

TEST(ConfigErrorsTest, BadScheme) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n    scheme: ftp\n"),
            Lines{"vigil.yml:3:13: scheme must be \"http\" or \"https\", got \"ftp\""});
}

TEST(ConfigErrorsTest, YamlSyntaxError) {
  EXPECT_EQ(ErrorsOf("global:\n  scrape_interval: [5s\n"),
            Lines{"vigil.yml:3:1: invalid YAML: end of sequence flow not found"});
}

TEST(ConfigErrorsTest, AlertmanagerApiV1) {
  EXPECT_EQ(ErrorsOf("alerting:\n  alertmanagers:\n    - api_version: v1\n"),
            Lines{"vigil.yml:3:20: expected Alertmanager api version to be one of [v2] but got "
                  "v1"});
}

TEST(ConfigErrorsTest, BadBodySizeLimit) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n  - job_name: a\n    body_size_limit: 10XB\n"),
            Lines{"vigil.yml:3:22: not a valid byte size: \"10XB\""});
}

TEST(ConfigErrorsTest, NonStringRuleFile) {
  EXPECT_EQ(ErrorsOf("rule_files:\n  - {a: b}\n"),
            Lines{"vigil.yml:2:5: expected a string, got a map"});
  EXPECT_EQ(ErrorsOf("rule_files: rules.yml\n"),
            Lines{"vigil.yml:1:13: expected a list, got a string"});
}

TEST(ConfigErrorsTest, InvalidStaticTargets) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    static_configs:\n"
                     "      - targets: [\"http://x:80\", \"x:http\", \"::1\", \"[::1]:9\"]\n"),
            (Lines{"vigil.yml:4:19: \"http://x:80\" is not a valid hostname",
                   "vigil.yml:4:34: \"x:http\" is not a valid host:port (bad port \"http\")",
                   "vigil.yml:4:44: \"::1\" is not a valid host:port (put IPv6 addresses in "
                   "brackets)"}));
}

TEST(ConfigErrorsTest, BadFileSdPath) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    file_sd_configs:\n"
                     "      - files: [targets.txt]\n"),
            Lines{"vigil.yml:4:17: path name \"targets.txt\" is not valid for file discovery"});
}

TEST(ConfigErrorsTest, BadTlsVersion) {
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"
                     "  - job_name: a\n"
                     "    tls_config:\n"
                     "      min_version: SSL3\n"),
            Lines{"vigil.yml:4:20: unknown TLS version: SSL3"});
}

TEST(ConfigErrorsTest, DuplicateMappingKey) {
  EXPECT_EQ(ErrorsOf("global:\n  scrape_interval: 5s\n  scrape_interval: 6s\n"),
            Lines{"vigil.yml:3:3: mapping key \"scrape_interval\" already defined at line 2"});
}

TEST(ConfigErrorsTest, TopLevelNotAMap) {
  EXPECT_EQ(ErrorsOf("- a\n- b\n"), Lines{"vigil.yml:1:1: expected a map in config, got a list"});
}

TEST(ConfigErrorsTest, MissingFile) {
  auto loaded = LoadFile("/nonexistent/vigil.yml", testing_probers::Registry());
  ASSERT_FALSE(loaded.has_value());
  ASSERT_EQ(loaded.error().size(), 1u);
  EXPECT_EQ(loaded.error()[0].ToString(),
            "/nonexistent/vigil.yml: cannot read config file: No such file or directory");
}

TEST(ConfigErrorsTest, AllErrorsReportedInFileOrder) {
  // Sections are parsed global-first, so errors are found out of order; they are
  // reported sorted by position.
  EXPECT_EQ(ErrorsOf("scrape_configs:\n"          // 1
                     "  - job_name: a\n"          // 2
                     "    scrape_interval: 1x\n"  // 3
                     "  - job_name: a\n"          // 4
                     "    honor_labels: 3\n"      // 5
                     "global:\n"                  // 6
                     "  scrape_timeout: 2m\n"     // 7
                     "  typo: 1\n"                // 8
                     "probes:\n"                  // 9
                     "  - name: p\n"              // 10
                     "    module: none\n"         // 11
                     "    target: t\n"            // 12
                     "extra: true\n"),            // 13
            (Lines{"vigil.yml:3:22: not a valid duration string: \"1x\"",
                   "vigil.yml:4:15: found multiple scrape configs with job name \"a\"",
                   "vigil.yml:5:19: expected a boolean, got \"3\"",
                   "vigil.yml:7:19: global scrape timeout greater than scrape interval",
                   "vigil.yml:8:3: unknown field \"typo\" in global",
                   "vigil.yml:11:13: unknown module \"none\" in probe \"p\"",
                   "vigil.yml:13:1: unknown field \"extra\" in config"}));
}

TEST(ConfigErrorsTest, InvalidModuleIsBlamedOnce) {
  // The probe names a module that exists but failed to parse: only the module's
  // own error is reported.
  EXPECT_EQ(ErrorsOf("modules:\n"
                     "  m:\n"
                     "    prober: ftp\n"
                     "probes:\n"
                     "  - name: p\n"
                     "    module: m\n"
                     "    target: x\n"),
            Lines{"vigil.yml:3:13: unknown prober \"ftp\" (known: http, postgres, redis)"});
}

TEST(ConfigErrorsTest, NoSecretValueInAnyErrorMessage) {
  setenv("VIGIL_TEST_SECRET_ENV", "env-secret-value", 1);
  const std::string yaml =
      "scrape_configs:\n"
      "  - job_name: a\n"
      "    basic_auth:\n"
      "      username: u\n"
      "      password: inline-secret-value\n"
      "      password_env: VIGIL_TEST_SECRET_ENV\n"
      "    authorization:\n"
      "      credentials: [list-secret-value]\n"
      "    bearer_token: bearer-secret-value\n"
      "    tls_config: tls-secret-value\n"
      "modules:\n"
      "  m:\n"
      "    prober: http\n"
      "    http:\n"
      "      bearer_token: module-secret-value\n"
      "      bearer_token_file: /nonexistent\n";
  std::vector<std::string> errors = ErrorsOf(yaml);
  ASSERT_GE(errors.size(), 4u);
  for (const std::string& e : errors) {
    EXPECT_EQ(e.find("secret-value"), std::string::npos) << e;
  }
  unsetenv("VIGIL_TEST_SECRET_ENV");
}

}  // namespace
}  // namespace vigil::config
