#include "daemon/config/error.h"

#include <fmt/format.h>

namespace vigil::config {

std::string ConfigError::ToString() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

}  // namespace vigil::config
