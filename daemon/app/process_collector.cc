#include "daemon/app/process_collector.h"

#include "exporters/common/families.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace vigil::app {
namespace {

using exporters::GaugeFamily;

double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name, which may contain spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f;
  for (std::string token; fields >> token;) f.push_back(token);
  // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
  if (f.size() < 22) return out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  double start = BootTimeSeconds() + std::stod(f[19]) / ticks;
  out.push_back(exporters::SingleValueFamily("process_cpu_seconds_total",
                                             "Total user and system CPU time spent in seconds.",
                                             prometheus::MetricType::Counter, cpu));
  out.push_back(GaugeFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                      std::stod(f[20])));
  out.push_back(GaugeFamily("process_resident_memory_bytes", "Resident memory size in bytes.",
                      std::stod(f[21]) * page));
  out.push_back(GaugeFamily("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.", start));
  out.push_back(GaugeFamily("process_open_fds", "Number of open file descriptors.", CountOpenFds()));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(GaugeFamily("process_max_fds", "Maximum number of open file descriptors.",
                        static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace vigil::app
