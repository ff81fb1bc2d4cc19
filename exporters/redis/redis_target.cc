#include "exporters/redis/redis_target.h"

#include <fmt/format.h>

#include <charconv>

namespace vigil::exporters::redis {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

util::Result<std::string> PercentDecode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    int lo = hi >= 0 ? HexValue(text[i + 2]) : -1;
    if (lo < 0) return util::Fail("invalid percent-encoding in the {} of the redis URL", what);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

util::Result<int> ParsePort(std::string_view text, std::string_view hostport) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 ||
      port > 65535) {
    return util::Fail("invalid port \"{}\" in redis address \"{}\"", text, hostport);
  }
  return port;
}

// host[:port] or [v6]:port into `out`. Messages quote `hostport`, which never
// holds credentials.
util::Result<void> ParseHostPort(std::string_view hostport, RedisAddress& out) {
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return util::Fail("unterminated IPv6 address in redis address \"{}\"", hostport);
    }
    host = hostport.substr(1, close - 1);
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return util::Fail("invalid redis address \"{}\"", hostport);
      port = rest.substr(1);
      if (port.empty()) return util::Fail("empty port in redis address \"{}\"", hostport);
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    if (hostport.find(':') != colon) {
      return util::Fail("IPv6 addresses need brackets in redis address \"{}\"", hostport);
    }
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    if (port.empty()) return util::Fail("empty port in redis address \"{}\"", hostport);
  }
  if (host.empty()) return util::Fail("missing host in redis address \"{}\"", hostport);
  out.host = std::string(host);
  if (!port.empty()) {
    auto parsed = ParsePort(port, hostport);
    if (!parsed) return tl::unexpected(parsed.error());
    out.port = *parsed;
  }
  return {};
}

}  // namespace

std::string RedisAddress::Display() const {
  if (is_unix()) return "unix:" + unix_path;
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

util::Result<RedisAddress> ParseRedisTarget(std::string_view target) {
  RedisAddress address;
  if (target.empty()) return util::Fail("empty redis target");
  if (target.starts_with("unix://") || target.starts_with("/")) {
    std::string_view path = target.starts_with("unix://") ? target.substr(7) : target;
    if (path.empty() || path.front() != '/') {
      return util::Fail("redis unix socket path must be absolute in \"{}\"", target);
    }
    address.unix_path = std::string(path);
    return address;
  }
  std::string_view rest = target;
  address.tls = rest.starts_with("rediss://");
  if (rest.starts_with("redis://") || address.tls) {
    rest.remove_prefix(address.tls ? 9 : 8);
    size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
      std::string_view db = rest.substr(slash + 1);
      bool digits = !db.empty() && db.find_first_not_of("0123456789") == std::string_view::npos;
      if (!db.empty() && !digits) {
        return util::Fail("invalid database \"{}\" in redis target (want a number)", db);
      }
      rest = rest.substr(0, slash);
    }
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = rest.substr(0, at);
      rest = rest.substr(at + 1);
      size_t colon = userinfo.find(':');
      auto user = PercentDecode(userinfo.substr(0, colon), "user");
      if (!user) return tl::unexpected(user.error());
      address.username = std::move(*user);
      if (colon != std::string_view::npos) {
        auto password = PercentDecode(userinfo.substr(colon + 1), "password");
        if (!password) return tl::unexpected(password.error());
        address.password = std::move(*password);
      }
    }
  } else if (rest.find("://") != std::string_view::npos) {
    return util::Fail(
        "unsupported scheme \"{}\" in redis target (want redis://, rediss:// or unix://)",
        rest.substr(0, rest.find("://")));
  }
  auto parsed = ParseHostPort(rest, address);
  if (!parsed) return tl::unexpected(parsed.error());
  return address;
}

}  // namespace vigil::exporters::redis
