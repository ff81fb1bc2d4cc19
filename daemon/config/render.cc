// ToYaml: the loaded config rendered back in its input format for the status
// page. Inline secrets never leave this file as anything but "<secret>".

#include "daemon/config/config.h"
#include "daemon/config/units.h"

namespace vigil::config {
namespace {

constexpr std::string_view kHidden = "<secret>";

void EmitDuration(YAML::Emitter& out, std::string_view key, util::Duration d) {
  out << YAML::Key << std::string(key) << YAML::Value << util::FormatDuration(d);
}

void EmitLabels(YAML::Emitter& out, std::string_view key, const model::Labels& labels) {
  if (labels.empty()) return;
  out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap;
  for (const model::Label& label : labels)
    out << YAML::Key << label.name << YAML::Value << label.value;
  out << YAML::EndMap;
}

void EmitStrings(YAML::Emitter& out, std::string_view key, const std::vector<std::string>& items,
                 bool flow) {
  out << YAML::Key << std::string(key) << YAML::Value;
  if (flow) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const std::string& item : items) out << item;
  out << YAML::EndSeq;
}


void EmitRelabel(YAML::Emitter& out, std::string_view key,
                 const std::vector<model::RelabelConfig>& configs) {
  if (configs.empty()) return;
  out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginSeq;
  for (const model::RelabelConfig& c : configs) {
    out << YAML::BeginMap;
    if (!c.source_labels.empty()) EmitStrings(out, "source_labels", c.source_labels, true);
    out << YAML::Key << "separator" << YAML::Value << c.separator;
    out << YAML::Key << "regex" << YAML::Value << c.regex_text;
    if (c.modulus != 0) out << YAML::Key << "modulus" << YAML::Value << c.modulus;
    if (!c.target_label.empty()) {
      out << YAML::Key << "target_label" << YAML::Value << c.target_label;
    }
    out << YAML::Key << "replacement" << YAML::Value << c.replacement;
    out << YAML::Key << "action" << YAML::Value << std::string(model::RelabelActionName(c.action));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitStaticConfigs(YAML::Emitter& out, const std::vector<StaticConfig>& configs) {
  if (configs.empty()) return;
  out << YAML::Key << "static_configs" << YAML::Value << YAML::BeginSeq;
  for (const StaticConfig& c : configs) {
    out << YAML::BeginMap;
    EmitStrings(out, "targets", c.targets, false);
    EmitLabels(out, "labels", c.labels);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitScrapeConfig(YAML::Emitter& out, const ScrapeConfig& c) {
  out << YAML::BeginMap;
  out << YAML::Key << "job_name" << YAML::Value << c.job_name;
  EmitDuration(out, "scrape_interval", c.scrape_interval);
  EmitDuration(out, "scrape_timeout", c.scrape_timeout);
  out << YAML::Key << "metrics_path" << YAML::Value << c.metrics_path;
  out << YAML::Key << "scheme" << YAML::Value << c.scheme;
  if (!c.params.empty()) {
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, values] : c.params) EmitStrings(out, name, values, true);
    out << YAML::EndMap;
  }
  out << YAML::Key << "honor_labels" << YAML::Value << c.honor_labels;
  out << YAML::Key << "honor_timestamps" << YAML::Value << c.honor_timestamps;
  EmitHttpClientConfig(out, c.http);
  EmitStaticConfigs(out, c.static_configs);
  if (!c.file_sd_configs.empty()) {
    out << YAML::Key << "file_sd_configs" << YAML::Value << YAML::BeginSeq;
    for (const FileSdConfig& f : c.file_sd_configs) {
      out << YAML::BeginMap;
      EmitStrings(out, "files", f.files, false);
      EmitDuration(out, "refresh_interval", f.refresh_interval);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  EmitRelabel(out, "relabel_configs", c.relabel_configs);
  EmitRelabel(out, "metric_relabel_configs", c.metric_relabel_configs);
  out << YAML::Key << "sample_limit" << YAML::Value << c.sample_limit;
  out << YAML::Key << "label_limit" << YAML::Value << c.label_limit;
  out << YAML::Key << "body_size_limit" << YAML::Value << FormatByteSize(c.body_size_limit);
  out << YAML::EndMap;
}

void EmitAlerting(YAML::Emitter& out, const AlertingConfig& alerting) {
  if (alerting.alert_relabel_configs.empty() && alerting.alertmanagers.empty()) return;
  out << YAML::Key << "alerting" << YAML::Value << YAML::BeginMap;
  EmitRelabel(out, "alert_relabel_configs", alerting.alert_relabel_configs);
  if (!alerting.alertmanagers.empty()) {
    out << YAML::Key << "alertmanagers" << YAML::Value << YAML::BeginSeq;
    for (const AlertmanagerConfig& am : alerting.alertmanagers) {
      out << YAML::BeginMap;
      out << YAML::Key << "scheme" << YAML::Value << am.scheme;
      if (!am.path_prefix.empty()) {
        out << YAML::Key << "path_prefix" << YAML::Value << am.path_prefix;
      }
      EmitDuration(out, "timeout", am.timeout);
      out << YAML::Key << "api_version" << YAML::Value << am.api_version;
      EmitHttpClientConfig(out, am.http);
      EmitStaticConfigs(out, am.static_configs);
      EmitRelabel(out, "relabel_configs", am.relabel_configs);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

}  // namespace

void EmitTlsConfig(YAML::Emitter& out, const TlsConfig& tls) {
  out << YAML::Key << "tls_config" << YAML::Value << YAML::BeginMap;
  auto optional = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) out << YAML::Key << std::string(key) << YAML::Value << value;
  };
  optional("ca_file", tls.ca_file);
  optional("cert_file", tls.cert_file);
  optional("key_file", tls.key_file);
  optional("server_name", tls.server_name);
  out << YAML::Key << "insecure_skip_verify" << YAML::Value << tls.insecure_skip_verify;
  optional("min_version", tls.min_version);
  out << YAML::EndMap;
}

void EmitHttpClientConfig(YAML::Emitter& out, const HttpClientConfig& http) {
  if (http.basic_auth) {
    out << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "username" << YAML::Value << http.basic_auth->username;
    EmitSecret(out, "password", http.basic_auth->password);
    out << YAML::EndMap;
  }
  if (!http.authorization_credentials.Empty()) {
    out << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "type" << YAML::Value << http.authorization_type;
    EmitSecret(out, "credentials", http.authorization_credentials);
    out << YAML::EndMap;
  }
  EmitTlsConfig(out, http.tls_config);
  out << YAML::Key << "follow_redirects" << YAML::Value << http.follow_redirects;
  out << YAML::Key << "enable_http2" << YAML::Value << http.enable_http2;
  if (!http.proxy_url.empty()) out << YAML::Key << "proxy_url" << YAML::Value << http.proxy_url;
}

void EmitSecret(YAML::Emitter& out, std::string_view name, const Secret& secret) {
  switch (secret.source()) {
    case Secret::Source::kNone:
      return;
    case Secret::Source::kInline:
      out << YAML::Key << std::string(name) << YAML::Value << std::string(kHidden);
      return;
    case Secret::Source::kFile:
      out << YAML::Key << std::string(name) + "_file" << YAML::Value << secret.reference();
      return;
    case Secret::Source::kEnv:
      out << YAML::Key << std::string(name) + "_env" << YAML::Value << secret.reference();
      return;
  }
}

void ProberOptions::EmitYaml(YAML::Emitter& out) const {
  out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
}

std::string ToYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  EmitDuration(out, "scrape_interval", config.global.scrape_interval);
  EmitDuration(out, "scrape_timeout", config.global.scrape_timeout);
  EmitDuration(out, "evaluation_interval", config.global.evaluation_interval);
  EmitLabels(out, "external_labels", config.global.external_labels);
  out << YAML::EndMap;
  if (!config.rule_files.empty()) EmitStrings(out, "rule_files", config.rule_files, false);
  EmitAlerting(out, config.alerting);
  if (!config.scrape_configs.empty()) {
    out << YAML::Key << "scrape_configs" << YAML::Value << YAML::BeginSeq;
    for (const ScrapeConfig& c : config.scrape_configs) EmitScrapeConfig(out, c);
    out << YAML::EndSeq;
  }
  if (!config.modules.empty()) {
    out << YAML::Key << "modules" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, module] : config.modules) {
      out << YAML::Key << name << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "prober" << YAML::Value << module.prober;
      EmitDuration(out, "timeout", module.timeout);
      out << YAML::Key << module.prober << YAML::Value;
      module.options->EmitYaml(out);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  if (!config.probes.empty()) {
    out << YAML::Key << "probes" << YAML::Value << YAML::BeginSeq;
    for (const ProbeConfig& p : config.probes) {
      out << YAML::BeginMap;
      out << YAML::Key << "name" << YAML::Value << p.name;
      out << YAML::Key << "module" << YAML::Value << p.module;
      out << YAML::Key << "target" << YAML::Value << p.target;
      EmitDuration(out, "interval", p.interval);
      EmitLabels(out, "labels", p.labels);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vigil::config
