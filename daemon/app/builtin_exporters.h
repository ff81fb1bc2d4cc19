#pragma once

#include <boost/asio/io_context.hpp>

#include "daemon/util/worker_pool.h"
#include "exporters/common/prober.h"

namespace vigil::app {

// Registers every probe kind built into vigil (STYLE.md #5: an explicit call,
// no static registration). Adding a kind means one line here.
void RegisterBuiltinExporters(exporters::ProbeKindRegistry& kinds, util::WorkerPool& workers,
                              boost::asio::io_context& io);

}  // namespace vigil::app
