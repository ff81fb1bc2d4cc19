#include "exporters/http/http_prober.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "daemon/config/config.h"
#include "daemon/net/testing/scripted_server.h"

namespace vigil::http {
namespace {

using net::testing::ScriptedServer;
using net::testing::ServerMode;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// The options parsed from an http: section, through the real parser.
std::shared_ptr<const HttpProbeOptions> Options(const std::string& yaml) {
  config::YamlErrorSink errors("test.yml", "");
  auto options = ParseHttpProbeOptions(YAML::Load(yaml), errors);
  EXPECT_TRUE(errors.empty()) << errors.errors().front().ToString();
  return std::dynamic_pointer_cast<const HttpProbeOptions>(options);
}

net::HttpResponse Ok(std::string body = "") {
  net::HttpResponse r;
  r.status = 200;
  r.http_version = "HTTP/1.1";
  r.body = std::move(body);
  r.headers = {{"content-type", "application/json"}, {"x-cache", "HIT"}, {"x-cache", "MISS"}};
  return r;
}

std::string ReasonOf(const std::string& yaml, const net::HttpResponse& response) {
  return Evaluate(*Options(yaml), response).reason;
}

TEST(EvaluateTest, TransferErrorsMapToReasons) {
  auto options = Options("{}");
  std::map<net::TransferError, std::string> expected = {
      {net::TransferError::kTimeout, "timeout"},
      {net::TransferError::kDns, "dns"},
      {net::TransferError::kConnect, "connect"},
      {net::TransferError::kTls, "tls"},
      {net::TransferError::kBodyTooLarge, "body_too_large"},
      {net::TransferError::kTooManyRedirects, "redirect"},
      {net::TransferError::kCancelled, "other"},
      {net::TransferError::kOther, "other"}};
  for (const auto& [error, reason] : expected) {
    net::HttpResponse r = Ok();
    r.error = error;
    r.error_message = "boom";
    Verdict v = Evaluate(*options, r);
    EXPECT_EQ(v.reason, reason);
    EXPECT_EQ(v.detail, "boom");
    EXPECT_FALSE(v.failed_due_to_regex);
  }
  for (const auto& [error, reason] : expected) {
    EXPECT_THAT(FailureReasons(), ::testing::Contains(reason));
  }
}

TEST(EvaluateTest, StatusCodes) {
  net::HttpResponse r = Ok();
  EXPECT_EQ(ReasonOf("{}", r), "");
  r.status = 204;
  EXPECT_EQ(ReasonOf("{}", r), "");
  r.status = 302;
  EXPECT_EQ(ReasonOf("{}", r), "http_status");
  r.status = 500;
  Verdict v = Evaluate(*Options("{}"), r);
  EXPECT_EQ(v.reason, "http_status");
  EXPECT_EQ(v.detail, "status code 500 not accepted");
  EXPECT_EQ(ReasonOf("{valid_status_codes: [500, 503]}", r), "");
  r.status = 200;
  EXPECT_EQ(ReasonOf("{valid_status_codes: [500, 503]}", r), "http_status");
}

TEST(EvaluateTest, HeaderChecksFollowBlackbox) {
  net::HttpResponse r = Ok();
  EXPECT_EQ(ReasonOf("{fail_if_header_matches: [{header: X-Cache, regexp: MISS}]}", r), "header");
  EXPECT_TRUE(Evaluate(*Options("{fail_if_header_matches: [{header: X-Cache, regexp: MISS}]}"), r)
                  .failed_due_to_regex);
  EXPECT_EQ(ReasonOf("{fail_if_header_matches: [{header: X-Cache, regexp: '^STALE$'}]}", r), "");
  EXPECT_EQ(ReasonOf("{fail_if_header_matches: [{header: X-Gone, regexp: x}]}", r), "header");
  EXPECT_EQ(
      ReasonOf("{fail_if_header_matches: [{header: X-Gone, regexp: x, allow_missing: true}]}", r),
      "");
  // not_matches passes when any value matches.
  EXPECT_EQ(ReasonOf("{fail_if_header_not_matches: [{header: x-cache, regexp: '^HIT$'}]}", r), "");
  EXPECT_EQ(ReasonOf("{fail_if_header_not_matches: [{header: X-Cache, regexp: STALE}]}", r),
            "header");
  EXPECT_EQ(ReasonOf("{fail_if_header_not_matches: [{header: X-Gone, regexp: x}]}", r), "header");
  EXPECT_EQ(
      ReasonOf("{fail_if_header_not_matches: [{header: X-Gone, regexp: x, allow_missing: true}]}",
               r),
      "");
}

TEST(EvaluateTest, BodyRegexps) {
  net::HttpResponse r = Ok("all systems go");
  EXPECT_EQ(ReasonOf("{fail_if_body_matches_regexp: ['systems?']}", r), "body_regex");
  EXPECT_EQ(ReasonOf("{fail_if_body_matches_regexp: ['^go']}", r), "");
  EXPECT_EQ(ReasonOf("{fail_if_body_not_matches_regexp: ['go$', 'all']}", r), "");
  Verdict v = Evaluate(*Options("{fail_if_body_not_matches_regexp: ['go$', 'nope']}"), r);
  EXPECT_EQ(v.reason, "body_regex");
  EXPECT_EQ(v.detail, "body did not match regexp \"nope\"");
  EXPECT_TRUE(v.failed_due_to_regex);
}

TEST(EvaluateTest, JsonAssertions) {
  net::HttpResponse r = Ok(R"({"status":"ok","checks":{"db":{"latency_ms":12}}})");
  const std::string healthy =
      "{fail_if_body_json_not_matches: ['status == \"ok\"', 'checks.db.latency_ms < 200']}";
  EXPECT_EQ(ReasonOf(healthy, r), "");
  Verdict slow =
      Evaluate(*Options("{fail_if_body_json_not_matches: ['checks.db.latency_ms < 10']}"), r);
  EXPECT_EQ(slow.reason, "body_json");
  EXPECT_EQ(slow.detail, "JSON assertion `checks.db.latency_ms < 10` does not hold (value: 12)");
  EXPECT_FALSE(slow.failed_due_to_regex);
  Verdict matched = Evaluate(
      *Options("{fail_if_body_json_matches: ['status != \"ok\"', 'status == \"ok\"']}"), r);
  EXPECT_EQ(matched.reason, "body_json");
  EXPECT_EQ(matched.detail, "JSON assertion `status == \"ok\"` holds (value: \"ok\")");
  Verdict not_json = Evaluate(*Options(healthy), Ok("<html>"));
  EXPECT_EQ(not_json.reason, "body_json");
  EXPECT_EQ(not_json.detail, "body is not valid JSON");
}

TEST(EvaluateTest, VersionAndSsl) {
  net::HttpResponse r = Ok();
  EXPECT_EQ(ReasonOf("{valid_http_versions: [HTTP/2.0]}", r), "http_version");
  EXPECT_EQ(ReasonOf("{valid_http_versions: [HTTP/1.1, HTTP/2.0]}", r), "");
  EXPECT_EQ(ReasonOf("{fail_if_not_ssl: true}", r), "ssl_required");
  EXPECT_EQ(ReasonOf("{fail_if_ssl: true}", r), "");
  r.tls = true;
  EXPECT_EQ(ReasonOf("{fail_if_ssl: true}", r), "ssl_forbidden");
  EXPECT_EQ(ReasonOf("{fail_if_not_ssl: true}", r), "");
}

TEST(EvaluateTest, FirstFailingCheckWins) {
  net::HttpResponse r = Ok("not json");
  r.status = 500;
  EXPECT_EQ(ReasonOf("{fail_if_body_json_not_matches: ['a == 1'], fail_if_not_ssl: true}", r),
            "http_status");
  r.status = 200;
  EXPECT_EQ(ReasonOf("{fail_if_body_json_not_matches: ['a == 1'], fail_if_not_ssl: true}", r),
            "body_json");
}

// family name -> (labels as "k=v,..." -> value)
std::map<std::string, std::map<std::string, double>> Flatten(
    const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& family : families) {
    EXPECT_EQ(family.type, prometheus::MetricType::Gauge) << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    for (const auto& metric : family.metric) {
      std::string labels;
      for (const auto& label : metric.label) {
        labels += (labels.empty() ? "" : ",") + label.name + "=" + label.value;
      }
      out[family.name][labels] = metric.gauge.value;
    }
  }
  return out;
}

TEST(BuildFamiliesTest, BlackboxNamesAndValues) {
  net::HttpResponse r = Ok("0123456789");
  r.content_length = 4;
  r.redirects = 1;
  r.primary_ip = "127.0.0.1";
  r.phases = {.resolve = 0.5, .connect = 0.25, .tls = 0.125, .processing = 1, .transfer = 2};
  r.tls = true;
  r.tls_version = "TLS 1.3";
  r.earliest_cert_expiry = 1893553445;
  r.http_version = "HTTP/2.0";
  auto families = BuildFamilies(r, Verdict{});
  std::vector<std::string> names;
  for (const auto& f : families) names.push_back(f.name);
  EXPECT_THAT(
      names, ::testing::ElementsAre("probe_dns_lookup_time_seconds", "probe_failed_due_to_regex",
                                    "probe_http_content_length", "probe_http_duration_seconds",
                                    "probe_http_redirects", "probe_http_ssl",
                                    "probe_http_status_code", "probe_http_uncompressed_body_length",
                                    "probe_http_version", "probe_ip_addr_hash", "probe_ip_protocol",
                                    "probe_ssl_earliest_cert_expiry", "probe_tls_version_info"));
  auto m = Flatten(families);
  EXPECT_EQ(m["probe_dns_lookup_time_seconds"][""], 0.5);
  EXPECT_EQ(m["probe_failed_due_to_regex"][""], 0);
  EXPECT_EQ(m["probe_http_content_length"][""], 4);
  EXPECT_EQ(m["probe_http_duration_seconds"],
            (std::map<std::string, double>{{"phase=connect", 0.25},
                                           {"phase=processing", 1},
                                           {"phase=resolve", 0.5},
                                           {"phase=tls", 0.125},
                                           {"phase=transfer", 2}}));
  EXPECT_EQ(m["probe_http_redirects"][""], 1);
  EXPECT_EQ(m["probe_http_ssl"][""], 1);
  EXPECT_EQ(m["probe_http_status_code"][""], 200);
  EXPECT_EQ(m["probe_http_uncompressed_body_length"][""], 10);
  EXPECT_EQ(m["probe_http_version"][""], 2);
  EXPECT_EQ(m["probe_ip_addr_hash"][""], 3668918509.0);
  EXPECT_EQ(m["probe_ip_protocol"][""], 4);
  EXPECT_EQ(m["probe_ssl_earliest_cert_expiry"][""], 1893553445);
  EXPECT_EQ(m["probe_tls_version_info"]["version=TLS 1.3"], 1);
  EXPECT_EQ(families[0].help, "Returns the time taken for probe dns lookup in seconds");
}

TEST(BuildFamiliesTest, FailedConnectionHasNoTlsOrAddressFamilies) {
  net::HttpResponse r;
  r.error = net::TransferError::kConnect;
  auto m = Flatten(BuildFamilies(r, Verdict{"connect", false, ""}));
  EXPECT_EQ(m.count("probe_ssl_earliest_cert_expiry"), 0u);
  EXPECT_EQ(m.count("probe_tls_version_info"), 0u);
  EXPECT_EQ(m.count("probe_ip_addr_hash"), 0u);
  EXPECT_EQ(m["probe_ip_protocol"][""], 0);
  EXPECT_EQ(m["probe_http_status_code"][""], 0);
  EXPECT_EQ(m["probe_http_content_length"][""], 0);
  EXPECT_EQ(m["probe_http_version"][""], 0);
  EXPECT_EQ(m["probe_http_duration_seconds"].size(), 5u);
}

TEST(IpAddressHashTest, MatchesBlackbox) {
  EXPECT_EQ(IpAddressHash("127.0.0.1"), 3668918509.0);  // blackbox's sample output
  EXPECT_EQ(IpAddressHash("::ffff:127.0.0.1"), 3668918509.0);
  EXPECT_EQ(IpAddressHash("::1"), 1751717746.0);
  EXPECT_EQ(IpAddressHash("not an ip"), 0);
}

TEST(ParseTargetTest, NormalisesTargets) {
  EXPECT_EQ(ParseTarget("example.org:8080")->url, "http://example.org:8080");
  EXPECT_FALSE(ParseTarget("example.org:8080")->ip_literal);
  EXPECT_EQ(ParseTarget("https://example.org/health")->url, "https://example.org/health");
  EXPECT_TRUE(ParseTarget("http://127.0.0.1:9/")->ip_literal);
  EXPECT_TRUE(ParseTarget("http://[::1]:9/")->ip_literal);
  EXPECT_EQ(ParseTarget("ftp://example.org/").error().message,
            "unsupported scheme in target \"ftp://example.org/\" (use http:// or https://)");
  EXPECT_THAT(ParseTarget("http://exa mple.org/").error().message,
              HasSubstr("invalid target URL \"http://exa mple.org/\""));
}

class HttpProberTest : public ::testing::Test {
 protected:
  exporters::ProbeResult Probe(const std::string& yaml, const std::string& target,
                               milliseconds timeout = milliseconds(2000)) {
    return Probe(Options(yaml), target, timeout);
  }

  exporters::ProbeResult Probe(std::shared_ptr<const HttpProbeOptions> options,
                               const std::string& target, milliseconds timeout) {
    config::ModuleConfig module;
    module.name = "m";
    module.prober = "http";
    module.options = std::move(options);
    auto prober = kind_.NewTarget(module, target);
    EXPECT_TRUE(prober.has_value()) << prober.error().message;
    std::optional<exporters::ProbeResult> out;
    boost::asio::co_spawn(
        io_, [&]() -> boost::asio::awaitable<void> { out = co_await (*prober)->Probe(timeout); },
        boost::asio::detached);
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(exporters::ProbeResult{});
  }

  double Value(const exporters::ProbeResult& result, const std::string& name,
               const std::string& labels = "") {
    return Flatten(result.families)[name][labels];
  }

  boost::asio::io_context io_;
  net::HttpClient client_{io_};
  HttpProbeKind kind_{client_};
};

TEST_F(HttpProberTest, HealthyJsonEndpoint) {
  ScriptedServer server(io_, {.response = ScriptedServer::Response(
                                  200, R"({"status":"ok","checks":{"db":{"latency_ms":12}}})",
                                  "Content-Type: application/json\r\n")});
  auto result =
      Probe("{fail_if_body_json_not_matches: ['status == \"ok\"']}", server.Url("/health"));
  EXPECT_TRUE(result.success) << result.failure_reason;
  EXPECT_EQ(result.failure_reason, "");
  EXPECT_EQ(Value(result, "probe_http_status_code"), 200);
  EXPECT_EQ(Value(result, "probe_http_content_length"), 49);
  EXPECT_EQ(Value(result, "probe_http_uncompressed_body_length"), 49);
  EXPECT_EQ(Value(result, "probe_http_version"), 1.1);
  EXPECT_EQ(Value(result, "probe_http_ssl"), 0);
  EXPECT_EQ(Value(result, "probe_ip_protocol"), 4);
  EXPECT_GT(Value(result, "probe_http_duration_seconds", "phase=processing"), 0);
  EXPECT_EQ(Value(result, "probe_http_duration_seconds", "phase=tls"), 0);
}

TEST_F(HttpProberTest, BareHostPortAndBearerTokenFromEnvironment) {
  setenv("VIGIL_PROBER_TEST_TOKEN", "s3cret", 1);
  ScriptedServer server(io_, {.response = ScriptedServer::Response(200, "")});
  auto result = Probe("{bearer_token_env: VIGIL_PROBER_TEST_TOKEN, method: HEAD}",
                      "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(result.success) << result.failure_reason;
  EXPECT_THAT(server.last_request(), HasSubstr("HEAD / HTTP/1.1\r\n"));
  EXPECT_THAT(server.last_request(), HasSubstr("Authorization: Bearer s3cret\r\n"));
}

TEST_F(HttpProberTest, UnreadableSecretFailsAsOther) {
  ScriptedServer server(io_, {.response = ScriptedServer::Response(200, "")});
  setenv("VIGIL_PROBER_TEST_GONE", "x", 1);
  auto options = Options("{bearer_token_env: VIGIL_PROBER_TEST_GONE}");
  unsetenv("VIGIL_PROBER_TEST_GONE");  // the secret is read again at every probe
  auto result = Probe(options, server.Url(), milliseconds(2000));
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.failure_reason, "other");
  EXPECT_EQ(server.connections(), 0);
  EXPECT_EQ(Value(result, "probe_http_status_code"), 0);
}

TEST_F(HttpProberTest, HangingServerTimesOut) {
  ScriptedServer server(io_, {.mode = ServerMode::kHang, .response = ""});
  auto start = std::chrono::steady_clock::now();
  auto result = Probe("{}", server.Url(), milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.failure_reason, "timeout");
  EXPECT_EQ(Value(result, "probe_http_status_code"), 0);
}

TEST_F(HttpProberTest, SlowServerWithinTimeoutSucceeds) {
  ScriptedServer server(
      io_, {.response = ScriptedServer::Response(200, "late"), .delay = milliseconds(150)});
  auto result = Probe("{}", server.Url(), milliseconds(2000));
  EXPECT_TRUE(result.success) << result.failure_reason;
  EXPECT_GE(Value(result, "probe_http_duration_seconds", "phase=processing"), 0.14);
}

TEST_F(HttpProberTest, ResetAndGarbageAreOther) {
  ScriptedServer reset(io_, {.mode = ServerMode::kReset, .response = ""});
  EXPECT_EQ(Probe("{}", reset.Url()).failure_reason, "other");
  ScriptedServer garbage(io_, {.response = "SSH-2.0-OpenSSH_9.2\r\n\r\n"});
  EXPECT_EQ(Probe("{}", garbage.Url()).failure_reason, "other");
}

}  // namespace
}  // namespace vigil::http
