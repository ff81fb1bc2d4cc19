#include "exporters/postgres/postgres_options.h"

#include <algorithm>
#include <string>

#include "exporters/common/reconnect_backoff.h"

namespace vigil::exporters::postgres {
namespace {

bool IsMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

const char* UsageName(ColumnUsage usage) {
  switch (usage) {
    case ColumnUsage::kLabel:
      return "LABEL";
    case ColumnUsage::kGauge:
      return "GAUGE";
    case ColumnUsage::kCounter:
      return "COUNTER";
    case ColumnUsage::kDiscard:
      return "DISCARD";
  }
  return "DISCARD";
}

// One `- column: {usage: GAUGE, description: ...}` item.
void ParseColumn(const YAML::Node& item, const std::string& query, config::YamlErrorSink& errors,
                 std::vector<CustomColumn>& out) {
  config::ForEachEntry(
      item, errors, [&](const std::string& name, const YAML::Node&, const YAML::Node& value) {
        CustomColumn column;
        column.name = name;
        config::MapReader map(value, "column \"" + name + "\" of custom query \"" + query + "\"",
                              errors);
        if (!map.is_map()) return;
        map.Require("usage");
        map.Read("description", column.description);
        std::string usage;
        if (map.Read("usage", usage)) {
          if (usage == "LABEL") {
            column.usage = ColumnUsage::kLabel;
          } else if (usage == "GAUGE") {
            column.usage = ColumnUsage::kGauge;
          } else if (usage == "COUNTER") {
            column.usage = ColumnUsage::kCounter;
          } else if (usage == "DISCARD") {
            column.usage = ColumnUsage::kDiscard;
          } else {
            errors.Addf(map.Get("usage")->Mark(),
                        "unsupported usage \"{}\" (want LABEL, GAUGE, COUNTER or DISCARD)", usage);
          }
        }
        out.push_back(std::move(column));
      });
}

void ParseQueries(const YAML::Node& node, config::YamlErrorSink& errors,
                  std::vector<CustomQuery>& out) {
  config::ForEachEntry(
      node, errors, [&](const std::string& name, const YAML::Node& key, const YAML::Node& value) {
        CustomQuery query;
        query.name = name;
        if (!IsMetricName(name)) {
          errors.Addf(key.Mark(), "\"{}\" is not a valid metric name", name);
        }
        config::MapReader map(value, "custom query \"" + name + "\"", errors);
        if (!map.is_map()) return;
        map.Require("query");
        map.Require("metrics");
        map.Read("query", query.query);
        if (auto metrics = map.Get("metrics")) {
          size_t before = errors.size();
          config::ForEachItem(*metrics, errors, [&](const YAML::Node& item) {
            ParseColumn(item, name, errors, query.columns);
          });
          // An invalid usage is reported already; do not blame the query twice.
          bool invalid_usage =
              std::any_of(errors.errors().begin() + static_cast<std::ptrdiff_t>(before),
                          errors.errors().end(), [](const config::ConfigError& e) {
                            return e.message.starts_with("unsupported usage");
                          });
          bool has_value =
              std::any_of(query.columns.begin(), query.columns.end(), [](const auto& c) {
                return c.usage == ColumnUsage::kGauge || c.usage == ColumnUsage::kCounter;
              });
          if (!has_value && !invalid_usage) {
            errors.Addf(metrics->Mark(), "custom query \"{}\" has no GAUGE or COUNTER column",
                        name);
          }
        }
        out.push_back(std::move(query));
      });
}

}  // namespace

void PostgresOptions::EmitYaml(YAML::Emitter& out) const {
  out << YAML::BeginMap;
  if (!user.empty()) out << YAML::Key << "user" << YAML::Value << user;
  config::EmitSecret(out, "password", password);
  if (!database.empty()) out << YAML::Key << "database" << YAML::Value << database;
  if (!sslmode.empty()) out << YAML::Key << "sslmode" << YAML::Value << sslmode;
  for (auto [key, value] : {std::pair{"connect_timeout", connect_timeout},
                            std::pair{"statement_timeout", statement_timeout},
                            std::pair{"reconnect_backoff", reconnect_backoff},
                            std::pair{"reconnect_backoff_max", reconnect_backoff_max},
                            std::pair{"settings_refresh", settings_refresh},
                            std::pair{"sizes_refresh", sizes_refresh}}) {
    out << YAML::Key << key << YAML::Value << util::FormatDuration(value);
  }
  out << YAML::Key << "stat_statements_limit" << YAML::Value << stat_statements_limit;
  out << YAML::Key << "user_tables_limit" << YAML::Value << user_tables_limit;
  if (!queries.empty()) {
    out << YAML::Key << "queries" << YAML::Value << YAML::BeginMap;
    for (const CustomQuery& q : queries) {
      out << YAML::Key << q.name << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "query" << YAML::Value << q.query;
      out << YAML::Key << "metrics" << YAML::Value << YAML::BeginSeq;
      for (const CustomColumn& c : q.columns) {
        out << YAML::BeginMap << YAML::Key << c.name << YAML::Value << YAML::Flow << YAML::BeginMap
            << YAML::Key << "usage" << YAML::Value << UsageName(c.usage);
        if (!c.description.empty()) {
          out << YAML::Key << "description" << YAML::Value << c.description;
        }
        out << YAML::EndMap << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

std::shared_ptr<const PostgresOptions> ParsePostgresOptions(const YAML::Node& node,
                                                            config::YamlErrorSink& errors) {
  size_t before = errors.size();
  auto options = std::make_shared<PostgresOptions>();
  config::MapReader map(node, "postgres prober", errors);
  if (!map.is_map()) return nullptr;
  map.Read("user", options->user);
  map.ReadSecret("password", options->password);
  map.Read("database", options->database);
  if (map.Read("sslmode", options->sslmode)) {
    static constexpr const char* kModes[] = {"disable", "allow",     "prefer",
                                             "require", "verify-ca", "verify-full"};
    if (std::find(std::begin(kModes), std::end(kModes), options->sslmode) == std::end(kModes)) {
      errors.Addf(map.Get("sslmode")->Mark(),
                  "invalid sslmode \"{}\" (want disable, allow, prefer, require, verify-ca or "
                  "verify-full)",
                  options->sslmode);
    }
  }
  map.Read("connect_timeout", options->connect_timeout);
  map.Read("statement_timeout", options->statement_timeout);
  ReadReconnectBackoff(map, options->reconnect_backoff, options->reconnect_backoff_max);
  map.Read("stat_statements_limit", options->stat_statements_limit);
  map.Read("user_tables_limit", options->user_tables_limit);
  map.Read("settings_refresh", options->settings_refresh);
  map.Read("sizes_refresh", options->sizes_refresh);
  if (auto queries = map.Get("queries")) ParseQueries(*queries, errors, options->queries);
  map.Finish();
  if (errors.size() != before) return nullptr;
  std::sort(options->queries.begin(), options->queries.end(),
            [](const CustomQuery& a, const CustomQuery& b) { return a.name < b.name; });
  return options;
}

}  // namespace vigil::exporters::postgres
