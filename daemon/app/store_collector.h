#pragma once

#include <vector>

#include <prometheus/collectable.h>

#include "daemon/store/store.h"

namespace vigil::app {

// StoreCollector exports the series store's own figures: vigil_store_series,
// vigil_store_samples, vigil_store_memory_bytes and its append/reject counters.
// Thread-safe (the store is).
class StoreCollector final : public prometheus::Collectable {
 public:
  explicit StoreCollector(const store::Store& store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const store::Store& store_;
};

}  // namespace vigil::app
