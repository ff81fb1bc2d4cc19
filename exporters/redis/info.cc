#include "exporters/redis/info.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <set>
#include <utility>

#include "exporters/common/family_set.h"

namespace vigil::exporters::redis {
namespace {

using prometheus::MetricType;

struct FieldMetric {
  std::string_view field;   // INFO field
  std::string_view metric;  // redis_exporter's name without the "redis_" prefix
};

// redis_exporter's gauge table (Server, Clients, Memory, Persistence, Stats,
// Replication, Cluster sections).
constexpr FieldMetric kGauges[] = {
    {"uptime_in_seconds", "uptime_in_seconds"},
    {"process_id", "process_id"},
    {"io_threads_active", "io_threads_active"},
    {"connected_clients", "connected_clients"},
    {"blocked_clients", "blocked_clients"},
    {"tracking_clients", "tracking_clients"},
    {"clients_in_timeout_table", "clients_in_timeout_table"},
    {"cluster_connections", "cluster_connections"},
    {"client_longest_output_list", "client_longest_output_list"},
    {"client_biggest_input_buf", "client_biggest_input_buf"},
    {"client_recent_max_output_buffer", "client_recent_max_output_buffer_bytes"},
    {"client_recent_max_input_buffer", "client_recent_max_input_buffer_bytes"},
    {"allocator_active", "allocator_active_bytes"},
    {"allocator_allocated", "allocator_allocated_bytes"},
    {"allocator_resident", "allocator_resident_bytes"},
    {"allocator_frag_ratio", "allocator_frag_ratio"},
    {"allocator_frag_bytes", "allocator_frag_bytes"},
    {"allocator_rss_ratio", "allocator_rss_ratio"},
    {"allocator_rss_bytes", "allocator_rss_bytes"},
    {"used_memory", "memory_used_bytes"},
    {"used_memory_rss", "memory_used_rss_bytes"},
    {"used_memory_peak", "memory_used_peak_bytes"},
    {"used_memory_lua", "memory_used_lua_bytes"},
    {"used_memory_overhead", "memory_used_overhead_bytes"},
    {"used_memory_startup", "memory_used_startup_bytes"},
    {"used_memory_dataset", "memory_used_dataset_bytes"},
    {"used_memory_scripts", "memory_used_scripts_bytes"},
    {"maxmemory", "memory_max_bytes"},
    {"mem_fragmentation_ratio", "mem_fragmentation_ratio"},
    {"mem_fragmentation_bytes", "mem_fragmentation_bytes"},
    {"mem_clients_slaves", "mem_clients_slaves"},
    {"mem_clients_normal", "mem_clients_normal"},
    {"expired_stale_perc", "expired_stale_percentage"},
    {"mem_not_counted_for_evict", "mem_not_counted_for_eviction_bytes"},
    {"lazyfree_pending_objects", "lazyfree_pending_objects"},
    {"active_defrag_running", "active_defrag_running"},
    {"migrate_cached_sockets", "migrate_cached_sockets_total"},
    {"active_defrag_hits", "defrag_hits"},
    {"active_defrag_misses", "defrag_misses"},
    {"active_defrag_key_hits", "defrag_key_hits"},
    {"active_defrag_key_misses", "defrag_key_misses"},
    {"expired_time_cap_reached_count", "expired_time_cap_reached_total"},
    {"tracking_total_keys", "tracking_total_keys"},
    {"tracking_total_items", "tracking_total_items"},
    {"tracking_total_prefixes", "tracking_total_prefixes"},
    {"loading", "loading_dump_file"},
    {"rdb_changes_since_last_save", "rdb_changes_since_last_save"},
    {"rdb_bgsave_in_progress", "rdb_bgsave_in_progress"},
    {"rdb_last_save_time", "rdb_last_save_timestamp_seconds"},
    {"rdb_last_bgsave_status", "rdb_last_bgsave_status"},
    {"rdb_last_bgsave_time_sec", "rdb_last_bgsave_duration_sec"},
    {"rdb_current_bgsave_time_sec", "rdb_current_bgsave_duration_sec"},
    {"rdb_last_cow_size", "rdb_last_cow_size_bytes"},
    {"aof_enabled", "aof_enabled"},
    {"aof_rewrite_in_progress", "aof_rewrite_in_progress"},
    {"aof_rewrite_scheduled", "aof_rewrite_scheduled"},
    {"aof_last_rewrite_time_sec", "aof_last_rewrite_duration_sec"},
    {"aof_current_rewrite_time_sec", "aof_current_rewrite_duration_sec"},
    {"aof_last_cow_size", "aof_last_cow_size_bytes"},
    {"aof_current_size", "aof_current_size_bytes"},
    {"aof_base_size", "aof_base_size_bytes"},
    {"aof_pending_rewrite", "aof_pending_rewrite"},
    {"aof_buffer_length", "aof_buffer_length"},
    {"aof_rewrite_buffer_length", "aof_rewrite_buffer_length"},
    {"aof_pending_bio_fsync", "aof_pending_bio_fsync"},
    {"aof_delayed_fsync", "aof_delayed_fsync"},
    {"aof_last_bgrewrite_status", "aof_last_bgrewrite_status"},
    {"aof_last_write_status", "aof_last_write_status"},
    {"module_fork_in_progress", "module_fork_in_progress"},
    {"module_fork_last_cow_size", "module_fork_last_cow_size"},
    {"pubsub_channels", "pubsub_channels"},
    {"pubsub_patterns", "pubsub_patterns"},
    {"number_of_cached_scripts", "number_of_cached_scripts"},
    {"connected_slaves", "connected_slaves"},
    {"repl_backlog_size", "replication_backlog_bytes"},
    {"repl_backlog_active", "repl_backlog_is_active"},
    {"repl_backlog_first_byte_offset", "repl_backlog_first_byte_offset"},
    {"repl_backlog_histlen", "repl_backlog_history_bytes"},
    {"master_repl_offset", "master_repl_offset"},
    {"second_repl_offset", "second_repl_offset"},
    {"slave_expires_tracked_keys", "slave_expires_tracked_keys"},
    {"slave_priority", "slave_priority"},
    {"sync_full", "replica_resyncs_full"},
    {"sync_partial_ok", "replica_partial_resync_accepted"},
    {"sync_partial_err", "replica_partial_resync_denied"},
    {"cluster_enabled", "cluster_enabled"},
    {"cluster_stats_messages_sent", "cluster_messages_sent_total"},
    {"cluster_stats_messages_received", "cluster_messages_received_total"},
};

// redis_exporter's counter table.
constexpr FieldMetric kCounters[] = {
    {"total_connections_received", "connections_received_total"},
    {"total_commands_processed", "commands_processed_total"},
    {"rejected_connections", "rejected_connections_total"},
    {"total_net_input_bytes", "net_input_bytes_total"},
    {"total_net_output_bytes", "net_output_bytes_total"},
    {"expired_keys", "expired_keys_total"},
    {"evicted_keys", "evicted_keys_total"},
    {"keyspace_hits", "keyspace_hits_total"},
    {"keyspace_misses", "keyspace_misses_total"},
    {"used_cpu_sys", "cpu_sys_seconds_total"},
    {"used_cpu_user", "cpu_user_seconds_total"},
    {"used_cpu_sys_children", "cpu_sys_children_seconds_total"},
    {"used_cpu_user_children", "cpu_user_children_seconds_total"},
    {"used_cpu_sys_main_thread", "cpu_sys_main_thread_seconds_total"},
    {"used_cpu_user_main_thread", "cpu_user_main_thread_seconds_total"},
    {"total_error_replies", "total_error_replies"},
    {"unexpected_error_replies", "unexpected_error_replies"},
    {"dump_payload_sanitizations", "dump_payload_sanitizations"},
    {"total_reads_processed", "total_reads_processed"},
    {"total_writes_processed", "total_writes_processed"},
    {"io_threaded_reads_processed", "io_threaded_reads_processed"},
    {"io_threaded_writes_processed", "io_threaded_writes_processed"},
};

std::optional<double> ParseNumber(std::string_view text) {
  if (text == "ok") return 1.0;  // *_status fields
  if (text == "err" || text == "fail") return 0.0;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "keys=1,expires=0,avg_ttl=0" -> {keys:1, expires:0, avg_ttl:0}.
std::map<std::string_view, std::string_view> ParseSubfields(std::string_view text) {
  std::map<std::string_view, std::string_view> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) out.emplace(item.substr(0, eq), item.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string Get(const InfoFields& info, std::string_view field) {
  auto it = info.find(field);
  return it == info.end() ? std::string() : it->second;
}

void AddTable(const InfoFields& info, const FieldMetric* begin, const FieldMetric* end,
              MetricType type, FamilySet& out) {
  for (const FieldMetric* m = begin; m != end; ++m) {
    auto it = info.find(m->field);
    if (it == info.end()) continue;
    auto value = ParseNumber(it->second);
    if (!value) continue;
    out.Add(fmt::format("redis_{}", m->metric), fmt::format("{} metric", m->metric), type, *value);
  }
}

void AddInstance(const InfoFields& info, FamilySet& out) {
  out.Add("redis_instance_info", "Information about the Redis instance", MetricType::Gauge, 1,
          {{"role", Get(info, "role")},
           {"redis_version", Get(info, "redis_version")},
           {"redis_build_id", Get(info, "redis_build_id")},
           {"redis_mode", Get(info, "redis_mode")},
           {"os", Get(info, "os")},
           {"maxmemory_policy", Get(info, "maxmemory_policy")},
           {"tcp_port", Get(info, "tcp_port")},
           {"run_id", Get(info, "run_id")},
           {"process_id", Get(info, "process_id")}});
  auto now_usec = ParseNumber(Get(info, "server_time_usec"));
  auto uptime = ParseNumber(Get(info, "uptime_in_seconds"));
  if (now_usec && uptime) {
    out.Add("redis_start_time_seconds",
            "Start time of the Redis instance since unix epoch in seconds.", MetricType::Gauge,
            static_cast<double>(static_cast<int64_t>(*now_usec / 1e6 - *uptime)));
  }
  if (auto fork_usec = ParseNumber(Get(info, "latest_fork_usec"))) {
    out.Add("redis_latest_fork_seconds", "latest_fork_seconds metric", MetricType::Gauge,
            *fork_usec / 1e6);
  }
}

void AddReplication(const InfoFields& info, FamilySet& out) {
  if (info.contains("master_host")) {
    FamilySet::Labels labels = {{"master_host", Get(info, "master_host")},
                                {"master_port", Get(info, "master_port")}};
    out.Add("redis_master_link_up", "Master link status on Redis slave", MetricType::Gauge,
            Get(info, "master_link_status") == "up" ? 1 : 0, labels);
    if (auto v = ParseNumber(Get(info, "master_last_io_seconds_ago"))) {
      out.Add("redis_master_last_io_seconds_ago", "Master last io seconds ago", MetricType::Gauge,
              *v, labels);
    }
    if (auto v = ParseNumber(Get(info, "master_sync_in_progress"))) {
      out.Add("redis_master_sync_in_progress", "Master sync in progress", MetricType::Gauge, *v,
              labels);
    }
  }
  // slaveN:ip=10.0.0.2,port=6379,state=online,offset=123,lag=0
  for (int i = 0;; ++i) {
    auto it = info.find(fmt::format("slave{}", i));
    if (it == info.end()) break;
    auto sub = ParseSubfields(it->second);
    FamilySet::Labels labels = {{"slave_ip", std::string(sub["ip"])},
                                {"slave_port", std::string(sub["port"])},
                                {"slave_state", std::string(sub["state"])}};
    if (auto v = ParseNumber(sub["offset"])) {
      out.Add("redis_connected_slave_offset_bytes", "Offset of connected slave", MetricType::Gauge,
              *v, labels);
    }
    if (auto v = ParseNumber(sub["lag"])) {
      out.Add("redis_connected_slave_lag_seconds", "Lag of connected slave", MetricType::Gauge, *v,
              labels);
    }
  }
}

void AddPrefixed(const InfoFields& info, FamilySet& out) {
  // cmdstat_get:calls=5,usec=20,usec_per_call=4.00,rejected_calls=0,failed_calls=0
  for (auto it = info.lower_bound("cmdstat_");
       it != info.end() && it->first.starts_with("cmdstat_"); ++it) {
    std::string cmd = it->first.substr(8);
    auto sub = ParseSubfields(it->second);
    if (auto v = ParseNumber(sub["calls"])) {
      out.Add("redis_commands_total", "Total number of calls per command", MetricType::Counter, *v,
              {{"cmd", cmd}});
    }
    if (auto v = ParseNumber(sub["usec"])) {
      out.Add("redis_commands_duration_seconds_total",
              "Total amount of time in seconds spent per command", MetricType::Counter, *v / 1e6,
              {{"cmd", cmd}});
    }
    if (auto v = ParseNumber(sub["rejected_calls"])) {
      out.Add("redis_commands_rejected_calls_total",
              "Total number of errors within command execution per command", MetricType::Counter,
              *v, {{"cmd", cmd}});
    }
    if (auto v = ParseNumber(sub["failed_calls"])) {
      out.Add("redis_commands_failed_calls_total",
              "Total number of errors prior command execution per command", MetricType::Counter, *v,
              {{"cmd", cmd}});
    }
  }
  // errorstat_ERR:count=3
  for (auto it = info.lower_bound("errorstat_");
       it != info.end() && it->first.starts_with("errorstat_"); ++it) {
    auto sub = ParseSubfields(it->second);
    if (auto v = ParseNumber(sub["count"])) {
      out.Add("redis_errors_total", "Total number of errors per error type", MetricType::Counter,
              *v, {{"err", it->first.substr(10)}});
    }
  }
}

void AddKeyspace(const InfoFields& info, int databases, FamilySet& out) {
  std::set<int> seen;
  // db0:keys=1,expires=0,avg_ttl=0
  for (const auto& [field, value] : info) {
    if (field.size() < 3 || !field.starts_with("db") ||
        field.find_first_not_of("0123456789", 2) != std::string::npos) {
      continue;
    }
    int db = 0;
    std::from_chars(field.data() + 2, field.data() + field.size(), db);
    auto sub = ParseSubfields(value);
    auto keys = ParseNumber(sub["keys"]);
    auto expires = ParseNumber(sub["expires"]);
    if (!keys || !expires) continue;
    seen.insert(db);
    out.Add("redis_db_keys", "Total number of keys by DB", MetricType::Gauge, *keys,
            {{"db", field}});
    out.Add("redis_db_keys_expiring", "Total number of expiring keys by DB", MetricType::Gauge,
            *expires, {{"db", field}});
    if (auto ttl = ParseNumber(sub["avg_ttl"])) {
      out.Add("redis_db_avg_ttl_seconds", "Avg TTL in seconds", MetricType::Gauge, *ttl / 1000,
              {{"db", field}});
    }
  }
  for (int db = 0; db < databases; ++db) {
    if (seen.contains(db)) continue;
    std::string name = fmt::format("db{}", db);
    out.Add("redis_db_keys", "Total number of keys by DB", MetricType::Gauge, 0, {{"db", name}});
    out.Add("redis_db_keys_expiring", "Total number of expiring keys by DB", MetricType::Gauge, 0,
            {{"db", name}});
  }
}

}  // namespace

InfoFields ParseInfo(std::string_view text) {
  InfoFields fields;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fields.insert_or_assign(std::string(line.substr(0, colon)),
                            std::string(line.substr(colon + 1)));
  }
  return fields;
}

std::vector<prometheus::MetricFamily> InfoToFamilies(const InfoFields& info, int databases) {
  FamilySet out;
  AddTable(info, std::begin(kGauges), std::end(kGauges), MetricType::Gauge, out);
  AddTable(info, std::begin(kCounters), std::end(kCounters), MetricType::Counter, out);
  AddInstance(info, out);
  AddReplication(info, out);
  AddPrefixed(info, out);
  AddKeyspace(info, databases, out);
  return out.Take();
}

}  // namespace vigil::exporters::redis
