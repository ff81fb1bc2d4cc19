#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>

#include "daemon/config/config.h"
#include "daemon/config/secret.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/util/duration.h"

namespace vigil::exporters::redis {

// The `redis:` section of a module:
//
//   modules:
//     redis_cache:
//       prober: redis
//       timeout: 5s
//       redis:
//         username: vigil                  # ACL user; omit for the default user
//         password_file: /etc/vigil/redis  # or password / password_env
//         connect_timeout: 2s
//         command_timeout: 2s
//         reconnect_backoff: 1s
//         reconnect_backoff_max: 1m
//         tls_config:                      # for rediss:// targets; Prometheus's keys
//           ca_file: /etc/vigil/redis-ca.pem
//           cert_file: ...                 # with key_file: a client certificate
//           key_file: ...
//           server_name: cache.internal    # SNI and the name verified; default the host
//           insecure_skip_verify: false
//           min_version: TLS12
//
// A user or password in a redis:// or rediss:// target overrides these.
// Immutable after parsing; shared between config generations.
struct RedisOptions final : config::ProberOptions {
  std::string username;                         // "" = no ACL user (AUTH <password> alone)
  config::Secret password;                      // empty = no AUTH
  util::Duration connect_timeout{0};            // TCP + TLS handshake; 0 = the module's timeout
  util::Duration command_timeout{0};            // per round trip; 0 = the module's timeout
  util::Duration reconnect_backoff{1000};       // first wait after a failed connect (1s)
  util::Duration reconnect_backoff_max{60000};  // the wait doubles up to this (1m)
  config::TlsConfig tls_config;                 // rediss:// targets only

  void EmitYaml(YAML::Emitter& out) const override;
};

// Parses the section (a null node gives the defaults). Records each problem at
// its position and returns nullptr when any was found.
std::shared_ptr<const RedisOptions> ParseRedisOptions(const YAML::Node& node,
                                                      config::YamlErrorSink& errors);

}  // namespace vigil::exporters::redis
