#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <map>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <utility>
#include <vector>

#include "exporters/postgres/postgres_options.h"

namespace vigil::exporters::postgres {

// What one round of collectors found on an open connection. A value type.
struct Collection {
  std::vector<prometheus::MetricFamily> families;
  // "" when every collector succeeded; "timeout" when a statement was cancelled
  // by statement_timeout; "query" for any other SQL error; "connect" when the
  // connection broke (then `families` is empty and the connection is unusable).
  std::string reason;
  std::string message;  // the first error, for the debug log
};

// A query result kept until `expiry`.
template <typename T>
struct Cached {
  std::optional<T> value;  // nullopt: never fetched, or the last refresh failed
  std::chrono::steady_clock::time_point expiry;

  bool Stale(std::chrono::steady_clock::time_point now) const { return !value || now >= expiry; }
};

// The user tables reported by pg_stat_user_tables_*: the user_tables_limit
// largest, with their sizes.
struct TableSizes {
  std::string ids;  // their relids as a PostgreSQL array literal, "{16384,16402}"
  std::map<std::string, std::pair<double, double>> sizes;  // relid -> {table, indexes} bytes
};

// Where pg_stat_statements can be read without its query texts.
struct StatStatementsSource {
  std::string function;    // "public.pg_stat_statements(false)"; "" = extension not installed
  bool exec_time = true;   // PostgreSQL 13+: total_exec_time/mean_exec_time
};

// What Collect keeps between collections on one connection: the results of
// slowly changing queries (PostgresOptions::settings_refresh and
// sizes_refresh). A value type; start a connection with an empty one.
struct CollectorCache {
  Cached<std::vector<prometheus::MetricFamily>> postmaster;      // settings_refresh
  Cached<std::vector<prometheus::MetricFamily>> settings;        // settings_refresh
  Cached<StatStatementsSource> stat_statements;                  // settings_refresh
  Cached<std::vector<prometheus::MetricFamily>> database_sizes;  // sizes_refresh
  Cached<TableSizes> tables;                                     // sizes_refresh
};

// Runs every collector, each statement in its own read-only implicit
// transaction so that one failure leaves the others alone, and returns
// postgres_exporter's families: pg_postmaster_start_time_seconds,
// pg_settings_* (numeric and boolean settings, units converted to seconds or
// bytes), pg_stat_activity_count / pg_stat_activity_max_tx_duration{datname,state}
// (zeros for every database x state), pg_stat_database_*{datid,datname},
// pg_database_size_bytes{datname}, pg_locks_count{datname,mode} (zeros for every
// database x mode), pg_replication_is_replica / pg_replication_lag_seconds /
// pg_replication_last_replay_seconds, pg_stat_replication_pg_current_wal_lsn_bytes
// and _pg_wal_lsn_diff{application_name,client_addr,state,slot_name} on a primary,
// pg_stat_user_tables_*{datname,schemaname,relname} for the connected database,
// pg_stat_statements_*{user,datname,queryid} for the top statements when the
// extension is installed there, each custom query's metrics, and
// pg_scrape_collector_success{collector}.
//
// Cheap per collection: the statements that run every time are prepared once
// per connection; settings, the postmaster start time, database and table sizes
// (and which tables are the largest) come from `cache` until their refresh
// interval has passed (a failed refresh is retried on the next collection and
// reported as that collector's failure); pg_stat_statements is read without
// its query texts. Blocking; call it on a worker. Never throws.
Collection Collect(pqxx::connection_base& connection, const PostgresOptions& options,
                   CollectorCache& cache, std::chrono::steady_clock::time_point now);

}  // namespace vigil::exporters::postgres
