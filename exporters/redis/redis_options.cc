#include "exporters/redis/redis_options.h"

#include <string>
#include <utility>

#include "exporters/common/reconnect_backoff.h"

namespace vigil::exporters::redis {
namespace {

void EmitDuration(YAML::Emitter& out, const char* key, util::Duration d) {
  out << YAML::Key << key << YAML::Value << util::FormatDuration(d);
}

bool IsDefault(const config::TlsConfig& tls) {
  return tls.ca_file.empty() && tls.cert_file.empty() && tls.key_file.empty() &&
         tls.server_name.empty() && !tls.insecure_skip_verify && tls.min_version.empty();
}

}  // namespace

void RedisOptions::EmitYaml(YAML::Emitter& out) const {
  out << YAML::BeginMap;
  if (!username.empty()) out << YAML::Key << "username" << YAML::Value << username;
  config::EmitSecret(out, "password", password);
  EmitDuration(out, "connect_timeout", connect_timeout);
  EmitDuration(out, "command_timeout", command_timeout);
  EmitDuration(out, "reconnect_backoff", reconnect_backoff);
  EmitDuration(out, "reconnect_backoff_max", reconnect_backoff_max);
  if (!IsDefault(tls_config)) config::EmitTlsConfig(out, tls_config);
  out << YAML::EndMap;
}

std::shared_ptr<const RedisOptions> ParseRedisOptions(const YAML::Node& node,
                                                      config::YamlErrorSink& errors) {
  size_t before = errors.size();
  auto options = std::make_shared<RedisOptions>();
  config::MapReader map(node, "redis prober", errors);
  if (!map.is_map()) return nullptr;
  map.Read("username", options->username);
  map.ReadSecret("password", options->password);
  map.Read("connect_timeout", options->connect_timeout);
  map.Read("command_timeout", options->command_timeout);
  ReadReconnectBackoff(map, options->reconnect_backoff, options->reconnect_backoff_max);
  if (auto tls = map.Get("tls_config")) options->tls_config = config::ParseTlsConfig(*tls, errors);
  map.Finish();
  if (errors.size() != before) return nullptr;
  return options;
}

}  // namespace vigil::exporters::redis
