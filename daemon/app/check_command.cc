#include "daemon/app/check_command.h"

#include <ostream>

namespace vigil::app {

int CheckConfigFiles(const std::vector<std::string>& files, const config::ProberRegistry& probers,
                     std::ostream& out, std::ostream& err) {
  int status = 0;
  for (const auto& file : files) {
    out << "Checking " << file << "\n";
    auto loaded = config::LoadFile(file, probers);
    if (loaded) {
      out << "  SUCCESS: " << loaded->scrape_configs.size() << " scrape configs, "
          << loaded->probes.size() << " probes, " << loaded->rule_files.size()
          << " rule files found\n";
      continue;
    }
    status = 1;
    out << "  FAILED: " << loaded.error().size() << " error(s)\n";
    for (const auto& error : loaded.error()) err << error.ToString() << "\n";
  }
  return status;
}

}  // namespace vigil::app
