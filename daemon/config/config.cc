#include "daemon/config/config.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/config/detail/sections.h"

namespace vigil::config {
namespace {

void ParseGlobal(const YAML::Node& node, YamlErrorSink& errors, GlobalConfig& out) {
  const GlobalConfig defaults;
  MapReader map(node, "global", errors);
  map.Read("scrape_interval", out.scrape_interval);
  if (out.scrape_interval.count() == 0) out.scrape_interval = defaults.scrape_interval;
  util::Duration timeout{0};
  map.Read("scrape_timeout", timeout);
  if (timeout > out.scrape_interval) {
    errors.Add(map.Get("scrape_timeout")->Mark(),
               "global scrape timeout greater than scrape interval");
  }
  if (timeout.count() == 0) timeout = std::min(defaults.scrape_timeout, out.scrape_interval);
  out.scrape_timeout = timeout;
  map.Read("evaluation_interval", out.evaluation_interval);
  if (out.evaluation_interval.count() == 0) out.evaluation_interval = defaults.evaluation_interval;
  map.Read("external_labels", out.external_labels);
  map.Unsupported({"query_log_file", "scrape_failure_log_file", "scrape_protocols",
                   "body_size_limit", "sample_limit", "label_limit", "label_name_length_limit",
                   "label_value_length_limit", "target_limit", "keep_dropped_targets",
                   "rule_query_offset", "metric_name_validation_scheme",
                   "metric_name_escaping_scheme", "always_scrape_classic_histograms",
                   "convert_classic_histograms_to_nhcb"},
                  "");
}

void ParseParams(const YAML::Node& node, YamlErrorSink& errors,
                 std::map<std::string, std::vector<std::string>>& out) {
  ForEachEntry(node, errors,
               [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                 if (auto values = ParseStringList(value, errors)) out[key] = *std::move(values);
               });
}

// `job_lines` maps each job name seen so far to its line, to report duplicates.
std::optional<ScrapeConfig> ParseScrapeConfig(const YAML::Node& node, const GlobalConfig& global,
                                              std::map<std::string, int>& job_lines,
                                              YamlErrorSink& errors) {
  MapReader map(node, "scrape_config", errors);
  if (!map.is_map()) return std::nullopt;
  ScrapeConfig out;
  bool duplicate = false;
  if (map.Require("job_name") && map.Read("job_name", out.job_name)) {
    YAML::Mark mark = map.Get("job_name")->Mark();
    if (!job_lines.emplace(out.job_name, mark.line + 1).second) {
      errors.Addf(mark, "found multiple scrape configs with job name \"{}\"", out.job_name);
      duplicate = true;
    }
  }
  map.Read("scrape_interval", out.scrape_interval);
  map.Read("scrape_timeout", out.scrape_timeout);
  map.Read("metrics_path", out.metrics_path);
  detail::ReadScheme(map, "scheme", out.scheme);
  if (auto params = map.Get("params")) ParseParams(*params, errors, out.params);
  map.Read("honor_labels", out.honor_labels);
  map.Read("honor_timestamps", out.honor_timestamps);
  ReadHttpClientConfig(map, out.http);
  if (auto n = map.Get("static_configs"))
    out.static_configs = detail::ParseStaticConfigs(*n, errors);
  if (auto n = map.Get("file_sd_configs")) {
    out.file_sd_configs = detail::ParseFileSdConfigs(*n, errors);
  }
  if (auto n = map.Get("relabel_configs")) out.relabel_configs = ParseRelabelConfigs(*n, errors);
  if (auto n = map.Get("metric_relabel_configs")) {
    out.metric_relabel_configs = ParseRelabelConfigs(*n, errors);
  }
  map.Read("sample_limit", out.sample_limit);
  map.Read("label_limit", out.label_limit);
  map.ReadByteSize("body_size_limit", out.body_size_limit);
  detail::RejectUnsupportedDiscovery(map);
  map.Unsupported({"scrape_protocols", "fallback_scrape_protocol", "enable_compression",
                   "track_timestamps_staleness", "label_name_length_limit",
                   "label_value_length_limit", "target_limit", "keep_dropped_targets",
                   "native_histogram_bucket_limit", "native_histogram_min_bucket_factor",
                   "scrape_classic_histograms", "always_scrape_classic_histograms",
                   "convert_classic_histograms_to_nhcb", "metric_name_validation_scheme",
                   "metric_name_escaping_scheme", "scrape_failure_log_file"},
                  "");

  // Prometheus's ScrapeConfig.Validate: inherit from global, timeout <= interval.
  if (out.scrape_interval.count() == 0) out.scrape_interval = global.scrape_interval;
  if (out.scrape_timeout > out.scrape_interval) {
    auto at = map.Get("scrape_timeout");
    errors.Addf(at ? at->Mark() : map.mark(),
                "scrape timeout greater than scrape interval for scrape config with job name "
                "\"{}\"",
                out.job_name);
  }
  if (out.scrape_timeout.count() == 0) {
    out.scrape_timeout = std::min(global.scrape_timeout, out.scrape_interval);
  }
  if (duplicate) return std::nullopt;
  return out;
}

void ParseScrapeConfigs(const YAML::Node& node, const GlobalConfig& global, YamlErrorSink& errors,
                        std::vector<ScrapeConfig>& out) {
  std::map<std::string, int> job_lines;
  ForEachItem(node, errors, [&](const YAML::Node& item) {
    if (auto config = ParseScrapeConfig(item, global, job_lines, errors)) {
      out.push_back(*std::move(config));
    }
  });
}

void ParseAlertmanager(const YAML::Node& node, YamlErrorSink& errors,
                       std::vector<AlertmanagerConfig>& out) {
  MapReader map(node, "alertmanager_config", errors);
  if (!map.is_map()) return;
  AlertmanagerConfig am;
  detail::ReadScheme(map, "scheme", am.scheme);
  map.Read("path_prefix", am.path_prefix);
  map.Read("timeout", am.timeout);
  if (auto version = map.Get("api_version")) {
    auto text = ParseString(*version, errors);
    if (text && *text != "v2") {
      errors.Addf(version->Mark(), "expected Alertmanager api version to be one of [v2] but got {}",
                  *text);
    }
  }
  ReadHttpClientConfig(map, am.http);
  if (auto n = map.Get("static_configs"))
    am.static_configs = detail::ParseStaticConfigs(*n, errors);
  if (auto n = map.Get("relabel_configs")) am.relabel_configs = ParseRelabelConfigs(*n, errors);
  detail::RejectUnsupportedDiscovery(map);
  map.Unsupported({"alert_relabel_configs", "api_version_prefix"}, "");
  out.push_back(std::move(am));
}

void ParseAlerting(const YAML::Node& node, YamlErrorSink& errors, AlertingConfig& out) {
  MapReader map(node, "alerting", errors);
  if (auto n = map.Get("alert_relabel_configs")) {
    out.alert_relabel_configs = ParseRelabelConfigs(*n, errors);
  }
  if (auto n = map.Get("alertmanagers")) {
    ForEachItem(*n, errors, [&](const YAML::Node& item) {
      ParseAlertmanager(item, errors, out.alertmanagers);
    });
  }
}

std::string KnownKinds(const ProberRegistry& probers) {
  std::vector<std::string> kinds = probers.Kinds();
  if (kinds.empty()) return "none registered";
  return "known: " + fmt::format("{}", fmt::join(kinds, ", "));
}

void ParseModules(const YAML::Node& node, const ProberRegistry& probers, YamlErrorSink& errors,
                  std::map<std::string, ModuleConfig>& out) {
  ForEachEntry(
      node, errors, [&](const std::string& name, const YAML::Node&, const YAML::Node& value) {
        size_t before = errors.size();
        MapReader map(value, fmt::format("module \"{}\"", name), errors);
        if (!map.is_map()) return;
        ModuleConfig module;
        module.name = name;
        module.definition = YAML::Dump(value);
        map.Require("prober");
        map.Read("timeout", module.timeout);
        const ProberOptionsParser* parser = nullptr;
        if (auto prober = map.Get("prober"); prober && map.Read("prober", module.prober)) {
          map.Get(module.prober);  // the kind's own section is known even when the kind is not
          parser = probers.Find(module.prober);
          if (parser == nullptr) {
            errors.Addf(prober->Mark(), "unknown prober \"{}\" ({})", module.prober,
                        KnownKinds(probers));
          }
        }
        if (parser != nullptr) {
          auto section = map.Get(module.prober);
          module.options = (*parser)(section ? *section : YAML::Node(YAML::NodeType::Null), errors);
          if (module.options == nullptr && errors.size() == before) {
            errors.Addf(section ? section->Mark() : map.mark(),
                        "invalid {} options in module \"{}\"", module.prober, name);
          }
        }
        map.Finish();
        if (errors.size() == before) out.emplace(name, std::move(module));
      });
}

// `declared_modules` holds every module name in the file, including modules
// that failed to parse (already reported), so probes using them are not
// blamed a second time.
void ParseProbes(const YAML::Node& node, const Config& config,
                 const std::vector<std::string>& declared_modules, YamlErrorSink& errors,
                 std::vector<ProbeConfig>& out) {
  std::map<std::string, int> first_line;
  ForEachItem(node, errors, [&](const YAML::Node& item) {
    size_t before = errors.size();
    MapReader map(item, "probe", errors);
    if (!map.is_map()) return;
    ProbeConfig probe;
    probe.interval = config.global.scrape_interval;
    map.Require("name");
    map.Require("module");
    map.Require("target");
    map.Read("target", probe.target);
    map.Read("interval", probe.interval);
    if (probe.interval.count() == 0) probe.interval = config.global.scrape_interval;
    map.Read("labels", probe.labels);
    if (auto name = map.Get("name"); name && map.Read("name", probe.name)) {
      auto [seen, inserted] = first_line.emplace(probe.name, name->Mark().line + 1);
      if (!inserted) {
        errors.Addf(name->Mark(), "found multiple probes with name \"{}\" (first at line {})",
                    probe.name, seen->second);
      }
    }
    if (auto module = map.Get("module"); module && map.Read("module", probe.module)) {
      auto it = config.modules.find(probe.module);
      bool declared = std::find(declared_modules.begin(), declared_modules.end(), probe.module) !=
                      declared_modules.end();
      if (it == config.modules.end() && !declared) {
        errors.Addf(module->Mark(), "unknown module \"{}\" in probe \"{}\"", probe.module,
                    probe.name);
      } else if (it != config.modules.end() && it->second.timeout > probe.interval) {
        auto at = map.Get("interval");
        errors.Addf(at ? at->Mark() : map.mark(),
                    "timeout of module \"{}\" ({}) greater than interval ({}) of probe \"{}\"",
                    probe.module, util::FormatDuration(it->second.timeout),
                    util::FormatDuration(probe.interval), probe.name);
      }
    }
    map.Finish();
    if (errors.size() == before) out.push_back(std::move(probe));
  });
}

std::vector<std::string> ModuleNames(const YAML::Node& node) {
  std::vector<std::string> names;
  if (!node.IsMap()) return names;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar()) names.push_back(it->first.Scalar());
  }
  return names;
}

void ParseRoot(const YAML::Node& root, const ProberRegistry& probers, YamlErrorSink& errors,
               Config& config) {
  MapReader map(root, "config", errors);
  if (!map.is_map()) return;
  // Order matters: scrape configs and probes inherit from global; probes need modules.
  if (auto n = map.Get("global")) ParseGlobal(*n, errors, config.global);
  if (auto n = map.Get("rule_files")) {
    ForEachItem(*n, errors, [&](const YAML::Node& item) {
      if (auto pattern = ParseString(item, errors)) {
        config.rule_files.push_back(errors.ResolvePath(*pattern));
      }
    });
  }
  if (auto n = map.Get("alerting")) ParseAlerting(*n, errors, config.alerting);
  if (auto n = map.Get("scrape_configs")) {
    ParseScrapeConfigs(*n, config.global, errors, config.scrape_configs);
  }
  std::vector<std::string> module_names;
  if (auto n = map.Get("modules")) {
    ParseModules(*n, probers, errors, config.modules);
    module_names = ModuleNames(*n);
  }
  if (auto n = map.Get("probes")) ParseProbes(*n, config, module_names, errors, config.probes);
  map.Unsupported({"remote_write", "remote_read", "storage", "tracing", "scrape_config_files",
                   "otlp", "runtime"},
                  "");
}

std::string DirectoryOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

}  // namespace

Checked<Config> LoadString(std::string_view yaml, const std::string& filename,
                           const ProberRegistry& probers) {
  YamlErrorSink errors(filename, DirectoryOf(filename));
  Config config;
  config.source_file = filename;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    ParseRoot(root, probers, errors, config);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "invalid YAML: " + e.msg);
  }
  if (!errors.empty()) return tl::unexpected(errors.SortedErrors());
  return config;
}

Checked<Config> LoadFile(const std::string& path, const ProberRegistry& probers) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return tl::unexpected(
        Errors{ConfigError{path, 0, 0, "cannot read config file: Is a directory"}});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return tl::unexpected(Errors{
        ConfigError{path, 0, 0, fmt::format("cannot read config file: {}", std::strerror(errno))}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadString(text.str(), path, probers);
}

void ProberRegistry::Register(std::string kind, ProberOptionsParser parser) {
  parsers_[std::move(kind)] = std::move(parser);
}

bool ProberRegistry::Has(std::string_view kind) const { return parsers_.contains(kind); }

std::vector<std::string> ProberRegistry::Kinds() const {
  std::vector<std::string> kinds;
  for (const auto& [kind, parser] : parsers_) kinds.push_back(kind);
  return kinds;
}

const ProberOptionsParser* ProberRegistry::Find(std::string_view kind) const {
  auto it = parsers_.find(kind);
  return it == parsers_.end() ? nullptr : &it->second;
}

}  // namespace vigil::config
