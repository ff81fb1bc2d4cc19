#include "exporters/http/http_prober.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "daemon/util/log.h"
#include "exporters/common/families.h"
#include "exporters/common/http_client_config.h"

namespace vigil::http {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

std::string_view ReasonFor(net::TransferError error) {
  switch (error) {
    case net::TransferError::kNone:
      return "";
    case net::TransferError::kTimeout:
      return "timeout";
    case net::TransferError::kDns:
      return "dns";
    case net::TransferError::kConnect:
      return "connect";
    case net::TransferError::kTls:
      return "tls";
    case net::TransferError::kBodyTooLarge:
      return "body_too_large";
    case net::TransferError::kTooManyRedirects:
      return "redirect";
    case net::TransferError::kCancelled:
    case net::TransferError::kOther:
      return "other";
  }
  return "other";
}

Verdict Fail(std::string_view reason, std::string detail, bool regex = false) {
  return Verdict{std::string(reason), regex, std::move(detail)};
}

// blackbox_exporter's header checks; nullopt when they pass.
std::optional<Verdict> CheckHeaders(const HttpProbeOptions& options,
                                    const net::HttpResponse& response) {
  for (const HeaderMatch& match : options.fail_if_header_matches) {
    auto values = response.HeaderValues(match.header);
    if (values.empty() && !match.allow_missing) {
      return Fail("header", fmt::format("missing required header {}", match.header), true);
    }
    for (std::string_view value : values) {
      if (re2::RE2::PartialMatch(value, *match.regexp.re)) {
        return Fail("header",
                    fmt::format("header {} matched regexp \"{}\"", match.header, match.regexp.text),
                    true);
      }
    }
  }
  for (const HeaderMatch& match : options.fail_if_header_not_matches) {
    auto values = response.HeaderValues(match.header);
    if (values.empty()) {
      if (match.allow_missing) continue;
      return Fail("header", fmt::format("missing required header {}", match.header), true);
    }
    bool any = std::any_of(values.begin(), values.end(), [&](std::string_view value) {
      return re2::RE2::PartialMatch(value, *match.regexp.re);
    });
    if (!any) {
      return Fail(
          "header",
          fmt::format("header {} did not match regexp \"{}\"", match.header, match.regexp.text),
          true);
    }
  }
  return std::nullopt;
}

std::optional<Verdict> CheckBody(const HttpProbeOptions& options,
                                 const net::HttpResponse& response) {
  for (const Regexp& regexp : options.fail_if_body_matches_regexp) {
    if (re2::RE2::PartialMatch(response.body, *regexp.re)) {
      return Fail("body_regex", fmt::format("body matched regexp \"{}\"", regexp.text), true);
    }
  }
  for (const Regexp& regexp : options.fail_if_body_not_matches_regexp) {
    if (!re2::RE2::PartialMatch(response.body, *regexp.re)) {
      return Fail("body_regex", fmt::format("body did not match regexp \"{}\"", regexp.text), true);
    }
  }
  if (options.fail_if_body_json_matches.empty() && options.fail_if_body_json_not_matches.empty()) {
    return std::nullopt;
  }
  nlohmann::json document =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Fail("body_json", "body is not valid JSON");
  for (const JsonAssertion& assertion : options.fail_if_body_json_matches) {
    if (assertion.Holds(document)) {
      return Fail("body_json", fmt::format("JSON assertion `{}` holds (value: {})",
                                           assertion.text(), assertion.Describe(document)));
    }
  }
  for (const JsonAssertion& assertion : options.fail_if_body_json_not_matches) {
    if (!assertion.Holds(document)) {
      return Fail("body_json", fmt::format("JSON assertion `{}` does not hold (value: {})",
                                           assertion.text(), assertion.Describe(document)));
    }
  }
  return std::nullopt;
}

double HttpVersionValue(std::string_view version) {
  if (version == "HTTP/1.0") return 1.0;
  if (version == "HTTP/1.1") return 1.1;
  if (version == "HTTP/2.0") return 2;
  if (version == "HTTP/3.0") return 3;
  return 0;
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

}  // namespace

const std::vector<std::string_view>& FailureReasons() {
  static const std::vector<std::string_view> kReasons = {
      "timeout",      "dns",           "connect",   "tls",    "http_status",
      "http_version", "body_regex",    "body_json", "header", "body_too_large",
      "ssl_required", "ssl_forbidden", "redirect",  "other"};
  return kReasons;
}

Verdict Evaluate(const HttpProbeOptions& options, const net::HttpResponse& response) {
  if (!response.ok()) return Fail(ReasonFor(response.error), response.error_message);
  bool status_ok =
      options.valid_status_codes.empty()
          ? response.status >= 200 && response.status < 300
          : std::find(options.valid_status_codes.begin(), options.valid_status_codes.end(),
                      response.status) != options.valid_status_codes.end();
  if (!status_ok) {
    return Fail("http_status", fmt::format("status code {} not accepted", response.status));
  }
  if (auto failed = CheckHeaders(options, response)) return *failed;
  if (auto failed = CheckBody(options, response)) return *failed;
  if (!options.valid_http_versions.empty() &&
      std::find(options.valid_http_versions.begin(), options.valid_http_versions.end(),
                response.http_version) == options.valid_http_versions.end()) {
    return Fail("http_version", fmt::format("HTTP version {} not accepted", response.http_version));
  }
  if (options.fail_if_ssl && response.tls) return Fail("ssl_forbidden", "final hop used TLS");
  if (options.fail_if_not_ssl && !response.tls) {
    return Fail("ssl_required", "final hop did not use TLS");
  }
  return Verdict{};
}

double IpAddressHash(std::string_view ip) {
  std::string text(ip);
  std::array<unsigned char, 16> bytes{};
  size_t size = 0;
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    size = 4;
  } else if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                              0, 0, 0, 0, 0xff, 0xff};
    size = 16;
    if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {  // Go's To4()
      std::copy(bytes.begin() + 12, bytes.end(), bytes.begin());
      size = 4;
    }
  } else {
    return 0;
  }
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 16777619u;
  }
  return hash;
}

std::vector<MetricFamily> BuildFamilies(const net::HttpResponse& r, const Verdict& verdict) {
  std::vector<MetricFamily> out;
  bool responded = r.status > 0;
  out.push_back(exporters::GaugeFamily("probe_dns_lookup_time_seconds",
                                       "Returns the time taken for probe dns lookup in seconds",
                                       r.phases.resolve));
  out.push_back(exporters::GaugeFamily("probe_failed_due_to_regex",
                                       "Indicates if probe failed due to regex",
                                       verdict.failed_due_to_regex ? 1 : 0));
  out.push_back(exporters::GaugeFamily("probe_http_content_length",
                                       "Length of http content response",
                                       responded ? static_cast<double>(r.content_length) : 0));
  MetricFamily phases{"probe_http_duration_seconds",
                      "Duration of http request by phase, summed over all redirects",
                      prometheus::MetricType::Gauge,
                      {}};
  // Sorted by label value, as blackbox_exporter's registry prints them.
  for (const auto& [phase, seconds] : {std::pair{"connect", r.phases.connect},
                                       {"processing", r.phases.processing},
                                       {"resolve", r.phases.resolve},
                                       {"tls", r.phases.tls},
                                       {"transfer", r.phases.transfer}}) {
    ClientMetric metric;
    metric.label.push_back({"phase", phase});
    metric.gauge.value = seconds;
    phases.metric.push_back(std::move(metric));
  }
  out.push_back(std::move(phases));
  out.push_back(
      exporters::GaugeFamily("probe_http_redirects", "The number of redirects", r.redirects));
  out.push_back(exporters::GaugeFamily("probe_http_ssl",
                                       "Indicates if SSL was used for the final redirect",
                                       responded && r.tls ? 1 : 0));
  out.push_back(exporters::GaugeFamily("probe_http_status_code", "Response HTTP status code",
                                       static_cast<double>(r.status)));
  out.push_back(exporters::GaugeFamily("probe_http_uncompressed_body_length",
                                       "Length of uncompressed response body",
                                       static_cast<double>(r.body.size())));
  out.push_back(exporters::GaugeFamily("probe_http_version",
                                       "Returns the version of HTTP of the probe response",
                                       HttpVersionValue(r.http_version)));
  if (!r.primary_ip.empty()) {
    out.push_back(
        exporters::GaugeFamily("probe_ip_addr_hash",
                               "Specifies the hash of IP address. It's useful to detect if the IP "
                               "address changes.",
                               IpAddressHash(r.primary_ip)));
  }
  out.push_back(exporters::GaugeFamily(
      "probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
      r.primary_ip.empty() ? 0 : (r.primary_ip.find(':') == std::string::npos ? 4 : 6)));
  if (r.tls && r.earliest_cert_expiry) {
    out.push_back(exporters::GaugeFamily(
        "probe_ssl_earliest_cert_expiry",
        "Returns the earliest expiry of any peer certificate returned by the "
        "server as an unix timestamp. This can include certificates that are not "
        "validated by TLS clients. In rare server configurations this might "
        "return a time in the past, even for valid TLS certificate chains.",
        static_cast<double>(*r.earliest_cert_expiry)));
  }
  if (r.tls && !r.tls_version.empty()) {
    MetricFamily info = exporters::GaugeFamily(
        "probe_tls_version_info", "Returns the TLS version used or NaN when unknown", 1);
    info.metric.front().label.push_back({"version", r.tls_version});
    out.push_back(std::move(info));
  }
  return out;
}

util::Result<ProbeTarget> ParseTarget(std::string_view target) {
  ProbeTarget out;
  out.url = target.find("://") == std::string_view::npos ? "http://" + std::string(target)
                                                         : std::string(target);
  bool http = strncasecmp(out.url.c_str(), "http://", 7) == 0;
  bool https = strncasecmp(out.url.c_str(), "https://", 8) == 0;
  if (!http && !https) {
    return util::Fail("unsupported scheme in target \"{}\" (use http:// or https://)", target);
  }
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (url == nullptr) return util::Fail("out of memory parsing target \"{}\"", target);
  if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, out.url.c_str(), 0); rc != CURLUE_OK) {
    return util::Fail("invalid target URL \"{}\": {}", target, curl_url_strerror(rc));
  }
  char* host = nullptr;
  if (curl_url_get(url.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr) {
    return util::Fail("target \"{}\" has no host", target);
  }
  std::string host_text(host);
  curl_free(host);
  unsigned char address[4];
  out.ip_literal =
      host_text.starts_with("[") || inet_pton(AF_INET, host_text.c_str(), address) == 1;
  return out;
}

HttpTargetProber::HttpTargetProber(net::HttpClient& client,
                                   std::shared_ptr<const HttpProbeOptions> options,
                                   ProbeTarget target)
    : client_(client), options_(std::move(options)), target_(std::move(target)) {}

util::Result<net::HttpRequest> HttpTargetProber::BuildRequest(
    std::chrono::milliseconds timeout) const {
  const HttpProbeOptions& o = *options_;
  net::HttpRequest r;
  r.url = target_.url;
  r.method = o.method;
  r.body = o.body;
  r.timeout = timeout;
  r.max_body_bytes = o.body_size_limit;
  r.fresh_connection = true;
  r.collect_certificates = true;
  if (!target_.ip_literal) {
    r.ip_resolve = o.preferred_ip_protocol == "ip4" ? net::IpResolve::kV4 : net::IpResolve::kV6;
  }
  for (const auto& [name, value] : o.headers) r.headers.emplace_back(name, value);
  if (auto applied = exporters::ApplyHttpClientConfig(o.http, r); !applied) {
    return tl::unexpected(applied.error());
  }
  return r;
}

boost::asio::awaitable<exporters::ProbeResult> HttpTargetProber::Probe(
    std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  exporters::ProbeResult result;
  auto request = BuildRequest(timeout);
  if (!request) {
    Verdict verdict = Fail("other", request.error().message);
    util::log::Debug(
        "http probe failed",
        {{"url", target_.url}, {"reason", verdict.reason}, {"detail", verdict.detail}});
    result.failure_reason = verdict.reason;
    result.families = BuildFamilies(net::HttpResponse{}, verdict);
    co_return result;
  }
  net::HttpResponse response = co_await client_.Perform(*request);
  if (response.error == net::TransferError::kDns && request->ip_resolve != net::IpResolve::kAny &&
      options_->ip_protocol_fallback) {
    // The name has no address of the preferred family: try the other one.
    auto remaining = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - start);
    if (remaining.count() > 0) {
      request->ip_resolve =
          request->ip_resolve == net::IpResolve::kV6 ? net::IpResolve::kV4 : net::IpResolve::kV6;
      request->timeout = remaining;
      double first_lookup = response.phases.resolve;
      response = co_await client_.Perform(*request);
      response.phases.resolve += first_lookup;
    }
  }
  Verdict verdict = Evaluate(*options_, response);
  if (!verdict.reason.empty()) {
    util::log::Debug(
        "http probe failed",
        {{"url", target_.url}, {"reason", verdict.reason}, {"detail", verdict.detail}});
  }
  result.success = verdict.reason.empty();
  result.failure_reason = verdict.reason;
  result.families = BuildFamilies(response, verdict);
  co_return result;
}

std::shared_ptr<const config::ProberOptions> HttpProbeKind::ParseOptions(
    const YAML::Node& options, config::YamlErrorSink& errors) const {
  return ParseHttpProbeOptions(options, errors);
}

util::Result<std::unique_ptr<exporters::TargetProber>> HttpProbeKind::NewTarget(
    const config::ModuleConfig& module, const std::string& target) {
  auto options = std::dynamic_pointer_cast<const HttpProbeOptions>(module.options);
  if (options == nullptr) return util::Fail("module \"{}\" has no http options", module.name);
  auto parsed = ParseTarget(target);
  if (!parsed) return tl::unexpected(parsed.error());
  return std::unique_ptr<exporters::TargetProber>(
      std::make_unique<HttpTargetProber>(client_, std::move(options), *std::move(parsed)));
}

}  // namespace vigil::http
