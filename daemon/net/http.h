#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Value types of one HTTP exchange made by net::HttpClient. Plain values:
// thread-compatible, copied freely.

namespace vigil::net {

// Which address family the client may use for a host name.
enum class IpResolve {
  kAny,  // whatever the resolver returns (curl's happy eyeballs)
  kV4,   // IPv4 only
  kV6,   // IPv6 only
};

// TLS settings of a request. Empty strings mean "not set".
struct TlsOptions {
  std::string ca_file;    // PEM bundle to verify the server with; "" = system store
  std::string cert_file;  // client certificate (PEM); needs key_file
  std::string key_file;   // client key (PEM)
  // Name used for SNI and certificate verification instead of the URL's host;
  // the connection still goes to the URL's host and the Host header keeps it.
  std::string server_name;
  bool insecure_skip_verify = false;  // skip peer and host name verification
  std::string min_version;            // "", "TLS10", "TLS11", "TLS12" or "TLS13"
};

// Basic authentication credentials (already resolved from their secrets).
struct BasicCredentials {
  std::string username;
  std::string password;
};

// One request. Only `url` is required.
struct HttpRequest {
  std::string url;             // http:// or https://
  std::string method = "GET";  // any token; "HEAD" asks for no body
  // Extra request headers in order, names as given. A header given with an
  // empty value is removed from curl's defaults (e.g. {"Expect", ""}).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                          // sent when not empty
  std::string user_agent = "Vigil";          // overridden by a User-Agent header
  std::chrono::milliseconds timeout{10000};  // the whole exchange, redirects included; > 0
  bool follow_redirects = true;
  int max_redirects = 10;  // only when following
  TlsOptions tls;
  std::optional<BasicCredentials> basic_auth;
  bool enable_http2 = true;  // offer HTTP/2 over TLS (ALPN); plain HTTP stays 1.1
  std::string proxy_url;     // "" = no proxy (environment variables are ignored)
  IpResolve ip_resolve = IpResolve::kAny;
  // Most body bytes accepted (after decompression); the transfer is aborted
  // with TransferError::kBodyTooLarge beyond it. 0 = no limit.
  uint64_t max_body_bytes = 0;
  // Advertise every encoding libcurl can decode (gzip, deflate, br, zstd) and
  // decode transparently: `body` then holds the decoded bytes.
  bool decompress = true;
  // true: open a new connection and close it afterwards (what a probe wants:
  // every phase is measured). false (default): reuse pooled connections.
  bool fresh_connection = false;
  // Collect the peer certificates' expiry (HttpResponse::earliest_cert_expiry).
  // Only a TLS handshake made by this request yields it, so combine with
  // fresh_connection.
  bool collect_certificates = false;
};

// Why a transfer failed before a complete response was read.
enum class TransferError {
  kNone,
  kTimeout,           // request.timeout elapsed
  kDns,               // the host (or proxy) name did not resolve
  kConnect,           // TCP connect refused or unreachable
  kTls,               // handshake or certificate verification failed
  kBodyTooLarge,      // more than request.max_body_bytes
  kTooManyRedirects,  // more than request.max_redirects
  kCancelled,         // the operation was cancelled by its caller
  kOther,             // anything else (reset, garbage, bad URL, ...)
};

// "none", "timeout", "dns", "connect", "tls", "body_too_large",
// "too_many_redirects", "cancelled", "other".
std::string_view TransferErrorName(TransferError error);

// One response header; `name` is lower-cased, `value` trimmed.
struct HttpHeader {
  std::string name;
  std::string value;
  friend bool operator==(const HttpHeader&, const HttpHeader&) = default;
};

// Time spent per phase, in seconds, summed over all redirect hops, with
// blackbox_exporter's phase boundaries: resolve (name lookup), connect (TCP),
// tls (handshake; 0 without TLS), processing (request sent until the first
// response byte), transfer (first byte until the end).
struct HttpPhases {
  double resolve = 0, connect = 0, tls = 0, processing = 0, transfer = 0;
};

// The outcome of one request. When `error` is not kNone the fields describe
// what was received before the failure (status 0 when no response arrived).
struct HttpResponse {
  TransferError error = TransferError::kNone;
  int curl_code = 0;          // CURLcode, 0 on success
  std::string error_message;  // libcurl's description; "" on success

  long status = 0;                  // status code of the final response; 0 when none
  std::string http_version;         // "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0"; "" when none
  std::vector<HttpHeader> headers;  // of the final response, in order
  std::string body;                 // decoded when request.decompress
  int64_t content_length = -1;      // the Content-Length header; -1 when absent

  HttpPhases phases;
  double total_seconds = 0;   // the whole exchange
  int redirects = 0;          // redirects followed
  std::string effective_url;  // URL of the final hop
  std::string primary_ip;     // address of the final hop's connection; "" when none

  bool tls = false;         // the final hop used TLS
  std::string tls_version;  // "TLS 1.2", "TLS 1.3", ...; "" without TLS
  // Unix time (seconds) of the earliest NotAfter among the certificates the
  // server presented; only with request.collect_certificates.
  std::optional<int64_t> earliest_cert_expiry;

  bool ok() const { return error == TransferError::kNone; }
  // Values of the header `name` (any case), in order; empty when absent.
  std::vector<std::string_view> HeaderValues(std::string_view name) const;
};

}  // namespace vigil::net
