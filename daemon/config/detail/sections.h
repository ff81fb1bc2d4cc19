#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/yaml_reader.h"

// Section readers used by more than one part of the loader; not public API.
namespace vigil::config::detail {

// `static_configs`: targets must be "host" or "host:port" (no scheme or path).
std::vector<StaticConfig> ParseStaticConfigs(const YAML::Node& node, YamlErrorSink& errors);
// `file_sd_configs`: file patterns must end in .json/.yml/.yaml.
std::vector<FileSdConfig> ParseFileSdConfigs(const YAML::Node& node, YamlErrorSink& errors);
// Reads `key` as a URL scheme that must be http or https.
void ReadScheme(MapReader& map, std::string_view key, std::string& out);
// Reports Prometheus's service-discovery keys (`kubernetes_sd_configs`,
// `consul_sd_configs`, ...) other than static_configs and file_sd_configs as
// unsupported (MapReader::Unsupported) in a scrape or Alertmanager config.
void RejectUnsupportedDiscovery(MapReader& map);

}  // namespace vigil::config::detail
