#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/net/http.h"

// Pure helpers that turn what libcurl reports into HttpResponse fields. Kept
// apart from the transfer machinery so they are unit-tested without a network.

namespace vigil::net::detail {

// libcurl's CURLINFO_*_TIME_T values of one transfer, in microseconds. Each is
// summed over redirect hops, every hop measured from its own start (libcurl
// accumulates them); total and redirect count from the start of the transfer.
struct CurlTimes {
  int64_t namelookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0,
          total = 0;
};

// Phases as blackbox_exporter defines them, summed over hops, in seconds. A
// phase that did not happen (no TLS, no response) is 0, never negative.
HttpPhases ComputePhases(const CurlTimes& times);

// The time of a certificate's "Expire date" as libcurl's OpenSSL backend
// prints it in CURLINFO_CERTINFO ("Jan  2 03:04:05 2030 GMT"), as Unix seconds;
// nullopt when the text is not in that form.
std::optional<int64_t> ParseCertExpireDate(std::string_view text);

// blackbox_exporter's label for an OpenSSL protocol name: "TLSv1.3" -> "TLS 1.3",
// "TLSv1" -> "TLS 1.0", "SSLv3" -> "SSL 3.0"; other names are returned unchanged.
std::string TlsVersionLabel(std::string_view openssl_name);

// Maps a CURLcode to the failure class. `body_too_large` says the write
// callback refused data because of the body limit.
TransferError ClassifyCurlCode(int code, bool body_too_large);

// "HTTP/1.1" etc. for a CURLINFO_HTTP_VERSION value; "" for 0 or unknown.
std::string HttpVersionName(long curl_http_version);

// Splits one raw header line ("Name: value\r\n") into a lower-cased name and a
// trimmed value; nullopt for status lines, blank lines and malformed lines.
std::optional<HttpHeader> ParseHeaderLine(std::string_view line);

}  // namespace vigil::net::detail
