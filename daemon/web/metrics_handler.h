#pragma once

#include "daemon/web/http_types.h"

namespace prometheus {
class Registry;
}

namespace vigil::web {

// Renders the registry in the Prometheus text format 0.0.4 (prometheus-cpp's
// serializer) as the response of GET /metrics. Thread-safe.
Response ServeMetrics(const prometheus::Registry& registry);

}  // namespace vigil::web
