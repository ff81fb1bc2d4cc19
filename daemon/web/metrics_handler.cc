#include "daemon/web/metrics_handler.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace vigil::web {

Response ServeMetrics(const prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                  serializer.Serialize(registry.Collect()), {}};
}

}  // namespace vigil::web
