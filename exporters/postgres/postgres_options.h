#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/config/secret.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/util/duration.h"

namespace vigil::exporters::postgres {

// How a column of a custom query becomes samples (postgres_exporter's
// queries.yaml `usage`).
enum class ColumnUsage {
  kLabel,    // the value is a label on every metric of the row
  kGauge,    // a gauge <query name>_<column>
  kCounter,  // a counter <query name>_<column>
  kDiscard,  // ignored
};

// One column mapping of a custom query.
struct CustomColumn {
  std::string name;
  ColumnUsage usage = ColumnUsage::kDiscard;
  std::string description;  // the metric's HELP text
};

// A custom query, as in postgres_exporter's queries.yaml: every row yields one
// sample per GAUGE/COUNTER column, named <name>_<column>, labelled by the LABEL
// columns.
struct CustomQuery {
  std::string name;  // metric name prefix; a valid metric name
  std::string query;
  std::vector<CustomColumn> columns;  // in file order
};

// The `postgres:` section of a module:
//
//   modules:
//     pg:
//       prober: postgres
//       timeout: 5s
//       postgres:
//         user: vigil                       # default: the target's, else libpq's default
//         password_file: /etc/vigil/pg      # or password / password_env
//         database: postgres                # default: the target's, else the user name
//         sslmode: prefer                   # libpq sslmode; "" = libpq's default
//         connect_timeout: 2s
//         statement_timeout: 2s
//         reconnect_backoff: 1s
//         reconnect_backoff_max: 1m
//         stat_statements_limit: 20         # top statements by total time; 0 = off
//         user_tables_limit: 1000           # tables by size in pg_stat_user_tables_*
//         settings_refresh: 5m              # pg_settings_*, postmaster start, extensions
//         sizes_refresh: 1m                 # database, table and index sizes
//         queries:                          # custom queries
//           pg_app_orders:
//             query: SELECT status, count(*) AS n FROM orders GROUP BY status
//             metrics:
//               - status: {usage: LABEL, description: Order status}
//               - n: {usage: GAUGE, description: Orders by status}
//
// Values the target carries (user, password, dbname, sslmode in a URL or DSN)
// override these. Immutable after parsing; shared between config generations.
struct PostgresOptions final : config::ProberOptions {
  std::string user;                        // "" = the target's or libpq's default
  config::Secret password;                 // empty = none (or the target's)
  std::string database;                    // "" = the target's or libpq's default
  std::string sslmode;                     // "" = the target's or libpq's default (prefer)
  util::Duration connect_timeout{0};       // 0 = the module's timeout; whole seconds, at least 2s
  util::Duration statement_timeout{0};     // per statement; 0 = the module's timeout
  util::Duration reconnect_backoff{1000};  // first wait after a failed connect (1s)
  util::Duration reconnect_backoff_max{60000};  // the wait doubles up to this (1m)
  uint64_t stat_statements_limit = 20;          // statements; 0 = no pg_stat_statements metrics
  uint64_t user_tables_limit = 1000;            // tables, the largest first
  // Slowly changing results are kept per connection and queried again only
  // after these intervals (0 = on every collection); a new connection starts
  // afresh. settings_refresh: pg_settings_*, pg_postmaster_start_time_seconds
  // and whether pg_stat_statements is installed. sizes_refresh:
  // pg_database_size_bytes, the table and index sizes of pg_stat_user_tables_*
  // and which tables are the user_tables_limit largest.
  util::Duration settings_refresh{300000};  // 5m
  util::Duration sizes_refresh{60000};      // 1m
  std::vector<CustomQuery> queries;             // sorted by name

  void EmitYaml(YAML::Emitter& out) const override;
};

// Parses the section (a null node gives the defaults). Records each problem at
// its position and returns nullptr when any was found.
std::shared_ptr<const PostgresOptions> ParsePostgresOptions(const YAML::Node& node,
                                                            config::YamlErrorSink& errors);

}  // namespace vigil::exporters::postgres
