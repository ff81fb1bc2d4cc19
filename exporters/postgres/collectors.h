#pragma once

#include <prometheus/metric_family.h>

#include <pqxx/connection>
#include <string>
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
// pg_scrape_collector_success{collector}. Blocking; call it on a worker.
// Never throws.
Collection Collect(pqxx::connection_base& connection, const PostgresOptions& options);

}  // namespace vigil::exporters::postgres
