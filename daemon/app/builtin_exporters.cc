#include "daemon/app/builtin_exporters.h"

namespace vigil::app {

void RegisterBuiltinExporters(exporters::ProbeKindRegistry& kinds, util::WorkerPool& workers,
                              boost::asio::io_context& io) {
  (void)kinds;
  (void)workers;
  (void)io;
}

}  // namespace vigil::app
