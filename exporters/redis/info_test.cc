#include "exporters/redis/info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

namespace vigil::exporters::redis {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// INFO ALL of redis-server 7.0.15 with 10000 keys in db0 and 1000 in db1
// (two expiring), captured by scripts/testenv/redis.sh's server.
std::string SampleInfo() {
  return ReadFile(std::string(VIGIL_SOURCE_DIR) + "/exporters/redis/testdata/info_all_7.0.txt");
}

const MetricFamily* Find(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of the series of `name` whose labels include `label`="value" (or the
// only series when label is empty).
std::optional<double> Value(const std::vector<MetricFamily>& families, const std::string& name,
                            const std::string& label = "", const std::string& value = "") {
  const MetricFamily* f = Find(families, name);
  if (f == nullptr) return std::nullopt;
  for (const auto& m : f->metric) {
    bool match = label.empty();
    for (const auto& l : m.label) match = match || (l.name == label && l.value == value);
    if (!match) continue;
    switch (f->type) {
      case MetricType::Counter:
        return m.counter.value;
      case MetricType::Gauge:
        return m.gauge.value;
      default:
        return m.untyped.value;
    }
  }
  return std::nullopt;
}

TEST(ParseInfo, SplitsFieldsAcrossSections) {
  InfoFields info = ParseInfo(SampleInfo());
  EXPECT_EQ(info.at("redis_version"), "7.0.15");
  EXPECT_EQ(info.at("os"), "Linux 6.18.44-fc-v669 x86_64");
  EXPECT_EQ(info.at("db1"), "keys=1000,expires=2,avg_ttl=0");
  EXPECT_EQ(info.at("cmdstat_set"),
            "calls=11000,usec=9792,usec_per_call=0.89,rejected_calls=0,failed_calls=0");
  EXPECT_FALSE(info.contains("# Server"));
  EXPECT_EQ(ParseInfo("a:1\nexecutable:/usr/bin/x:y\r\nnocolon\n").size(), 2u);
  EXPECT_EQ(ParseInfo("a:1\nexecutable:/usr/bin/x:y\r\n").at("executable"), "/usr/bin/x:y");
}

TEST(InfoToFamilies, ValuesFromTheSample) {
  auto f = InfoToFamilies(ParseInfo(SampleInfo()), 16);
  EXPECT_EQ(Value(f, "redis_uptime_in_seconds"), 1);
  EXPECT_EQ(Value(f, "redis_connected_clients"), 1);
  EXPECT_EQ(Value(f, "redis_blocked_clients"), 0);
  EXPECT_EQ(Value(f, "redis_memory_used_bytes"), 2100984);
  EXPECT_EQ(Value(f, "redis_memory_max_bytes"), 0);
  EXPECT_EQ(Value(f, "redis_mem_fragmentation_ratio"), 4.24);
  EXPECT_EQ(Value(f, "redis_commands_processed_total"), 11017);
  EXPECT_EQ(Value(f, "redis_keyspace_hits_total"), 5);
  EXPECT_EQ(Value(f, "redis_keyspace_misses_total"), 2);
  EXPECT_EQ(Value(f, "redis_evicted_keys_total"), 0);
  EXPECT_EQ(Value(f, "redis_expired_keys_total"), 0);
  EXPECT_EQ(Value(f, "redis_connected_slaves"), 0);
  EXPECT_EQ(Value(f, "redis_rdb_last_save_timestamp_seconds"), 1795848498);
  EXPECT_EQ(Value(f, "redis_rdb_last_bgsave_status"), 1);
  EXPECT_EQ(Value(f, "redis_start_time_seconds"), 1795848498);  // server_time - uptime
  EXPECT_EQ(Value(f, "redis_db_keys", "db", "db0"), 10000);
  EXPECT_EQ(Value(f, "redis_db_keys", "db", "db1"), 1000);
  EXPECT_EQ(Value(f, "redis_db_keys", "db", "db15"), 0);
  EXPECT_EQ(Value(f, "redis_db_keys_expiring", "db", "db1"), 2);
  EXPECT_EQ(Value(f, "redis_db_keys_expiring", "db", "db7"), 0);
  EXPECT_EQ(Find(f, "redis_db_keys")->metric.size(), 16u);
  EXPECT_EQ(Find(f, "redis_db_avg_ttl_seconds")->metric.size(), 2u);
  EXPECT_EQ(Value(f, "redis_commands_total", "cmd", "set"), 11000);
  EXPECT_EQ(Value(f, "redis_commands_total", "cmd", "command|docs"), 2);
  EXPECT_DOUBLE_EQ(*Value(f, "redis_commands_duration_seconds_total", "cmd", "set"), 0.009792);
  EXPECT_EQ(Value(f, "redis_instance_info", "role", "master"), 1);
  EXPECT_EQ(Value(f, "redis_instance_info", "redis_version", "7.0.15"), 1);
  EXPECT_EQ(Find(f, "redis_master_link_up"), nullptr);  // a master has no master link
  EXPECT_EQ(Find(f, "redis_commands_processed_total")->type, MetricType::Counter);
  EXPECT_EQ(Find(f, "redis_memory_used_bytes")->type, MetricType::Gauge);
}

TEST(InfoToFamilies, OnlyDatabasesWithKeysWhenTheCountIsUnknown) {
  auto f = InfoToFamilies(ParseInfo(SampleInfo()), 0);
  EXPECT_EQ(Find(f, "redis_db_keys")->metric.size(), 2u);
}

TEST(InfoToFamilies, ReplicaAndMasterReplicationFields) {
  auto replica =
      InfoToFamilies(ParseInfo("role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n"
                               "master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\n"
                               "master_sync_in_progress:0\r\n"),
                     0);
  EXPECT_EQ(Value(replica, "redis_master_link_up", "master_host", "10.0.0.1"), 0);
  EXPECT_EQ(Value(replica, "redis_master_last_io_seconds_ago", "master_port", "6379"), -1);
  auto up = InfoToFamilies(
      ParseInfo("role:slave\nmaster_host:h\nmaster_port:1\nmaster_link_status:up\n"), 0);
  EXPECT_EQ(Value(up, "redis_master_link_up"), 1);

  auto master =
      InfoToFamilies(ParseInfo("role:master\nconnected_slaves:1\n"
                               "slave0:ip=10.0.0.2,port=6380,state=online,offset=4242,lag=1\n"
                               "errorstat_ERR:count=3\n"),
                     0);
  EXPECT_EQ(Value(master, "redis_connected_slaves"), 1);
  EXPECT_EQ(Value(master, "redis_connected_slave_offset_bytes", "slave_ip", "10.0.0.2"), 4242);
  EXPECT_EQ(Value(master, "redis_connected_slave_lag_seconds", "slave_port", "6380"), 1);
  EXPECT_EQ(Value(master, "redis_errors_total", "err", "ERR"), 3);
}

// Every family we emit that redis_exporter 1.45 also emits has its HELP text
// and type, so dashboards and `promtool check metrics` see the same thing. The
// reference lines are the "# HELP redis_*" / "# TYPE redis_*" lines of the real
// Debian redis_exporter 1.45 output kept in the project's reference samples.
TEST(InfoToFamilies, HelpAndTypeMatchRedisExporter) {
  std::map<std::string, std::pair<std::string, std::string>> reference;  // name -> help, type
  std::string path =
      std::string(VIGIL_SOURCE_DIR) + "/exporters/redis/testdata/redis_exporter_1.45_help_type.txt";
  std::istringstream kept(ReadFile(path));
  std::string line;
  while (std::getline(kept, line)) {
    std::istringstream words(line);
    std::string hash, kind, name;
    words >> hash >> kind >> name;
    std::string rest;
    std::getline(words, rest);
    if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    if (kind == "HELP") reference[name].first = rest;
    if (kind == "TYPE") reference[name].second = rest;
  }
  ASSERT_GT(reference.size(), 100u) << path;

  auto families = InfoToFamilies(ParseInfo(SampleInfo()), 16);
  int compared = 0;
  for (const auto& f : families) {
    auto it = reference.find(f.name);
    if (it == reference.end()) continue;
    ++compared;
    EXPECT_EQ(f.help, it->second.first) << f.name;
    std::string type = f.type == MetricType::Counter ? "counter"
                       : f.type == MetricType::Gauge ? "gauge"
                                                     : "untyped";
    EXPECT_EQ(type, it->second.second) << f.name;
  }
  EXPECT_GE(compared, 90);
  for (const char* name :
       {"redis_uptime_in_seconds", "redis_connected_clients", "redis_blocked_clients",
        "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_mem_fragmentation_ratio",
        "redis_commands_processed_total", "redis_keyspace_hits_total",
        "redis_keyspace_misses_total", "redis_evicted_keys_total", "redis_expired_keys_total",
        "redis_db_keys", "redis_db_keys_expiring", "redis_connected_slaves",
        "redis_rdb_last_save_timestamp_seconds", "redis_commands_total",
        "redis_commands_duration_seconds_total"}) {
    EXPECT_NE(Find(families, name), nullptr) << name;
  }
}

}  // namespace
}  // namespace vigil::exporters::redis
