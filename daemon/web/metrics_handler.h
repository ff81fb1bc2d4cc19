#pragma once

#include <vector>

#include "daemon/web/http_types.h"

namespace prometheus {
class Collectable;
}

namespace vigil::web {

// Renders every collectable in the Prometheus text format 0.0.4 (prometheus-cpp's
// serializer) as the response of GET /metrics. Thread-safe if the collectables are.
Response ServeMetrics(const std::vector<const prometheus::Collectable*>& collectables);

}  // namespace vigil::web
