#include "daemon/web/metrics_handler.h"

#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

namespace vigil::web {

Response ServeMetrics(const std::vector<const prometheus::Collectable*>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto* collectable : collectables) {
    auto collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  prometheus::TextSerializer serializer;
  return Response{200, "text/plain; version=0.0.4; charset=utf-8",
                  serializer.Serialize(families), {}};
}

}  // namespace vigil::web
