#pragma once

#include <string>
#include <tl/expected.hpp>
#include <vector>

namespace vigil::config {

// ConfigError is one problem found in a config file, at a 1-based line and
// column. line == 0 means the problem concerns the file as a whole (it could
// not be read). A value type.
struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when there is no position
  int column = 0;  // 1-based; 0 when there is no position
  std::string message;

  // "file:line:col: message", or "file: message" when line == 0.
  std::string ToString() const;

  friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

using Errors = std::vector<ConfigError>;

// Checked<T> is a T, or every error found while building it (never empty).
template <typename T>
using Checked = tl::expected<T, Errors>;

}  // namespace vigil::config
