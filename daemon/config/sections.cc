#include "daemon/config/detail/sections.h"

#include <re2/re2.h>

#include <algorithm>
#include <string>

#include "daemon/config/config.h"

namespace vigil::config {
namespace {

// "" when `target` is a usable "host[:port]" (IPv6 hosts in brackets), else the
// reason it is not.
std::string CheckTargetAddress(std::string_view target) {
  if (target.empty()) return "target address must not be empty";
  if (target.find('/') != std::string_view::npos) {
    return fmt::format("\"{}\" is not a valid hostname", target);
  }
  std::string_view host = target;
  std::string_view port;
  bool has_port = false;
  if (target.front() == '[') {
    size_t close = target.find(']');
    if (close == std::string_view::npos || close == 1) {
      return fmt::format("\"{}\" is not a valid host:port", target);
    }
    std::string_view after = target.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fmt::format("\"{}\" is not a valid host:port", target);
      port = after.substr(1);
      has_port = true;
    }
    host = target.substr(1, close - 1);
  } else if (size_t colon = target.find(':'); colon != std::string_view::npos) {
    if (target.find(':', colon + 1) != std::string_view::npos) {
      return fmt::format("\"{}\" is not a valid host:port (put IPv6 addresses in brackets)",
                         target);
    }
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
    has_port = true;
  }
  if (host.empty() || host.find_first_of(" \t") != std::string_view::npos) {
    return fmt::format("\"{}\" is not a valid host:port", target);
  }
  if (has_port) {
    bool digits =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
      return fmt::format("\"{}\" is not a valid host:port (bad port \"{}\")", target, port);
    }
  }
  return "";
}

}  // namespace

TlsConfig ParseTlsConfig(const YAML::Node& node, YamlErrorSink& errors) {
  TlsConfig out;
  MapReader map(node, "tls_config", errors);
  if (map.Read("ca_file", out.ca_file)) out.ca_file = errors.ResolvePath(out.ca_file);
  if (map.Read("cert_file", out.cert_file)) out.cert_file = errors.ResolvePath(out.cert_file);
  if (map.Read("key_file", out.key_file)) out.key_file = errors.ResolvePath(out.key_file);
  map.Read("server_name", out.server_name);
  map.Read("insecure_skip_verify", out.insecure_skip_verify);
  if (auto version = map.Get("min_version")) {
    auto text = ParseString(*version, errors);
    static constexpr std::string_view kVersions[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
    if (text &&
        std::find(std::begin(kVersions), std::end(kVersions), *text) == std::end(kVersions)) {
      errors.Addf(version->Mark(), "unknown TLS version: {}", *text);
    } else if (text) {
      out.min_version = *text;
    }
  }
  if (map.is_map()) {
    if (!out.cert_file.empty() && out.key_file.empty()) {
      errors.Add(map.mark(),
                 "exactly one of key or key_file must be configured when a client certificate "
                 "is configured");
    } else if (out.cert_file.empty() && !out.key_file.empty()) {
      errors.Add(map.mark(),
                 "exactly one of cert or cert_file must be configured when a client key is "
                 "configured");
    }
  }
  return out;
}

void ReadHttpClientConfig(MapReader& map, HttpClientConfig& out) {
  YamlErrorSink& errors = map.errors();
  if (auto node = map.Get("basic_auth")) {
    MapReader auth(*node, "basic_auth", errors);
    BasicAuth basic;
    auth.Read("username", basic.username);
    auth.ReadSecret("password", basic.password);
    if (auth.is_map()) out.basic_auth = std::move(basic);
  }
  std::optional<YAML::Mark> authorization_mark;
  if (auto node = map.Get("authorization")) {
    authorization_mark = map.KeyMark("authorization");
    MapReader auth(*node, "authorization", errors);
    if (auto type = auth.Get("type")) {
      auto text = ParseString(*type, errors);
      std::string lower = text.value_or("");
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "basic") {
        errors.Add(type->Mark(),
                   "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
      } else if (text) {
        out.authorization_type = *text;
      }
    }
    auth.ReadSecret("credentials", out.authorization_credentials);
  }
  Secret bearer;
  std::optional<YAML::Mark> bearer_mark;
  for (std::string_view key : {"bearer_token", "bearer_token_file", "bearer_token_env"}) {
    if (!bearer_mark && map.Has(key)) bearer_mark = map.KeyMark(key);
  }
  map.ReadSecret("bearer_token", bearer);
  if (bearer_mark && authorization_mark) {
    errors.Add(*bearer_mark,
               "authorization is not compatible with bearer_token & bearer_token_file");
  } else if (!bearer.Empty()) {
    out.authorization_type = "Bearer";
    out.authorization_credentials = std::move(bearer);
  }
  if (out.basic_auth && (authorization_mark || bearer_mark)) {
    errors.Add(authorization_mark ? *authorization_mark : *bearer_mark,
               "at most one of basic_auth, authorization & bearer_token must be configured");
  }
  map.Unsupported({"oauth2", "no_proxy", "proxy_from_environment", "proxy_connect_header",
                   "http_headers"},
                  "");
  if (auto node = map.Get("tls_config")) out.tls_config = ParseTlsConfig(*node, errors);
  map.Read("follow_redirects", out.follow_redirects);
  map.Read("enable_http2", out.enable_http2);
  if (auto node = map.Get("proxy_url")) {
    auto url = ParseString(*node, errors);
    if (url && url->find("://") == std::string::npos) {
      errors.Addf(node->Mark(), "invalid proxy_url \"{}\": missing scheme", *url);
    } else if (url) {
      out.proxy_url = *url;
    }
  }
}

void detail::RejectUnsupportedDiscovery(MapReader& map) {
  map.Unsupported({"azure_sd_configs",     "consul_sd_configs",     "digitalocean_sd_configs",
                   "docker_sd_configs",    "dockerswarm_sd_configs", "dns_sd_configs",
                   "ec2_sd_configs",       "eureka_sd_configs",     "gce_sd_configs",
                   "hetzner_sd_configs",   "http_sd_configs",       "ionos_sd_configs",
                   "kubernetes_sd_configs", "kuma_sd_configs",      "lightsail_sd_configs",
                   "linode_sd_configs",    "marathon_sd_configs",   "nerve_sd_configs",
                   "nomad_sd_configs",     "openstack_sd_configs",  "ovhcloud_sd_configs",
                   "puppetdb_sd_configs",  "scaleway_sd_configs",   "serverset_sd_configs",
                   "stackit_sd_configs",   "triton_sd_configs",     "uyuni_sd_configs",
                   "vultr_sd_configs"},
                  "; service discovery: static_configs and file_sd_configs");
}

std::vector<model::RelabelConfig> ParseRelabelConfigs(const YAML::Node& node,
                                                      YamlErrorSink& errors) {
  std::vector<model::RelabelConfig> out;
  ForEachItem(node, errors, [&](const YAML::Node& item) {
    size_t before = errors.size();
    MapReader map(item, "relabel_config", errors);
    model::RelabelConfig spec;
    if (auto sources = map.Get("source_labels")) {
      ForEachItem(*sources, errors, [&](const YAML::Node& source) {
        auto name = ParseString(source, errors);
        if (name && !model::IsValidLabelName(*name)) {
          errors.Addf(source.Mark(), "\"{}\" is not a valid label name", *name);
        } else if (name) {
          spec.source_labels.push_back(*name);
        }
      });
    }
    map.Read("separator", spec.separator);
    YAML::Mark regex_mark = map.mark();
    if (auto regex = map.Get("regex")) {
      regex_mark = regex->Mark();
      map.Read("regex", spec.regex_text);
    }
    map.Read("modulus", spec.modulus);
    map.Read("target_label", spec.target_label);
    map.Read("replacement", spec.replacement);
    if (auto action = map.Get("action")) {
      auto text = ParseString(*action, errors);
      auto parsed = text ? model::ParseRelabelAction(*text) : std::nullopt;
      if (text && !parsed) {
        errors.Addf(action->Mark(), "unknown relabel action \"{}\"", *text);
      } else if (parsed) {
        spec.action = *parsed;
      }
    }
    map.Finish();
    if (errors.size() != before) return;
    auto regex = model::CompileRelabelRegex(spec.regex_text);
    if (!regex) {
      errors.Add(regex_mark, regex.error().message);
      return;
    }
    spec.regex = *std::move(regex);
    if (auto valid = model::ValidateRelabelConfig(spec); !valid) {
      errors.Add(map.mark(), valid.error().message);
      return;
    }
    out.push_back(std::move(spec));
  });
  return out;
}

namespace detail {

std::vector<StaticConfig> ParseStaticConfigs(const YAML::Node& node, YamlErrorSink& errors) {
  std::vector<StaticConfig> out;
  ForEachItem(node, errors, [&](const YAML::Node& item) {
    MapReader map(item, "static_config", errors);
    StaticConfig config;
    if (auto targets = map.Get("targets")) {
      ForEachItem(*targets, errors, [&](const YAML::Node& target) {
        auto address = ParseString(target, errors);
        if (!address) return;
        if (std::string problem = CheckTargetAddress(*address); !problem.empty()) {
          errors.Add(target.Mark(), std::move(problem));
          return;
        }
        config.targets.push_back(*address);
      });
    }
    map.Read("labels", config.labels);
    if (map.is_map()) out.push_back(std::move(config));
  });
  return out;
}

std::vector<FileSdConfig> ParseFileSdConfigs(const YAML::Node& node, YamlErrorSink& errors) {
  // Prometheus's patFileSDName: a glob only in the last element, JSON or YAML.
  static const re2::RE2 kFilePattern(R"(^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$)");
  std::vector<FileSdConfig> out;
  ForEachItem(node, errors, [&](const YAML::Node& item) {
    MapReader map(item, "file_sd_config", errors);
    FileSdConfig config;
    if (map.Require("files")) {
      ForEachItem(*map.Get("files"), errors, [&](const YAML::Node& file) {
        auto path = ParseString(file, errors);
        if (!path) return;
        if (!re2::RE2::FullMatch(*path, kFilePattern)) {
          errors.Addf(file.Mark(), "path name \"{}\" is not valid for file discovery", *path);
          return;
        }
        config.files.push_back(errors.ResolvePath(*path));
      });
    }
    map.Read("refresh_interval", config.refresh_interval);
    if (map.is_map()) out.push_back(std::move(config));
  });
  return out;
}

void ReadScheme(MapReader& map, std::string_view key, std::string& out) {
  auto node = map.Get(key);
  if (!node) return;
  auto scheme = ParseString(*node, map.errors());
  if (!scheme) return;
  if (*scheme != "http" && *scheme != "https") {
    map.errors().Addf(node->Mark(), "{} must be \"http\" or \"https\", got \"{}\"", key, *scheme);
    return;
  }
  out = *scheme;
}

}  // namespace detail
}  // namespace vigil::config
