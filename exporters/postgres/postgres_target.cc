#include "exporters/postgres/postgres_target.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <memory>

namespace vigil::exporters::postgres {
namespace {

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

util::Result<ConnParams> ParseWithLibpq(std::string_view target) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> options(
      PQconninfoParse(std::string(target).c_str(), &error));
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    // libpq quotes the offending keyword or URI part; a password can only appear
    // in a URI's userinfo, which libpq never quotes back.
    return util::Fail("invalid postgres target: {}", message);
  }
  ConnParams params;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val != nullptr) params[o->keyword] = o->val;
  }
  return params;
}

// host:port[/dbname] or [v6]:port[/dbname].
util::Result<ConnParams> ParseHostPort(std::string_view target) {
  ConnParams params;
  std::string_view hostport = target;
  if (size_t slash = target.find('/'); slash != std::string_view::npos) {
    hostport = target.substr(0, slash);
    std::string_view db = target.substr(slash + 1);
    if (db.empty()) return util::Fail("empty database name in postgres target \"{}\"", target);
    params["dbname"] = std::string(db);
  }
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return util::Fail("unterminated IPv6 address in postgres target \"{}\"", target);
    }
    host = hostport.substr(1, close - 1);
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return util::Fail("invalid postgres target \"{}\"", target);
    }
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else if (size_t colon = hostport.find(':'); colon != std::string_view::npos) {
    if (hostport.rfind(':') != colon) {
      return util::Fail("IPv6 addresses need brackets in postgres target \"{}\"", target);
    }
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return util::Fail("missing host in postgres target \"{}\"", target);
  params["host"] = std::string(host);
  if (has_port) {
    int number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return util::Fail("invalid port \"{}\" in postgres target \"{}\"", port, target);
    }
    params["port"] = std::string(port);
  }
  return params;
}

}  // namespace

util::Result<ConnParams> ParsePostgresTarget(std::string_view target) {
  if (target.empty()) return util::Fail("empty postgres target");
  if (target.starts_with("postgresql://") || target.starts_with("postgres://") ||
      target.find('=') != std::string_view::npos) {
    return ParseWithLibpq(target);
  }
  if (size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    return util::Fail("unsupported scheme \"{}\" in postgres target (want postgresql://)",
                      target.substr(0, scheme));
  }
  return ParseHostPort(target);
}

std::string BuildConnInfo(const ConnParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += ' ';
    out += key;
    out += "='";
    for (char c : value) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

std::string DisplayName(const ConnParams& params) {
  auto get = [&](const char* key, const char* fallback) {
    auto it = params.find(key);
    return it == params.end() || it->second.empty() ? std::string(fallback) : it->second;
  };
  std::string host = get("host", "localhost");
  if (host.find(':') != std::string::npos && host.front() != '/') host = "[" + host + "]";
  std::string user = get("user", "");
  return fmt::format("{}:{}/{}", host, get("port", "5432"), get("dbname", user.c_str()));
}

}  // namespace vigil::exporters::postgres
