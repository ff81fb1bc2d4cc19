#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/error.h"
#include "daemon/config/secret.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/model/labels.h"
#include "daemon/model/relabel.h"
#include "daemon/util/duration.h"

// Vigil's configuration: YAML in Prometheus's format wherever Prometheus has the
// same section (global, scrape_configs, alerting, relabel_configs, HTTP client
// options), plus blackbox_exporter-style probe `modules` and `probes`.
// Every struct is a plain value: thread-compatible, copied freely.

namespace vigil::config {

// Basic authentication for an HTTP client (`basic_auth: {username,
// password|password_file|password_env}`).
struct BasicAuth {
  std::string username;
  Secret password;
};

// `tls_config`, as in Prometheus. Paths are resolved against the config file's
// directory. Empty strings mean "not set".
struct TlsConfig {
  std::string ca_file, cert_file, key_file, server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "", TLS10, TLS11, TLS12 or TLS13
};

// Prometheus's common HTTP client options, inlined into scrape and
// alertmanager configs: basic_auth, authorization{type, credentials(_file|_env)},
// the older bearer_token(_file|_env) (stored as authorization), tls_config,
// follow_redirects, enable_http2, proxy_url.
struct HttpClientConfig {
  std::optional<BasicAuth> basic_auth;
  std::string authorization_type = "Bearer";  // used only when credentials are set
  Secret authorization_credentials;
  TlsConfig tls_config;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::string proxy_url;  // "" = no proxy
};

// `global:`. Durations are util::Duration (milliseconds).
struct GlobalConfig {
  util::Duration scrape_interval{60000};      // 1m
  util::Duration scrape_timeout{10000};       // 10s, never above scrape_interval
  util::Duration evaluation_interval{60000};  // 1m
  model::Labels external_labels;
};

// One entry of `static_configs`: targets ("host:port") sharing labels.
struct StaticConfig {
  std::vector<std::string> targets;
  model::Labels labels;
};

// One entry of `file_sd_configs`. Files (globs allowed in the last path
// element) are resolved against the config file's directory.
struct FileSdConfig {
  std::vector<std::string> files;
  util::Duration refresh_interval{300000};  // 5m
};

// One entry of `scrape_configs`. After loading, scrape_interval and
// scrape_timeout are always set (inherited from global when not given).
struct ScrapeConfig {
  std::string job_name;
  util::Duration scrape_interval{0};
  util::Duration scrape_timeout{0};
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // http or https
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  HttpClientConfig http;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<model::RelabelConfig> relabel_configs, metric_relabel_configs;
  uint64_t sample_limit = 0, label_limit = 0;  // 0 = no limit
  uint64_t body_size_limit = 0;                // bytes (Prometheus units like 10MB); 0 = no limit
};

// One entry of `alerting.alertmanagers`.
struct AlertmanagerConfig {
  std::string scheme = "http";  // http or https
  std::string path_prefix;
  util::Duration timeout{10000};   // 10s
  std::string api_version = "v2";  // only v2 is supported
  HttpClientConfig http;
  std::vector<StaticConfig> static_configs;
  std::vector<model::RelabelConfig> relabel_configs;
};

// `alerting:`.
struct AlertingConfig {
  std::vector<model::RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;
};

// The options of one prober kind, parsed from the module's `<kind>:` section.
// Each kind derives its own type; consumers downcast with the kind they
// registered. Immutable after parsing; shared between config generations.
struct ProberOptions {
  virtual ~ProberOptions() = default;
  // Writes the options as one YAML value (usually a map) for the status page,
  // every secret as "<secret>". The default writes an empty map.
  virtual void EmitYaml(YAML::Emitter& out) const;
};

// Parses the `<kind>:` section of a module (a null node when the section is
// absent, so defaults apply). Records problems in `errors` and returns nullptr
// when the options are unusable.
using ProberOptionsParser = std::function<std::shared_ptr<const ProberOptions>(
    const YAML::Node& options, YamlErrorSink& errors)>;

// ProberRegistry maps a prober kind ("http", "postgres", ...) to its options
// parser. Kinds are registered by an explicit call from app (STYLE.md #5).
// Thread-compatible: built once at startup, then only read.
class ProberRegistry {
 public:
  // Registering the same kind twice replaces the parser.
  void Register(std::string kind, ProberOptionsParser parser);
  bool Has(std::string_view kind) const;
  // Registered kinds, sorted.
  std::vector<std::string> Kinds() const;
  // The parser for `kind`, or nullptr when unknown.
  const ProberOptionsParser* Find(std::string_view kind) const;

 private:
  std::map<std::string, ProberOptionsParser, std::less<>> parsers_;
};

// One entry of `modules`: how to probe (blackbox_exporter style).
struct ModuleConfig {
  std::string name;
  std::string prober;                            // a registered kind
  util::Duration timeout{5000};                  // 5s
  std::shared_ptr<const ProberOptions> options;  // from the kind's parser; never null after load
  // The module's YAML as written (secrets included: never display it). Equal
  // definitions across reloads let running probes keep their state.
  std::string definition;
};

// One entry of `probes`: what to probe, with which module, how often.
struct ProbeConfig {
  std::string name;  // unique
  std::string module;
  std::string target;
  util::Duration interval{0};  // defaults to global.scrape_interval
  model::Labels labels;
};

// A loaded, validated configuration.
struct Config {
  GlobalConfig global;
  std::vector<std::string> rule_files;  // globs, relative to the config file's directory
  AlertingConfig alerting;
  std::vector<ScrapeConfig> scrape_configs;
  std::map<std::string, ModuleConfig> modules;
  std::vector<ProbeConfig> probes;
  std::string source_file;  // the path given to LoadFile / the name given to LoadString
};

// Reads and validates a config file. On failure returns every error found,
// sorted by position. A missing or unreadable file is one error without position.
Checked<Config> LoadFile(const std::string& path, const ProberRegistry& probers);

// Same for text already in memory; `filename` is used in errors and its
// directory resolves relative paths. An empty text is a valid, all-default config.
Checked<Config> LoadString(std::string_view yaml, const std::string& filename,
                           const ProberRegistry& probers);

// Renders a loaded config as YAML, in the input format, for the status page
// (like Prometheus's /api/v1/status/config). Inline secrets appear as
// "<secret>"; `*_file` and `*_env` show the path or variable name.
std::string ToYaml(const Config& config);

// Writes one secret the way ToYaml does: `name: <secret>` for an inline value,
// `name_file: /path` or `name_env: VAR`, nothing when empty. For prober kinds'
// ProberOptions::EmitYaml, so no secret value ever reaches the status page.
void EmitSecret(YAML::Emitter& out, std::string_view name, const Secret& secret);
// Write `tls_config` and Prometheus's HTTP client keys the way ToYaml does
// (secrets through EmitSecret), for prober kinds that embed the same options.
void EmitTlsConfig(YAML::Emitter& out, const TlsConfig& tls);
void EmitHttpClientConfig(YAML::Emitter& out, const HttpClientConfig& http);

// Section readers shared with prober kinds that embed the same options.
// Reads Prometheus's HTTP client keys from `map` (basic_auth, authorization,
// bearer_token*, tls_config, follow_redirects, enable_http2, proxy_url).
void ReadHttpClientConfig(MapReader& map, HttpClientConfig& out);
// Reads a `tls_config` map.
TlsConfig ParseTlsConfig(const YAML::Node& node, YamlErrorSink& errors);
// Reads a list of relabel configs; invalid entries are reported and left out.
std::vector<model::RelabelConfig> ParseRelabelConfigs(const YAML::Node& node,
                                                      YamlErrorSink& errors);

}  // namespace vigil::config
