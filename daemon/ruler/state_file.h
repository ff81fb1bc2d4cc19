#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/ruler/alert.h"
#include "daemon/util/result.h"

namespace vigil::ruler {

// The persisted part of one alert: enough for Prometheus's for-state restore.
struct SavedAlert {
  model::Labels labels;
  AlertState state = AlertState::kPending;
  int64_t active_at = 0;     // Unix ms
  int64_t last_seen_at = 0;  // the last evaluation at which it was active (downAt)
  int64_t last_sent_at = 0;  // 0 = never
};

// Saved alerts by group key ("file;name"), then rule name.
using SavedState = std::map<std::string, std::map<std::string, std::vector<SavedAlert>>>;

// Writes `state` as JSON to `path` atomically (temp file in the same
// directory, fsync, rename). Errors name the path and the failing call.
// Thread-compatible: callers serialise writes to one path.
util::Result<void> SaveState(const std::string& path, const SavedState& state);

// Reads a file written by SaveState. A missing file is an empty state, not an
// error; a corrupt one is an error ("<path>: invalid alert state: ...").
util::Result<SavedState> LoadState(const std::string& path);

}  // namespace vigil::ruler
