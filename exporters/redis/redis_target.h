#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace vigil::exporters::redis {

// Where a Redis server listens, and the credentials a target URL carried.
// A value type.
struct RedisAddress {
  std::string host;                     // TCP host name or address; "" for a unix socket
  int port = 6379;                      // TCP port
  std::string unix_path;                // unix socket path; "" for TCP
  std::string username;                 // ACL user from the URL; "" = not given
  std::optional<std::string> password;  // from the URL; nullopt = not given
  bool tls = false;                     // rediss://: TLS over TCP

  bool is_unix() const { return !unix_path.empty(); }
  // "host:port" or "unix:/path", without credentials: safe to log and show.
  std::string Display() const;
};

// Parses a probe target:
//   redis://[user[:password]@]host[:port][/db]   TCP (port 6379 by default;
//                                                IPv6 as [::1]; /db is accepted and ignored:
//                                                INFO and CONFIG are server-wide)
//   rediss://[user[:password]@]host[:port][/db]  the same over TLS
//   unix:///path/to/redis.sock, /path/to/redis.sock   unix socket
//   host:port, host                              TCP
// User and password are percent-decoded. Errors name the problem, never the
// password.
util::Result<RedisAddress> ParseRedisTarget(std::string_view target);

}  // namespace vigil::exporters::redis
