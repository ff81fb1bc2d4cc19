#include "exporters/common/reconnect_backoff.h"

namespace vigil::exporters {

void ReadReconnectBackoff(config::MapReader& map, util::Duration& backoff,
                          util::Duration& backoff_max) {
  if (map.Read("reconnect_backoff", backoff) && backoff.count() == 0) {
    map.errors().Add(map.Get("reconnect_backoff")->Mark(),
                     "reconnect_backoff must be greater than 0");
  }
  map.Read("reconnect_backoff_max", backoff_max);
  if (backoff_max < backoff) {
    auto at = map.KeyMark("reconnect_backoff_max");
    map.errors().Addf(at ? *at : map.mark(),
                      "reconnect_backoff_max ({}) is less than reconnect_backoff ({})",
                      util::FormatDuration(backoff_max), util::FormatDuration(backoff));
  }
}

}  // namespace vigil::exporters
