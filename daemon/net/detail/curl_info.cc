#include "daemon/net/detail/curl_info.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

namespace vigil::net::detail {
namespace {

double Seconds(int64_t micros) { return micros > 0 ? static_cast<double>(micros) / 1e6 : 0.0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parses `digits` decimal digits at `pos` (leading spaces allowed), advancing pos.
std::optional<int> ReadNumber(std::string_view text, size_t& pos) {
  while (pos < text.size() && text[pos] == ' ') ++pos;
  size_t start = pos;
  int value = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
         pos - start < 4) {
    value = value * 10 + (text[pos] - '0');
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return value;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

HttpPhases ComputePhases(const CurlTimes& t) {
  HttpPhases p;
  p.resolve = Seconds(t.namelookup);
  p.connect = t.connect > 0 ? Seconds(t.connect - t.namelookup) : 0;
  p.tls = t.appconnect > 0 ? Seconds(t.appconnect - t.connect) : 0;
  if (t.starttransfer > 0) {
    p.processing = Seconds(t.starttransfer - t.pretransfer);
    p.transfer = Seconds(t.total - t.starttransfer);
  }
  return p;
}

std::optional<int64_t> ParseCertExpireDate(std::string_view text) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  text = Trim(text);
  if (text.size() < 4) return std::nullopt;
  auto month = std::find(kMonths.begin(), kMonths.end(), text.substr(0, 3));
  if (month == kMonths.end() || text[3] != ' ') return std::nullopt;
  size_t pos = 4;
  auto day = ReadNumber(text, pos);
  if (!day || !Expect(text, pos, ' ')) return std::nullopt;
  auto hour = ReadNumber(text, pos);
  if (!hour || !Expect(text, pos, ':')) return std::nullopt;
  auto minute = ReadNumber(text, pos);
  if (!minute || !Expect(text, pos, ':')) return std::nullopt;
  auto second = ReadNumber(text, pos);
  if (!second || !Expect(text, pos, ' ')) return std::nullopt;
  auto year = ReadNumber(text, pos);
  if (!year || text.substr(pos) != " GMT") return std::nullopt;
  if (*day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = static_cast<int>(month - kMonths.begin());
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<int64_t>(timegm(&tm));
}

std::string TlsVersionLabel(std::string_view name) {
  if (name == "TLSv1") return "TLS 1.0";
  if (name.starts_with("TLSv")) return "TLS " + std::string(name.substr(4));
  if (name == "SSLv3") return "SSL 3.0";
  return std::string(name);
}

TransferError ClassifyCurlCode(int code, bool body_too_large) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_OK:
      return TransferError::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferError::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferError::kDns;
    case CURLE_COULDNT_CONNECT:
      return TransferError::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return TransferError::kTls;
    case CURLE_FILESIZE_EXCEEDED:
      return TransferError::kBodyTooLarge;
    case CURLE_WRITE_ERROR:
      return body_too_large ? TransferError::kBodyTooLarge : TransferError::kOther;
    case CURLE_TOO_MANY_REDIRECTS:
      return TransferError::kTooManyRedirects;
    default:
      return TransferError::kOther;
  }
}

std::string HttpVersionName(long version) {
  switch (version) {
    case CURL_HTTP_VERSION_1_0:
      return "HTTP/1.0";
    case CURL_HTTP_VERSION_1_1:
      return "HTTP/1.1";
    case CURL_HTTP_VERSION_2_0:
      return "HTTP/2.0";
    case CURL_HTTP_VERSION_3:
      return "HTTP/3.0";
    default:
      return "";
  }
}

std::optional<HttpHeader> ParseHeaderLine(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || line.starts_with("HTTP/")) {
    return std::nullopt;
  }
  std::string_view name = line.substr(0, colon);
  if (name.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  HttpHeader header;
  header.name.resize(name.size());
  std::transform(name.begin(), name.end(), header.name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  header.value = std::string(Trim(line.substr(colon + 1)));
  return header;
}

}  // namespace vigil::net::detail
