#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace vigil::app {

// `vigil check config FILE...`: validates each file, printing like promtool
// ("Checking FILE", then "  SUCCESS" or every error as file:line:col: message).
// Returns 0 when all files are valid, 1 otherwise.
int CheckConfigFiles(const std::vector<std::string>& files, const config::ProberRegistry& probers,
                     std::ostream& out, std::ostream& err);

}  // namespace vigil::app
