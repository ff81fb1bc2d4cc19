// The http probe kind against a real nginx (scripts/testenv/nginx.sh), over
// plain HTTP and HTTPS with a test CA.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "daemon/net/http_client.h"
#include "exporters/http/http_prober.h"
#include "tests/fixtures/nginx_fixture.h"

namespace vigil::http {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

class HttpIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = testing::NginxServer::Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    nginx_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete nginx_;
    nginx_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(nginx_, nullptr) << "nginx did not start"; }

  std::shared_ptr<const HttpProbeOptions> Options(const std::string& yaml) {
    config::YamlErrorSink errors("test.yml", "");
    auto options = ParseHttpProbeOptions(YAML::Load(yaml), errors);
    EXPECT_TRUE(errors.empty()) << errors.errors().front().ToString();
    return std::dynamic_pointer_cast<const HttpProbeOptions>(options);
  }

  // With the test CA trusted.
  std::string WithCa(const std::string& extra = "") {
    return "{tls_config: {ca_file: '" + nginx_->ca_file() + "'}" + (extra.empty() ? "" : ", ") +
           extra + "}";
  }

  exporters::ProbeResult Probe(const std::string& yaml, const std::string& url,
                               milliseconds timeout = milliseconds(5000)) {
    config::ModuleConfig module;
    module.name = "m";
    module.prober = "http";
    module.options = Options(yaml);
    auto prober = kind_.NewTarget(module, url);
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

  net::HttpResponse Fetch(net::HttpRequest request) {
    std::optional<net::HttpResponse> out;
    client_.AsyncPerform(std::move(request), [&](net::HttpResponse r) { out = std::move(r); });
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(net::HttpResponse{});
  }

  // name -> labels ("k=v") -> value
  static std::map<std::string, std::map<std::string, double>> Metrics(
      const exporters::ProbeResult& result) {
    std::map<std::string, std::map<std::string, double>> out;
    for (const auto& family : result.families) {
      for (const auto& metric : family.metric) {
        std::string labels;
        for (const auto& label : metric.label) labels += label.name + "=" + label.value;
        out[family.name][labels] = metric.gauge.value;
      }
    }
    return out;
  }

  static testing::NginxServer* nginx_;
  boost::asio::io_context io_;
  net::HttpClient client_{io_};
  HttpProbeKind kind_{client_};
};

testing::NginxServer* HttpIntegrationTest::nginx_ = nullptr;

TEST_F(HttpIntegrationTest, PlainHttpJsonHealth) {
  auto result = Probe(
      "{fail_if_body_json_not_matches: ['status == \"ok\"', 'checks.db.latency_ms < 200'], "
      "fail_if_header_not_matches: [{header: Content-Type, regexp: '^application/json$'}]}",
      nginx_->HttpUrl("/health"));
  EXPECT_TRUE(result.success) << result.failure_reason;
  auto m = Metrics(result);
  EXPECT_EQ(m["probe_http_status_code"][""], 200);
  EXPECT_EQ(m["probe_http_content_length"][""], 49);
  EXPECT_EQ(m["probe_http_uncompressed_body_length"][""], 49);
  EXPECT_EQ(m["probe_http_version"][""], 1.1);
  EXPECT_EQ(m["probe_http_ssl"][""], 0);
  EXPECT_EQ(m["probe_http_redirects"][""], 0);
  EXPECT_EQ(m["probe_failed_due_to_regex"][""], 0);
  EXPECT_EQ(m["probe_ip_protocol"][""], 4);
  EXPECT_EQ(m["probe_ip_addr_hash"][""], 3668918509.0);
  EXPECT_GT(m["probe_http_duration_seconds"]["phase=resolve"], 0);
  EXPECT_GT(m["probe_http_duration_seconds"]["phase=connect"], 0);
  EXPECT_GT(m["probe_http_duration_seconds"]["phase=processing"], 0);
  EXPECT_EQ(m["probe_http_duration_seconds"]["phase=tls"], 0);
  EXPECT_EQ(m.count("probe_ssl_earliest_cert_expiry"), 0u);
  EXPECT_EQ(m.count("probe_tls_version_info"), 0u);
}

TEST_F(HttpIntegrationTest, JsonAssertionFailure) {
  auto result = Probe("{fail_if_body_json_not_matches: ['checks.db.latency_ms < 10']}",
                      nginx_->HttpUrl("/api/health"));
  EXPECT_FALSE(result.success);
  EXPECT_EQ(result.failure_reason, "body_json");
  EXPECT_EQ(Metrics(result)["probe_failed_due_to_regex"][""], 0);
}

TEST_F(HttpIntegrationTest, HttpsWithTestCa) {
  auto result = Probe(WithCa("fail_if_not_ssl: true"), nginx_->HttpsUrl("/health"));
  EXPECT_TRUE(result.success) << result.failure_reason;
  auto m = Metrics(result);
  EXPECT_EQ(m["probe_http_status_code"][""], 200);
  EXPECT_EQ(m["probe_http_ssl"][""], 1);
  EXPECT_EQ(m["probe_http_version"][""], 2);  // nginx offers h2 over ALPN
  EXPECT_GT(m["probe_http_duration_seconds"]["phase=tls"], 0);
  // The chain is server + CA; the CA expires first (400 vs 800 days).
  ASSERT_LT(nginx_->ca_not_after(), nginx_->server_not_after());
  EXPECT_EQ(m["probe_ssl_earliest_cert_expiry"][""], static_cast<double>(nginx_->ca_not_after()));
  EXPECT_EQ(m["probe_tls_version_info"]["version=TLS 1.3"], 1);
}

TEST_F(HttpIntegrationTest, EveryHttpsProbeMakesAFullHandshake) {
  // Probes one after another reuse the client's easy handles; each must still
  // make a full handshake (no session resumption): a TLS phase and the chain's
  // certificates every time.
  for (int i = 0; i < 3; ++i) {
    auto result = Probe(WithCa(), nginx_->HttpsUrl("/health"));
    EXPECT_TRUE(result.success) << i << ": " << result.failure_reason;
    auto m = Metrics(result);
    EXPECT_GT(m["probe_http_duration_seconds"]["phase=tls"], 0) << i;
    EXPECT_EQ(m["probe_ssl_earliest_cert_expiry"][""], static_cast<double>(nginx_->ca_not_after()))
        << i;
  }
}

TEST_F(HttpIntegrationTest, HttpsVersionOptions) {
  EXPECT_EQ(
      Probe(WithCa("valid_http_versions: [HTTP/1.1]"), nginx_->HttpsUrl("/health")).failure_reason,
      "http_version");
  auto http1 = Probe(WithCa("valid_http_versions: [HTTP/1.1], enable_http2: false"),
                     nginx_->HttpsUrl("/health"));
  EXPECT_TRUE(http1.success) << http1.failure_reason;
  EXPECT_EQ(Metrics(http1)["probe_http_version"][""], 1.1);
  auto tls13 = Probe("{tls_config: {ca_file: '" + nginx_->ca_file() + "', min_version: TLS13}}",
                     nginx_->HttpsUrl("/health"));
  EXPECT_TRUE(tls13.success) << tls13.failure_reason;
  EXPECT_EQ(Metrics(tls13)["probe_tls_version_info"]["version=TLS 1.3"], 1);
}

TEST_F(HttpIntegrationTest, HttpsFailures) {
  EXPECT_EQ(Probe("{}", nginx_->HttpsUrl("/health")).failure_reason, "tls");  // unknown CA
  EXPECT_EQ(Probe(WithCa("fail_if_ssl: true"), nginx_->HttpsUrl("/health")).failure_reason,
            "ssl_forbidden");
  EXPECT_EQ(Probe("{fail_if_not_ssl: true}", nginx_->HttpUrl("/health")).failure_reason,
            "ssl_required");
  auto insecure = Probe("{tls_config: {insecure_skip_verify: true}}", nginx_->HttpsUrl("/health"));
  EXPECT_TRUE(insecure.success) << insecure.failure_reason;
}

TEST_F(HttpIntegrationTest, TlsServerNameDrivesVerification) {
  std::string ca = nginx_->ca_file();
  auto good = Probe("{tls_config: {ca_file: '" + ca + "', server_name: localhost}}",
                    nginx_->HttpsUrl("/health"));
  EXPECT_TRUE(good.success) << good.failure_reason;
  EXPECT_EQ(Metrics(good)["probe_ip_addr_hash"][""], 3668918509.0);  // still 127.0.0.1
  auto wrong = Probe("{tls_config: {ca_file: '" + ca + "', server_name: wrong.example}}",
                     nginx_->HttpsUrl("/health"));
  EXPECT_EQ(wrong.failure_reason, "tls");
}

TEST_F(HttpIntegrationTest, Redirects) {
  auto followed = Probe("{}", nginx_->HttpUrl("/redirect"));
  EXPECT_TRUE(followed.success) << followed.failure_reason;
  auto m = Metrics(followed);
  EXPECT_EQ(m["probe_http_redirects"][""], 1);
  EXPECT_EQ(m["probe_http_status_code"][""], 200);
  EXPECT_EQ(m["probe_http_uncompressed_body_length"][""], 49);
  EXPECT_GT(m["probe_http_duration_seconds"]["phase=processing"], 0);

  auto stopped = Probe("{no_follow_redirects: true}", nginx_->HttpUrl("/redirect"));
  EXPECT_EQ(stopped.failure_reason, "http_status");
  EXPECT_EQ(Metrics(stopped)["probe_http_status_code"][""], 302);
  EXPECT_EQ(Metrics(stopped)["probe_http_redirects"][""], 0);
  EXPECT_TRUE(
      Probe("{follow_redirects: false, valid_status_codes: [302]}", nginx_->HttpUrl("/redirect"))
          .success);
}

TEST_F(HttpIntegrationTest, ErrorStatus) {
  auto result = Probe("{}", nginx_->HttpUrl("/status/500"));
  EXPECT_EQ(result.failure_reason, "http_status");
  EXPECT_EQ(Metrics(result)["probe_http_status_code"][""], 500);
  EXPECT_TRUE(Probe("{valid_status_codes: [500]}", nginx_->HttpUrl("/status/500")).success);
}

TEST_F(HttpIntegrationTest, GzipBodyAndSizeLimit) {
  auto result = Probe("{}", nginx_->HttpUrl("/big"));
  EXPECT_TRUE(result.success) << result.failure_reason;
  auto m = Metrics(result);
  EXPECT_EQ(m["probe_http_content_length"][""], -1);  // gzip: chunked, no Content-Length
  EXPECT_EQ(m["probe_http_uncompressed_body_length"][""], 2097152);
  EXPECT_GE(m["probe_http_duration_seconds"]["phase=transfer"], 0);

  auto limited = Probe("{body_size_limit: 1MB}", nginx_->HttpUrl("/big"));
  EXPECT_FALSE(limited.success);
  EXPECT_EQ(limited.failure_reason, "body_too_large");
  EXPECT_TRUE(Probe("{body_size_limit: 2MB}", nginx_->HttpUrl("/big")).success);
}

TEST_F(HttpIntegrationTest, BodyAndHeaderRegexps) {
  EXPECT_TRUE(Probe("{fail_if_body_not_matches_regexp: ['demo_requests_total\\{path=\"/p39\"']}",
                    nginx_->HttpUrl("/metrics"))
                  .success);
  auto matched =
      Probe("{fail_if_body_matches_regexp: ['code=\"200\"\\} 273']}", nginx_->HttpUrl("/metrics"));
  EXPECT_EQ(matched.failure_reason, "body_regex");
  EXPECT_EQ(Metrics(matched)["probe_failed_due_to_regex"][""], 1);
  auto header = Probe("{fail_if_header_not_matches: [{header: Content-Type, regexp: json}]}",
                      nginx_->HttpUrl("/metrics"));
  EXPECT_EQ(header.failure_reason, "header");
  EXPECT_EQ(Metrics(header)["probe_failed_due_to_regex"][""], 1);
}

TEST_F(HttpIntegrationTest, RefusedPortIsConnect) {
  auto result = Probe("{}", "http://127.0.0.1:1/");
  EXPECT_EQ(result.failure_reason, "connect");
  EXPECT_EQ(Metrics(result)["probe_http_status_code"][""], 0);
}

TEST_F(HttpIntegrationTest, ScrapeStyleRequestReusesConnectionAndDecodesGzip) {
  net::HttpRequest request;
  request.url = nginx_->HttpUrl("/metrics");
  request.headers = {{"Accept",
                      "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,"
                      "*/*;q=0.1"}};
  request.max_body_bytes = 1 << 20;
  net::HttpResponse first = Fetch(request);
  ASSERT_TRUE(first.ok()) << first.error_message;
  EXPECT_EQ(first.status, 200);
  EXPECT_THAT(first.HeaderValues("content-encoding"), ::testing::ElementsAre("gzip"));
  EXPECT_THAT(first.body, HasSubstr("demo_requests_total{path=\"/p39\",code=\"200\"} 273\n"));
  EXPECT_GT(first.phases.connect, 0);
  net::HttpResponse second = Fetch(request);
  ASSERT_TRUE(second.ok()) << second.error_message;
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.phases.connect, 0);  // the pooled connection was reused
}

TEST_F(HttpIntegrationTest, ManyConcurrentProbes) {
  auto options = Options(WithCa());
  config::ModuleConfig module;
  module.name = "m";
  module.prober = "http";
  module.options = options;
  constexpr int kProbes = 200;
  std::vector<std::unique_ptr<exporters::TargetProber>> probers;
  for (int i = 0; i < kProbes; ++i) {
    auto prober = kind_.NewTarget(
        module, i % 2 == 0 ? nginx_->HttpUrl("/health") : nginx_->HttpsUrl("/health"));
    ASSERT_TRUE(prober.has_value());
    probers.push_back(std::move(*prober));
  }
  int done = 0, ok = 0;
  for (auto& prober : probers) {
    boost::asio::co_spawn(
        io_,
        [&, p = prober.get()]() -> boost::asio::awaitable<void> {
          auto result = co_await p->Probe(milliseconds(10000));
          ++done;
          ok += result.success ? 1 : 0;
        },
        boost::asio::detached);
  }
  while (done < kProbes && io_.run_one_for(std::chrono::seconds(20)) > 0) {
  }
  EXPECT_EQ(done, kProbes);
  EXPECT_EQ(ok, kProbes);
}

}  // namespace
}  // namespace vigil::http
