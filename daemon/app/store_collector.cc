#include "daemon/app/store_collector.h"

#include "exporters/common/families.h"

namespace vigil::app {

std::vector<prometheus::MetricFamily> StoreCollector::Collect() const {
  const auto stats = store_.GetStats();
  using prometheus::MetricType;
  constexpr auto One = exporters::SingleValueFamily;
  return {
      One("vigil_store_series", "Series held in memory.", MetricType::Gauge,
          static_cast<double>(stats.series)),
      One("vigil_store_samples", "Samples held in memory.", MetricType::Gauge,
          static_cast<double>(stats.samples)),
      One("vigil_store_memory_bytes", "Estimated bytes held by the series store.",
          MetricType::Gauge, static_cast<double>(stats.memory_bytes)),
      One("vigil_store_samples_appended_total", "Samples appended to the store.",
          MetricType::Counter, static_cast<double>(stats.appended_total)),
      One("vigil_store_out_of_order_samples_total", "Samples rejected as out of order.",
          MetricType::Counter, static_cast<double>(stats.out_of_order_total)),
      One("vigil_store_duplicate_samples_total",
          "Samples rejected for a timestamp that already had another value.",
          MetricType::Counter, static_cast<double>(stats.duplicate_total)),
      One("vigil_store_series_limit_rejections_total",
          "Appends rejected because the series limit was reached.", MetricType::Counter,
          static_cast<double>(stats.series_limit_total)),
  };
}

}  // namespace vigil::app
