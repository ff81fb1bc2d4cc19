#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/model/labels.h"
#include "daemon/util/result.h"

namespace vigil::scheduler {

// TargetGroup is what service discovery yields: addresses sharing labels, as
// in Prometheus's targetgroup.Group. `source` names where it came from.
struct TargetGroup {
  std::string source;
  std::vector<std::string> targets;  // host:port
  model::Labels labels;              // may include __meta_* labels
};

// The static_configs of a scrape config as target groups.
std::vector<TargetGroup> StaticGroups(const config::ScrapeConfig& scrape);

// Reads one file_sd file (JSON or YAML: a list of {targets: [...], labels: {...}}),
// adding __meta_filepath. Fails with the file name and the problem.
util::Result<std::vector<TargetGroup>> ReadFileSdFile(const std::string& path);
// Expands each file_sd_configs glob and reads every file; files that fail are
// reported in `errors` and skipped.
std::vector<TargetGroup> ReadFileSdGroups(const config::ScrapeConfig& scrape,
                                          std::vector<std::string>& errors);

// A target after relabeling: everything needed to scrape it.
struct ScrapeTarget {
  model::Labels labels;   // the public labels (no __ prefix): job, instance, ...
  model::Labels discovered;  // before relabeling, for the status page
  std::string url;        // scheme://address/metrics_path?params
  util::Duration interval;
  util::Duration timeout;
};

// Builds the targets of one group like Prometheus's PopulateLabels: adds job,
// __scheme__, __metrics_path__, __scrape_interval__, __scrape_timeout__ and
// __param_* where absent, applies relabel_configs, drops __meta_* labels,
// defaults instance to __address__. Targets dropped by relabeling are left
// out; invalid ones (no address, bad interval) are reported in `errors`.
std::vector<ScrapeTarget> PopulateTargets(const config::ScrapeConfig& scrape,
                                          const TargetGroup& group,
                                          std::vector<std::string>& errors);

}  // namespace vigil::scheduler
