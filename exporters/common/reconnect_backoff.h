#pragma once

#include "daemon/config/yaml_reader.h"
#include "daemon/util/duration.h"

namespace vigil::exporters {

// Reads a connection-keeping prober's `reconnect_backoff` (first wait after a
// failed connect, must be > 0) and `reconnect_backoff_max` (the doubling
// wait's cap, at least reconnect_backoff) from its module map. Absent keys
// leave the defaults in place; errors go to the map's sink with the key's
// position.
void ReadReconnectBackoff(config::MapReader& map, util::Duration& backoff,
                          util::Duration& backoff_max);

}  // namespace vigil::exporters
