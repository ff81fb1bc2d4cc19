#pragma once

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "exporters/http/json_assertion.h"

namespace vigil::http {

// A regular expression as configured (RE2 syntax, unanchored search, as in
// blackbox_exporter).
struct Regexp {
  std::string text;
  std::shared_ptr<const re2::RE2> re;  // compiled; never null after parsing
};

// blackbox_exporter's `{header, regexp, allow_missing}`.
struct HeaderMatch {
  std::string header;  // case-insensitive
  Regexp regexp;
  bool allow_missing = false;  // absent header passes instead of failing
};

// The `http:` section of a probe module: blackbox_exporter's http prober
// options plus JSON body assertions. Immutable after parsing; thread-safe.
struct HttpProbeOptions : config::ProberOptions {
  // Accepted status codes; empty (default) = any 2xx.
  std::vector<int> valid_status_codes;
  // Accepted protocol versions ("HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0");
  // empty (default) = any.
  std::vector<std::string> valid_http_versions;
  std::string method = "GET";
  std::map<std::string, std::string> headers;  // sent with every request
  std::string body;                            // request body; "" = none
  // basic_auth, authorization / bearer_token (secrets inline, *_file or *_env,
  // read at every probe), tls_config, follow_redirects (default true; also
  // blackbox's older `no_follow_redirects`), enable_http2, proxy_url.
  config::HttpClientConfig http;
  bool fail_if_ssl = false;                             // the final hop must be plain HTTP
  bool fail_if_not_ssl = false;                         // the final hop must be HTTPS
  std::vector<Regexp> fail_if_body_matches_regexp;      // fail when any matches
  std::vector<Regexp> fail_if_body_not_matches_regexp;  // fail unless all match
  std::vector<HeaderMatch> fail_if_header_matches;      // fail when a value matches
  std::vector<HeaderMatch> fail_if_header_not_matches;  // fail unless a value matches
  // JSON assertions over the body: fail when any of the first holds, or when
  // any of the second does not. A body that is not JSON fails both kinds.
  std::vector<JsonAssertion> fail_if_body_json_matches;
  std::vector<JsonAssertion> fail_if_body_json_not_matches;
  // Address family for host names, as blackbox_exporter: "ip6" (default) or
  // "ip4"; with ip_protocol_fallback (default true) the other family is used
  // when the name has no address of the preferred one. IP literals ignore both.
  std::string preferred_ip_protocol = "ip6";
  bool ip_protocol_fallback = true;
  // Most response body bytes read (after decompression); more fails the probe
  // with "body_too_large". Prometheus units ("10MB"); 0 (default) = no limit.
  uint64_t body_size_limit = 0;

  void EmitYaml(YAML::Emitter& out) const override;
};

// Parses a module's `http:` section (null = all defaults). Every problem is
// recorded in `errors` at its position; returns nullptr when there was one.
std::shared_ptr<const config::ProberOptions> ParseHttpProbeOptions(const YAML::Node& node,
                                                                   config::YamlErrorSink& errors);

}  // namespace vigil::http
