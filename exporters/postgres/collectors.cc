#include "exporters/postgres/collectors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string_view>

#include "exporters/common/family_set.h"

namespace vigil::exporters::postgres {
namespace {

using prometheus::MetricType;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A field as a number: NaN for NULL, 1/0 for booleans.
double Number(const pqxx::field& field) {
  if (field.is_null()) return kNaN;
  const char* text = field.c_str();
  if (std::string_view(text) == "t") return 1;
  if (std::string_view(text) == "f") return 0;
  char* end = nullptr;
  double value = std::strtod(text, &end);
  return end == text ? kNaN : value;
}

std::string Text(const pqxx::field& field) { return field.is_null() ? "" : field.c_str(); }

// Runs a collector's statements, each in its own implicit transaction.
// Prepared() prepares a statement once per connection (pqxx remembers it,
// named after a hash of its text), so the server plans it only once.
class Runner {
 public:
  explicit Runner(pqxx::connection_base& connection) : connection_(connection) {}

  pqxx::result Exec(const std::string& sql) const {
    pqxx::nontransaction tx(connection_);
    return tx.exec(sql);
  }

  template <typename... Args>
  pqxx::result Prepared(const std::string& sql, const Args&... args) const {
    std::string name = fmt::format("vigil_{:x}", std::hash<std::string>{}(sql));
    connection_.prepare(name, sql);  // a no-op once registered
    pqxx::nontransaction tx(connection_);
    return tx.exec_prepared(name, args...);
  }

 private:
  pqxx::connection_base& connection_;
};


void Postmaster(const Runner& query, FamilySet& out) {
  pqxx::result r = query.Exec("SELECT extract(epoch FROM pg_postmaster_start_time())");
  out.Add("pg_postmaster_start_time_seconds", "Time at which postmaster started", MetricType::Gauge,
          Number(r[0][0]));
}

void Settings(const Runner& query, FamilySet& out) {
  pqxx::result r = query.Exec(
      "SELECT name, setting, COALESCE(unit, ''), short_desc, vartype FROM pg_settings "
      "WHERE vartype IN ('bool', 'integer', 'real') ORDER BY name");
  for (const auto& row : r) {
    std::string name = "pg_settings_" + Text(row[0]);
    for (char& c : name) {
      if (c == '.' || c == '-') c = '_';
    }
    std::string help = Text(row[3]);
    std::string unit = Text(row[2]);
    double value = Text(row[4]) == "bool" ? (Text(row[1]) == "on" ? 1 : 0) : Number(row[1]);
    double scale = 0;
    std::string suffix;
    // postgres_exporter's normalisation: times to seconds, sizes to bytes;
    // negative values ("disabled") stay as they are.
    static const std::pair<std::string_view, double> kTimes[] = {
        {"ms", 0.001}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    static const std::pair<std::string_view, double> kSizes[] = {
        {"B", 1},           {"kB", 1024},       {"MB", 1 << 20},    {"GB", 1 << 30},
        {"TB", 1ull << 40}, {"4kB", 4096},      {"8kB", 8192},      {"16kB", 16384},
        {"32kB", 32768},    {"16MB", 16 << 20}, {"32MB", 32 << 20}, {"64MB", 64 << 20}};
    for (const auto& [u, s] : kTimes) {
      if (unit == u) scale = s, suffix = "seconds";
    }
    for (const auto& [u, s] : kSizes) {
      if (unit == u) scale = s, suffix = "bytes";
    }
    if (!unit.empty() && suffix.empty()) continue;  // a unit we do not know how to convert
    if (!suffix.empty()) {
      name += "_" + suffix;
      help += fmt::format(" [Units converted to {}.]", suffix);
      if (value > 0) value *= scale;
    }
    out.Add(name, help, MetricType::Gauge, value);
  }
}

void StatActivity(const Runner& query, FamilySet& out) {
  pqxx::result r = query.Prepared(
      "SELECT pg_database.datname, states.state, COALESCE(activity.count, 0), "
      "COALESCE(activity.max_tx_duration, 0) "
      "FROM (VALUES ('active'), ('idle'), ('idle in transaction'), "
      "('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) "
      "AS states(state) CROSS JOIN pg_database "
      "LEFT JOIN (SELECT datname, state, count(*) AS count, "
      "MAX(EXTRACT(EPOCH FROM now() - xact_start))::float AS max_tx_duration "
      "FROM pg_stat_activity GROUP BY datname, state) AS activity "
      "ON states.state = activity.state AND pg_database.datname = activity.datname "
      "ORDER BY 1, 2");
  for (const auto& row : r) {
    FamilySet::Labels labels = {{"datname", Text(row[0])}, {"state", Text(row[1])}};
    out.Add("pg_stat_activity_count", "number of connections in this state", MetricType::Gauge,
            Number(row[2]), labels);
    out.Add("pg_stat_activity_max_tx_duration",
            "max duration in seconds any active transaction has been running", MetricType::Gauge,
            Number(row[3]), labels);
  }
}

struct Column {
  const char* name;
  MetricType type;
  const char* help;
};

// "<prefix><column name>" for each column, built once.
template <size_t N>
std::array<std::string, N> MetricNames(std::string_view prefix, const Column (&columns)[N]) {
  std::array<std::string, N> names;
  for (size_t i = 0; i < N; ++i) names[i] = std::string(prefix) + columns[i].name;
  return names;
}

void StatDatabase(const Runner& query, FamilySet& out) {
  static constexpr Column kColumns[] = {
      {"numbackends", MetricType::Gauge,
       "Number of backends currently connected to this database. This is the only column in "
       "this view that returns a value reflecting current state; all other columns return the "
       "accumulated values since the last reset."},
      {"xact_commit", MetricType::Counter,
       "Number of transactions in this database that have been committed"},
      {"xact_rollback", MetricType::Counter,
       "Number of transactions in this database that have been rolled back"},
      {"blks_read", MetricType::Counter, "Number of disk blocks read in this database"},
      {"blks_hit", MetricType::Counter,
       "Number of times disk blocks were found already in the buffer cache, so that a read was "
       "not necessary (this only includes hits in the PostgreSQL buffer cache, not the "
       "operating system's file system cache)"},
      {"tup_returned", MetricType::Counter, "Number of rows returned by queries in this database"},
      {"tup_fetched", MetricType::Counter, "Number of rows fetched by queries in this database"},
      {"tup_inserted", MetricType::Counter, "Number of rows inserted by queries in this database"},
      {"tup_updated", MetricType::Counter, "Number of rows updated by queries in this database"},
      {"tup_deleted", MetricType::Counter, "Number of rows deleted by queries in this database"},
      {"conflicts", MetricType::Counter,
       "Number of queries canceled due to conflicts with recovery in this database. (Conflicts "
       "occur only on standby servers; see pg_stat_database_conflicts for details.)"},
      {"temp_files", MetricType::Counter,
       "Number of temporary files created by queries in this database. All temporary files are "
       "counted, regardless of why the temporary file was created (e.g., sorting or hashing), "
       "and regardless of the log_temp_files setting."},
      {"temp_bytes", MetricType::Counter,
       "Total amount of data written to temporary files by queries in this database. All "
       "temporary files are counted, regardless of why the temporary file was created, and "
       "regardless of the log_temp_files setting."},
      {"deadlocks", MetricType::Counter, "Number of deadlocks detected in this database"},
      {"blk_read_time", MetricType::Counter,
       "Time spent reading data file blocks by backends in this database, in milliseconds"},
      {"blk_write_time", MetricType::Counter,
       "Time spent writing data file blocks by backends in this database, in milliseconds"},
  };
  static const auto kNames = MetricNames("pg_stat_database_", kColumns);
  std::string sql = "SELECT datid::text, COALESCE(datname, '')";
  for (const Column& c : kColumns) sql += fmt::format(", {}", c.name);
  pqxx::result r = query.Prepared(sql + " FROM pg_stat_database ORDER BY datid");
  for (const auto& row : r) {
    FamilySet::Labels labels = {{"datid", Text(row[0])}, {"datname", Text(row[1])}};
    for (size_t i = 0; i < std::size(kColumns); ++i) {
      out.Add(kNames[i], kColumns[i].help, kColumns[i].type, Number(row[static_cast<int>(i) + 2]),
              labels);
    }
  }
}

void DatabaseSize(const Runner& query, FamilySet& out) {
  pqxx::result r =
      query.Exec("SELECT datname, pg_database_size(oid) FROM pg_database ORDER BY datname");
  for (const auto& row : r) {
    out.Add("pg_database_size_bytes", "Disk space used by the database", MetricType::Gauge,
            Number(row[1]), {{"datname", Text(row[0])}});
  }
}

void Locks(const Runner& query, FamilySet& out) {
  pqxx::result r = query.Prepared(
      "SELECT pg_database.datname, modes.mode, COALESCE(locks.count, 0) "
      "FROM (VALUES ('accesssharelock'), ('rowsharelock'), ('rowexclusivelock'), "
      "('shareupdateexclusivelock'), ('sharelock'), ('sharerowexclusivelock'), "
      "('exclusivelock'), ('accessexclusivelock'), ('sireadlock')) AS modes(mode) "
      "CROSS JOIN pg_database "
      "LEFT JOIN (SELECT database, lower(mode) AS mode, count(*) AS count FROM pg_locks "
      "WHERE database IS NOT NULL GROUP BY database, lower(mode)) AS locks "
      "ON modes.mode = locks.mode AND pg_database.oid = locks.database ORDER BY 1, 2");
  for (const auto& row : r) {
    out.Add("pg_locks_count", "Number of locks", MetricType::Gauge, Number(row[2]),
            {{"datname", Text(row[0])}, {"mode", Text(row[1])}});
  }
}

void Replication(const Runner& query, FamilySet& out) {
  // One round trip: the server's status on the one row of `one`, and on a
  // primary its WAL senders, one per row (pg_current_wal_lsn() is a primary-only
  // function; the WHERE clause is a one-time filter, so a replica never calls it).
  pqxx::result r = query.Prepared(
      "SELECT pg_is_in_recovery(), "
      "CASE WHEN NOT pg_is_in_recovery() THEN 0 "
      "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
      "ELSE GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END, "
      "GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))), "
      "s.application_name, s.client_addr, s.state, s.slot_name, s.current_lsn, s.lsn_diff "
      "FROM (SELECT 1) AS one LEFT JOIN ("
      "SELECT COALESCE(application_name, '') AS application_name, "
      "COALESCE(client_addr::text, '') AS client_addr, COALESCE(state, '') AS state, "
      "COALESCE(slot_name, '') AS slot_name, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS current_lsn, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS lsn_diff "
      "FROM pg_stat_replication LEFT JOIN pg_replication_slots ON pid = active_pid "
      "WHERE NOT pg_is_in_recovery()) AS s ON true "
      "ORDER BY 4, 5");
  bool replica = Number(r[0][0]) == 1;
  out.Add("pg_replication_is_replica", "Indicates if the server is a replica", MetricType::Gauge,
          replica ? 1 : 0);
  out.Add("pg_replication_lag_seconds", "Replication lag behind master in seconds",
          MetricType::Gauge, Number(r[0][1]));
  if (!r[0][2].is_null()) {
    out.Add("pg_replication_last_replay_seconds", "Age of last replay in seconds",
            MetricType::Gauge, Number(r[0][2]));
  }
  for (const auto& row : r) {
    if (row[3].is_null()) continue;  // no WAL sender
    FamilySet::Labels labels = {{"application_name", Text(row[3])},
                                {"client_addr", Text(row[4])},
                                {"state", Text(row[5])},
                                {"slot_name", Text(row[6])}};
    out.Add("pg_stat_replication_pg_current_wal_lsn_bytes", "WAL position in bytes",
            MetricType::Gauge, Number(row[7]), labels);
    out.Add("pg_stat_replication_pg_wal_lsn_diff", "Lag in bytes between master and slave",
            MetricType::Gauge, Number(row[8]), labels);
  }
}

// Which tables are the `limit` largest, and their sizes: pg_table_size() and
// pg_indexes_size() stat every file of each table, so this is cached.
TableSizes UserTableSizes(const Runner& query, uint64_t limit) {
  pqxx::result r = query.Exec(fmt::format(
      "SELECT relid::text, pg_table_size(relid), pg_indexes_size(relid) FROM pg_stat_user_tables "
      "ORDER BY 2 DESC, schemaname, relname LIMIT {}",
      limit));
  TableSizes out;
  for (const auto& row : r) {
    out.ids += (out.ids.empty() ? "" : ",") + Text(row[0]);
    out.sizes[Text(row[0])] = {Number(row[1]), Number(row[2])};
  }
  out.ids = "{" + out.ids + "}";
  return out;
}

void StatUserTables(const Runner& query, const TableSizes& tables, FamilySet& out) {
  static constexpr Column kColumns[] = {
      {"seq_scan", MetricType::Counter, "Number of sequential scans initiated on this table"},
      {"seq_tup_read", MetricType::Counter, "Number of live rows fetched by sequential scans"},
      {"idx_scan", MetricType::Counter, "Number of index scans initiated on this table"},
      {"idx_tup_fetch", MetricType::Counter, "Number of live rows fetched by index scans"},
      {"n_tup_ins", MetricType::Counter, "Number of rows inserted"},
      {"n_tup_upd", MetricType::Counter, "Number of rows updated"},
      {"n_tup_del", MetricType::Counter, "Number of rows deleted"},
      {"n_tup_hot_upd", MetricType::Counter,
       "Number of rows HOT updated (i.e., with no separate index update required)"},
      {"n_live_tup", MetricType::Gauge, "Estimated number of live rows"},
      {"n_dead_tup", MetricType::Gauge, "Estimated number of dead rows"},
      {"n_mod_since_analyze", MetricType::Gauge,
       "Estimated number of rows changed since last analyze"},
      {"last_vacuum", MetricType::Gauge,
       "Last time at which this table was manually vacuumed (not counting VACUUM FULL)"},
      {"last_autovacuum", MetricType::Gauge,
       "Last time at which this table was vacuumed by the autovacuum daemon"},
      {"last_analyze", MetricType::Gauge, "Last time at which this table was manually analyzed"},
      {"last_autoanalyze", MetricType::Gauge,
       "Last time at which this table was analyzed by the autovacuum daemon"},
      {"vacuum_count", MetricType::Counter,
       "Number of times this table has been manually vacuumed (not counting VACUUM FULL)"},
      {"autovacuum_count", MetricType::Counter,
       "Number of times this table has been vacuumed by the autovacuum daemon"},
      {"analyze_count", MetricType::Counter,
       "Number of times this table has been manually analyzed"},
      {"autoanalyze_count", MetricType::Counter,
       "Number of times this table has been analyzed by the autovacuum daemon"},
      {"index_size_bytes", MetricType::Gauge,
       "Total disk space used by indexes on this table, in bytes"},
      {"table_size_bytes", MetricType::Gauge, "Total disk space used by this table, in bytes"},
  };
  static const auto kNames = MetricNames("pg_stat_user_tables_", kColumns);
  // The last two columns (sizes) come from `tables`.
  constexpr size_t kQueried = std::size(kColumns) - 2;
  std::string sql = "SELECT current_database(), schemaname, relname, relid::text";
  for (size_t i = 0; i < kQueried; ++i) {
    std::string_view name = kColumns[i].name;
    if (name.starts_with("last_")) {
      sql += fmt::format(", COALESCE(EXTRACT(EPOCH FROM {}), 0)", name);
    } else {
      sql += fmt::format(", {}", name);
    }
  }
  pqxx::result r = query.Prepared(
      sql + " FROM pg_stat_user_tables WHERE relid = ANY($1::oid[]) ORDER BY 2, 3", tables.ids);
  for (const auto& row : r) {
    FamilySet::Labels labels = {
        {"datname", Text(row[0])}, {"schemaname", Text(row[1])}, {"relname", Text(row[2])}};
    for (size_t i = 0; i < kQueried; ++i) {
      out.Add(kNames[i], kColumns[i].help, kColumns[i].type, Number(row[static_cast<int>(i) + 4]),
              labels);
    }
    auto size = tables.sizes.find(Text(row[3]));
    if (size == tables.sizes.end()) continue;
    out.Add(kNames[kQueried], kColumns[kQueried].help, kColumns[kQueried].type,
            size->second.second, labels);
    out.Add(kNames[kQueried + 1], kColumns[kQueried + 1].help, kColumns[kQueried + 1].type,
            size->second.first, labels);
  }
}

// Whether pg_stat_statements is installed in the connected database, and where.
StatStatementsSource FindStatStatements(const Runner& query) {
  pqxx::result r = query.Exec(
      "SELECT quote_ident(n.nspname), current_setting('server_version_num')::int "
      "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pg_stat_statements'");
  if (r.empty()) return {};
  // PostgreSQL 13 renamed total_time and mean_time.
  return {fmt::format("{}.pg_stat_statements(false)", Text(r[0][0])), Number(r[0][1]) >= 130000};
}

void StatStatements(const Runner& query, const StatStatementsSource& source, uint64_t limit,
                    FamilySet& out) {
  if (source.function.empty()) return;
  const char* total = source.exec_time ? "total_exec_time" : "total_time";
  const char* mean = source.exec_time ? "mean_exec_time" : "mean_time";
  // The function with showtext=false, unlike the view, does not read the
  // query texts file. The top statements come out in a stable order, so that
  // consecutive collections list the same series in the same order.
  pqxx::result r = query.Prepared(fmt::format(
      "SELECT * FROM (SELECT pg_get_userbyid(s.userid), d.datname, s.queryid::text, s.calls, "
      "s.{0} / 1000, s.{1} / 1000, s.rows "
      "FROM {3} s JOIN pg_database d ON d.oid = s.dbid "
      "WHERE s.queryid IS NOT NULL ORDER BY s.{0} DESC LIMIT {2}) AS top ORDER BY 1, 2, 3",
      total, mean, limit, source.function));
  for (const auto& row : r) {
    FamilySet::Labels labels = {
        {"user", Text(row[0])}, {"datname", Text(row[1])}, {"queryid", Text(row[2])}};
    out.Add("pg_stat_statements_calls_total", "Number of times executed", MetricType::Counter,
            Number(row[3]), labels);
    out.Add("pg_stat_statements_seconds_total", "Total time spent in the statement, in seconds",
            MetricType::Counter, Number(row[4]), labels);
    out.Add("pg_stat_statements_mean_seconds", "Mean time spent in the statement, in seconds",
            MetricType::Gauge, Number(row[5]), labels);
    out.Add("pg_stat_statements_rows_total",
            "Total number of rows retrieved or affected by the statement", MetricType::Counter,
            Number(row[6]), labels);
  }
}

void Custom(const Runner& query, const CustomQuery& custom, FamilySet& out) {
  pqxx::result r = query.Exec(custom.query);
  // Column positions by name; a mapped column the query does not return is an error.
  std::vector<std::pair<const CustomColumn*, int>> columns;
  for (const CustomColumn& c : custom.columns) {
    if (c.usage == ColumnUsage::kDiscard) continue;
    int index = -1;
    for (pqxx::row_size_type i = 0; i < r.columns(); ++i) {
      if (c.name == r.column_name(i)) index = static_cast<int>(i);
    }
    if (index < 0) {
      throw pqxx::usage_error(
          fmt::format("custom query \"{}\" returned no column \"{}\"", custom.name, c.name));
    }
    columns.emplace_back(&c, index);
  }
  for (const auto& row : r) {
    FamilySet::Labels labels;
    for (const auto& [column, index] : columns) {
      if (column->usage == ColumnUsage::kLabel) labels.push_back({column->name, Text(row[index])});
    }
    for (const auto& [column, index] : columns) {
      if (column->usage == ColumnUsage::kLabel) continue;
      out.Add(fmt::format("{}_{}", custom.name, column->name), column->description,
              column->usage == ColumnUsage::kCounter ? MetricType::Counter : MetricType::Gauge,
              Number(row[index]), labels);
    }
  }
}

// Runs `fetch` when `cached` is stale; when it throws, `cached` stays empty
// (refreshed again next time) and the exception reaches the collector.
template <typename T, typename Fetch>
void Refresh(Cached<T>& cached, std::chrono::steady_clock::time_point now,
             std::chrono::milliseconds interval, Fetch fetch) {
  if (!cached.Stale(now)) return;
  cached.value.reset();
  cached.value = fetch();
  cached.expiry = now + interval;
}

// A cached list of families: refreshed through `collect` into its own set.
void RefreshFamilies(Cached<std::vector<prometheus::MetricFamily>>& cached,
                     std::chrono::steady_clock::time_point now, std::chrono::milliseconds interval,
                     const std::function<void(FamilySet&)>& collect) {
  Refresh(cached, now, interval, [&] {
    FamilySet set;
    collect(set);
    return set.Take();
  });
}

}  // namespace

Collection Collect(pqxx::connection_base& connection, const PostgresOptions& options,
                   CollectorCache& cache, std::chrono::steady_clock::time_point now) {
  Collection collection;
  FamilySet out;
  Runner query(connection);
  const auto settings_every = options.settings_refresh;
  const auto sizes_every = options.sizes_refresh;
  std::vector<std::pair<std::string, std::function<void()>>> collectors = {
      {"postmaster",
       [&] {
         RefreshFamilies(cache.postmaster, now, settings_every,
                         [&](FamilySet& set) { Postmaster(query, set); });
       }},
      {"settings",
       [&] {
         RefreshFamilies(cache.settings, now, settings_every,
                         [&](FamilySet& set) { Settings(query, set); });
       }},
      {"stat_activity", [&] { StatActivity(query, out); }},
      {"stat_database", [&] { StatDatabase(query, out); }},
      {"database",
       [&] {
         RefreshFamilies(cache.database_sizes, now, sizes_every,
                         [&](FamilySet& set) { DatabaseSize(query, set); });
       }},
      {"locks", [&] { Locks(query, out); }},
      {"replication", [&] { Replication(query, out); }},
      {"stat_user_tables",
       [&] {
         Refresh(cache.tables, now, sizes_every,
                 [&] { return UserTableSizes(query, options.user_tables_limit); });
         StatUserTables(query, *cache.tables.value, out);
       }},
  };
  if (options.stat_statements_limit > 0) {
    collectors.emplace_back("stat_statements", [&] {
      Refresh(cache.stat_statements, now, settings_every, [&] { return FindStatStatements(query); });
      StatStatements(query, *cache.stat_statements.value, options.stat_statements_limit, out);
    });
  }
  for (const CustomQuery& custom : options.queries) {
    collectors.emplace_back(custom.name, [&] { Custom(query, custom, out); });
  }

  auto fail = [&](std::string reason, std::string message) {
    if (collection.reason.empty() || reason == "timeout") collection.reason = std::move(reason);
    if (collection.message.empty()) collection.message = std::move(message);
  };
  for (const auto& [name, collect] : collectors) {
    bool ok = false;
    try {
      collect();
      ok = true;
    } catch (const pqxx::broken_connection& e) {
      collection.reason = "connect";
      collection.message = e.what();
      return collection;
    } catch (const pqxx::sql_error& e) {
      fail(e.sqlstate() == "57014" ? "timeout" : "query", fmt::format("{}: {}", name, e.what()));
    } catch (const std::exception& e) {
      fail("query", fmt::format("{}: {}", name, e.what()));
    }
    out.Add("pg_scrape_collector_success", "postgres_exporter: Whether a collector succeeded.",
            MetricType::Gauge, ok ? 1 : 0, {{"collector", name}});
  }
  collection.families = out.Take();
  // The cached families have names of their own; keep the whole list sorted.
  for (const auto* cached : {&cache.postmaster, &cache.settings, &cache.database_sizes}) {
    if (!cached->value) continue;
    collection.families.insert(collection.families.end(), cached->value->begin(),
                               cached->value->end());
  }
  std::sort(collection.families.begin(), collection.families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return collection;
}

}  // namespace vigil::exporters::postgres
