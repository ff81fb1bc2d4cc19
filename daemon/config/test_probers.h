#pragma once

// Test-only prober kinds for config tests: "http" (parses method,
// valid_status_codes and a bearer_token secret), "postgres" (a query) and
// "redis" (no options). They exercise ProberRegistry and the reader API the
// way real kinds in exporters/ do.

#include <memory>
#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace vigil::config::testing_probers {

struct FakeHttpOptions : ProberOptions {
  std::string method = "GET";
  std::vector<uint64_t> valid_status_codes;
  Secret bearer_token;

  void EmitYaml(YAML::Emitter& out) const override {
    out << YAML::BeginMap << YAML::Key << "method" << YAML::Value << method;
    out << YAML::Key << "valid_status_codes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (uint64_t code : valid_status_codes) out << code;
    out << YAML::EndSeq;
    if (!bearer_token.Empty()) {
      out << YAML::Key << "bearer_token" << YAML::Value << bearer_token.Describe();
    }
    out << YAML::EndMap;
  }
};

struct FakePostgresOptions : ProberOptions {
  std::string query = "SELECT 1";
};

inline std::shared_ptr<const ProberOptions> ParseFakeHttp(const YAML::Node& node,
                                                          YamlErrorSink& errors) {
  auto options = std::make_shared<FakeHttpOptions>();
  MapReader map(node, "http prober", errors);
  map.Read("method", options->method);
  if (auto codes = map.Get("valid_status_codes")) {
    ForEachItem(*codes, errors, [&](const YAML::Node& item) {
      if (auto code = ParseUint(item, errors)) options->valid_status_codes.push_back(*code);
    });
  }
  map.ReadSecret("bearer_token", options->bearer_token);
  return options;
}

inline std::shared_ptr<const ProberOptions> ParseFakePostgres(const YAML::Node& node,
                                                              YamlErrorSink& errors) {
  auto options = std::make_shared<FakePostgresOptions>();
  MapReader map(node, "postgres prober", errors);
  map.Read("query", options->query);
  return options;
}

inline const ProberRegistry& Registry() {
  static const ProberRegistry registry = [] {
    ProberRegistry r;
    r.Register("redis", [](const YAML::Node& node, YamlErrorSink& errors) {
      MapReader map(node, "redis prober", errors);
      return std::make_shared<const ProberOptions>();
    });
    r.Register("http", ParseFakeHttp);
    r.Register("postgres", ParseFakePostgres);
    return r;
  }();
  return registry;
}

}  // namespace vigil::config::testing_probers
