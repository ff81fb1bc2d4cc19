#include "exporters/http/http_options.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/net/http_client.h"
#include "exporters/common/prober.h"
#include "exporters/http/http_prober.h"

namespace vigil::http {
namespace {

using Lines = std::vector<std::string>;

class HttpOptionsTest : public ::testing::Test {
 protected:
  HttpOptionsTest() {
    kinds_.Register(std::make_unique<HttpProbeKind>(client_));
    registry_ = kinds_.ConfigRegistry();
  }

  // Loads a config whose only module "m" has `http_section` as its http: map.
  config::Checked<config::Config> Load(const std::string& http_section) {
    return config::LoadString("modules:\n  m:\n    prober: http\n    http:\n" + http_section,
                              "/etc/vigil/vigil.yml", registry_);
  }

  Lines ErrorsOf(const std::string& http_section) {
    auto loaded = Load(http_section);
    if (loaded) return {"<loaded>"};
    Lines out;
    for (const config::ConfigError& e : loaded.error()) out.push_back(e.ToString());
    return out;
  }

  const HttpProbeOptions& OptionsOf(const config::Config& config) {
    return dynamic_cast<const HttpProbeOptions&>(*config.modules.at("m").options);
  }

  boost::asio::io_context io_;
  net::HttpClient client_{io_};
  exporters::ProbeKindRegistry kinds_;
  config::ProberRegistry registry_;
};

TEST_F(HttpOptionsTest, DefaultsWhenSectionIsAbsent) {
  auto loaded = config::LoadString("modules:\n  m:\n    prober: http\n", "vigil.yml", registry_);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().ToString();
  const HttpProbeOptions& o = OptionsOf(*loaded);
  EXPECT_EQ(o.method, "GET");
  EXPECT_TRUE(o.valid_status_codes.empty());
  EXPECT_TRUE(o.http.follow_redirects);
  EXPECT_EQ(o.preferred_ip_protocol, "ip6");
  EXPECT_TRUE(o.ip_protocol_fallback);
  EXPECT_EQ(o.body_size_limit, 0u);
}

TEST_F(HttpOptionsTest, ParsesEveryOption) {
  auto loaded = Load(R"(      method: POST
      headers: {X-Api: v1, Accept: application/json}
      body: '{"q": 1}'
      valid_status_codes: [200, 204]
      valid_http_versions: [HTTP/1.1, HTTP/2]
      basic_auth: {username: probe, password: hunter2}
      tls_config: {ca_file: ca.pem, server_name: example.org, insecure_skip_verify: true}
      no_follow_redirects: true
      fail_if_not_ssl: true
      fail_if_body_matches_regexp: ['error']
      fail_if_body_not_matches_regexp: ['"status"']
      fail_if_header_matches: [{header: X-Cache, regexp: MISS, allow_missing: true}]
      fail_if_header_not_matches: [{header: Content-Type, regexp: json}]
      fail_if_body_json_matches: ['checks.db.latency_ms > 500']
      fail_if_body_json_not_matches: ['status == "ok"', 'checks.db.up == true']
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      body_size_limit: 1MB
)");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().ToString();
  const HttpProbeOptions& o = OptionsOf(*loaded);
  EXPECT_EQ(o.method, "POST");
  EXPECT_EQ(o.headers,
            (std::map<std::string, std::string>{{"Accept", "application/json"}, {"X-Api", "v1"}}));
  EXPECT_EQ(o.body, R"({"q": 1})");
  EXPECT_EQ(o.valid_status_codes, (std::vector<int>{200, 204}));
  EXPECT_EQ(o.valid_http_versions, (Lines{"HTTP/1.1", "HTTP/2.0"}));
  ASSERT_TRUE(o.http.basic_auth.has_value());
  EXPECT_EQ(o.http.basic_auth->username, "probe");
  EXPECT_EQ(o.http.basic_auth->password.Resolve().value(), "hunter2");
  EXPECT_EQ(o.http.tls_config.ca_file, "/etc/vigil/ca.pem");
  EXPECT_EQ(o.http.tls_config.server_name, "example.org");
  EXPECT_TRUE(o.http.tls_config.insecure_skip_verify);
  EXPECT_FALSE(o.http.follow_redirects);
  EXPECT_TRUE(o.fail_if_not_ssl);
  ASSERT_EQ(o.fail_if_body_matches_regexp.size(), 1u);
  EXPECT_EQ(o.fail_if_body_matches_regexp[0].text, "error");
  ASSERT_EQ(o.fail_if_header_matches.size(), 1u);
  EXPECT_EQ(o.fail_if_header_matches[0].header, "X-Cache");
  EXPECT_TRUE(o.fail_if_header_matches[0].allow_missing);
  ASSERT_EQ(o.fail_if_header_not_matches.size(), 1u);
  EXPECT_FALSE(o.fail_if_header_not_matches[0].allow_missing);
  ASSERT_EQ(o.fail_if_body_json_not_matches.size(), 2u);
  EXPECT_EQ(o.fail_if_body_json_not_matches[1].text(), "checks.db.up == true");
  EXPECT_EQ(o.preferred_ip_protocol, "ip4");
  EXPECT_FALSE(o.ip_protocol_fallback);
  EXPECT_EQ(o.body_size_limit, 1048576u);
}

TEST_F(HttpOptionsTest, EmitYamlHidesSecrets) {
  setenv("VIGIL_HTTP_TEST_TOKEN", "t0k3n", 1);
  auto loaded = Load(R"(      basic_auth: {username: probe, password: hunter2}
      body_size_limit: 2MB
      fail_if_body_json_not_matches: ['status == "ok"']
)");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front().ToString();
  YAML::Emitter out;
  OptionsOf(*loaded).EmitYaml(out);
  std::string yaml = out.c_str();
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("password: <secret>"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("body_size_limit: 2MiB"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- status == \"ok\""), std::string::npos) << yaml;

  auto bearer = Load("      bearer_token_env: VIGIL_HTTP_TEST_TOKEN\n");
  ASSERT_TRUE(bearer.has_value()) << bearer.error().front().ToString();
  YAML::Emitter out2;
  OptionsOf(*bearer).EmitYaml(out2);
  std::string yaml2 = out2.c_str();
  EXPECT_EQ(yaml2.find("t0k3n"), std::string::npos) << yaml2;
  EXPECT_NE(yaml2.find("credentials_env: VIGIL_HTTP_TEST_TOKEN"), std::string::npos) << yaml2;
}

TEST_F(HttpOptionsTest, ReportsEveryErrorAtItsPosition) {
  EXPECT_EQ(ErrorsOf(R"(      method: "GET POST"
      valid_status_codes: [200, 700, abc]
      valid_http_versions: [HTTP/1.1, SPDY]
      preferred_ip_protocol: ip5
      fail_if_body_matches_regexp: ['a(b']
      fail_if_header_matches: [{header: X-A}, {header: X-B, regexp: '[', allow_missing: true}]
      fail_if_body_json_not_matches: ['status == "ok"', 'status = "ok"', 'latency < fast']
      body_size_limit: 10 apples
      colour: blue
)"),
            (Lines{
                "/etc/vigil/vigil.yml:5:15: invalid HTTP method \"GET POST\"",
                "/etc/vigil/vigil.yml:6:33: invalid status code 700 (must be 100-599)",
                "/etc/vigil/vigil.yml:6:38: expected a non-negative integer, got \"abc\"",
                "/etc/vigil/vigil.yml:7:39: unknown HTTP version \"SPDY\" (known: HTTP/1.0, "
                "HTTP/1.1, HTTP/2.0, HTTP/3.0)",
                "/etc/vigil/vigil.yml:8:30: preferred_ip_protocol must be \"ip4\" or \"ip6\", got "
                "\"ip5\"",
                "/etc/vigil/vigil.yml:9:37: invalid regexp \"a(b\": missing ): a(b",
                "/etc/vigil/vigil.yml:10:32: missing required field \"regexp\" in "
                "fail_if_header_matches",
                "/etc/vigil/vigil.yml:10:69: invalid regexp \"[\": missing ]: [",
                "/etc/vigil/vigil.yml:11:57: invalid JSON assertion \"status = \"ok\"\": expected "
                "one of == != < <= > >= at column 8",
                "/etc/vigil/vigil.yml:11:74: invalid JSON assertion \"latency < fast\": expected a "
                "string, number, true, false or null at column 11",
                "/etc/vigil/vigil.yml:12:24: not a valid byte size: \"10 apples\"",
                "/etc/vigil/vigil.yml:13:7: unknown field \"colour\" in http prober",
            }));
}

TEST_F(HttpOptionsTest, RejectsContradictoryOptions) {
  EXPECT_EQ(ErrorsOf("      fail_if_ssl: true\n      fail_if_not_ssl: true\n"),
            (Lines{"/etc/vigil/vigil.yml:6:7: fail_if_ssl and fail_if_not_ssl cannot both be "
                   "true"}));
  EXPECT_EQ(ErrorsOf("      follow_redirects: true\n      no_follow_redirects: true\n"),
            (Lines{"/etc/vigil/vigil.yml:6:7: at most one of follow_redirects & "
                   "no_follow_redirects must be configured"}));
  EXPECT_EQ(ErrorsOf("      basic_auth: {username: a, password: b}\n"
                     "      bearer_token: c\n"),
            (Lines{"/etc/vigil/vigil.yml:6:7: at most one of basic_auth, authorization & "
                   "bearer_token must be configured"}));
}

TEST_F(HttpOptionsTest, HeaderNamesMustBeTokens) {
  EXPECT_EQ(ErrorsOf("      headers: {\"Bad Name\": x}\n"),
            (Lines{"/etc/vigil/vigil.yml:5:17: invalid header name \"Bad Name\""}));
}

TEST_F(HttpOptionsTest, UnknownKindListsHttp) {
  auto loaded = config::LoadString("modules:\n  m:\n    prober: htp\n", "vigil.yml", registry_);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().front().ToString(),
            "vigil.yml:3:13: unknown prober \"htp\" (known: http)");
}

}  // namespace
}  // namespace vigil::http
