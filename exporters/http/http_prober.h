#pragma once

#include <prometheus/metric_family.h>

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/net/http.h"
#include "daemon/net/http_client.h"
#include "exporters/common/prober.h"
#include "exporters/http/http_options.h"

namespace vigil::http {

// The failure reasons of the http kind, a closed set: "timeout", "dns",
// "connect", "tls", "http_status", "http_version", "body_regex", "body_json",
// "header", "body_too_large", "ssl_required" (fail_if_not_ssl),
// "ssl_forbidden" (fail_if_ssl), "redirect" (too many), "other".
const std::vector<std::string_view>& FailureReasons();

// What the checks of a module decided about one response.
struct Verdict {
  std::string reason;                // "" on success, else one of FailureReasons()
  bool failed_due_to_regex = false;  // a body or header regexp failed the probe
  std::string detail;                // for debug logs: what exactly failed
};

// Applies the module's checks to a response in blackbox_exporter's order:
// transfer error, status code, headers, body regexps, JSON assertions, HTTP
// version, SSL requirement. The first failing check gives the reason.
Verdict Evaluate(const HttpProbeOptions& options, const net::HttpResponse& response);

// The probe_* families of one probe, with blackbox_exporter's names and HELP
// texts (probe_success and probe_duration_seconds excluded). `ip_protocol` is
// 4 or 6, 0 when no connection was made. TLS families only when the final hop
// used TLS.
std::vector<prometheus::MetricFamily> BuildFamilies(const net::HttpResponse& response,
                                                    const Verdict& verdict);

// blackbox_exporter's probe_ip_addr_hash: FNV-1a (32 bit) over the address
// bytes (4 for IPv4, 16 for IPv6); 0 when `ip` is not an address.
double IpAddressHash(std::string_view ip);

// A probe target understood as a URL.
struct ProbeTarget {
  std::string url;          // http:// or https://
  bool ip_literal = false;  // the host is an IPv4 or IPv6 address
};

// "host:port" becomes "http://host:port"; http:// and https:// URLs are kept.
// Fails for other schemes or without a host.
util::Result<ProbeTarget> ParseTarget(std::string_view target);

// HttpTargetProber probes one URL with one module's options through the shared
// HttpClient: a fresh connection per probe (every phase measured, as
// blackbox_exporter), the module's checks, blackbox's metrics. Secrets are
// resolved at every probe. Loop thread only; one Probe() at a time.
class HttpTargetProber : public exporters::TargetProber {
 public:
  HttpTargetProber(net::HttpClient& client, std::shared_ptr<const HttpProbeOptions> options,
                   ProbeTarget target);
  boost::asio::awaitable<exporters::ProbeResult> Probe(std::chrono::milliseconds timeout) override;

 private:
  // The request for one attempt; fails when a secret cannot be read.
  util::Result<net::HttpRequest> BuildRequest(std::chrono::milliseconds timeout) const;

  net::HttpClient& client_;
  std::shared_ptr<const HttpProbeOptions> options_;
  ProbeTarget target_;
};

// HttpProbeKind is the "http" probe kind. The client must outlive every
// prober it creates. Loop thread only.
class HttpProbeKind : public exporters::ProbeKind {
 public:
  explicit HttpProbeKind(net::HttpClient& client) : client_(client) {}
  std::string name() const override { return "http"; }
  std::shared_ptr<const config::ProberOptions> ParseOptions(
      const YAML::Node& options, config::YamlErrorSink& errors) const override;
  util::Result<std::unique_ptr<exporters::TargetProber>> NewTarget(
      const config::ModuleConfig& module, const std::string& target) override;

 private:
  net::HttpClient& client_;
};

}  // namespace vigil::http
