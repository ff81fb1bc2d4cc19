#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/config/config.h"
#include "daemon/web/http_types.h"
#include "exporters/common/prober.h"

namespace vigil::app {

// GET /probe?module=M&target=T, as blackbox_exporter answers it: runs one
// probe with module M of the running config against T and returns its metrics
// (probe_success, probe_duration_seconds and the kind's own) in the text
// format. The timeout is the module's, shortened to the scraper's
// X-Prometheus-Scrape-Timeout-Seconds minus 0.5 s when that is smaller.
// 400 for a missing target or an unknown module. Loop thread only.
boost::asio::awaitable<web::Response> ServeProbe(const web::Request& request,
                                                 const config::Config& config,
                                                 exporters::ProbeKindRegistry& kinds);

}  // namespace vigil::app
