#pragma once

#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::exporters::redis {

// The fields of a Redis INFO reply, all sections merged (field names are unique
// across sections): "used_memory" -> "1854504", "db0" -> "keys=1,expires=0,avg_ttl=0".
using InfoFields = std::map<std::string, std::string, std::less<>>;

// Parses INFO text ("# Section" headers, "field:value" lines, CRLF or LF).
// Lines without a colon are skipped; a value may itself contain colons.
InfoFields ParseInfo(std::string_view text);

// Converts INFO fields to metric families with oliver006/redis_exporter's names,
// types and HELP texts: the numeric fields of its gauge and counter tables
// (redis_memory_used_bytes, redis_commands_processed_total, ...), "ok" statuses
// as 1/0, redis_instance_info, redis_start_time_seconds, replication
// (redis_master_link_up{master_host,master_port} on a replica, per-replica
// offsets and lag on a master), redis_commands_total /
// redis_commands_duration_seconds_total{cmd} from commandstats,
// redis_errors_total{err} from errorstats, and redis_db_keys /
// redis_db_keys_expiring / redis_db_avg_ttl_seconds{db="dbN"} with a zero series
// for every database below `databases` that holds no key (pass 0 when the
// database count is unknown). Fields that are not numbers are skipped.
std::vector<prometheus::MetricFamily> InfoToFamilies(const InfoFields& info, int databases);

}  // namespace vigil::exporters::redis
