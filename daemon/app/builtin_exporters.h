#pragma once

#include "daemon/net/http_client.h"
#include "daemon/util/worker_pool.h"
#include "exporters/common/prober.h"

namespace vigil::app {

// Registers every probe kind built into vigil (STYLE.md #5: an explicit call,
// no static registration). Adding a kind means one line here. `workers` runs
// the blocking database clients; `http` is the loop's HTTP client. Both must
// outlive the registry.
void RegisterBuiltinExporters(exporters::ProbeKindRegistry& kinds, util::WorkerPool& workers,
                              net::HttpClient& http);

}  // namespace vigil::app
