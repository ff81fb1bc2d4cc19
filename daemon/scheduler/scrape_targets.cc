#include "daemon/scheduler/scrape_targets.h"

#include <glob.h>

#include <cctype>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/model/relabel.h"
#include "daemon/util/duration.h"

namespace vigil::scheduler {
namespace {

constexpr std::string_view kAddress = "__address__";
constexpr std::string_view kScheme = "__scheme__";
constexpr std::string_view kMetricsPath = "__metrics_path__";
constexpr std::string_view kInterval = "__scrape_interval__";
constexpr std::string_view kTimeout = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";

std::string QueryEscape(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

std::vector<TargetGroup> StaticGroups(const config::ScrapeConfig& scrape) {
  std::vector<TargetGroup> out;
  for (size_t i = 0; i < scrape.static_configs.size(); ++i) {
    const auto& sc = scrape.static_configs[i];
    out.push_back(TargetGroup{fmt::format("static/{}", i), sc.targets, sc.labels});
  }
  return out;
}

util::Result<std::vector<TargetGroup>> ReadFileSdFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return util::Fail("file_sd {}: {}", path, e.what());
  }
  if (root.IsNull()) return std::vector<TargetGroup>{};
  if (!root.IsSequence()) return util::Fail("file_sd {}: expected a list of target groups", path);
  std::vector<TargetGroup> out;
  for (size_t i = 0; i < root.size(); ++i) {
    const YAML::Node& item = root[i];
    if (!item.IsMap()) return util::Fail("file_sd {}: group {} is not a map", path, i);
    TargetGroup group;
    group.source = fmt::format("{}:{}", path, i);
    model::LabelsBuilder labels;
    try {
      for (const auto& kv : item) {
        std::string key = kv.first.as<std::string>();
        if (key == "targets") {
          for (const auto& t : kv.second) group.targets.push_back(t.as<std::string>());
        } else if (key == "labels") {
          for (const auto& l : kv.second) {
            std::string name = l.first.as<std::string>();
            if (!model::IsValidLabelName(name)) {
              return util::Fail("file_sd {}: \"{}\" is not a valid label name", path, name);
            }
            labels.Set(name, l.second.as<std::string>());
          }
        } else {
          return util::Fail("file_sd {}: unknown field \"{}\" in target group", path, key);
        }
      }
    } catch (const YAML::Exception& e) {
      return util::Fail("file_sd {}: {}", path, e.what());
    }
    labels.Set("__meta_filepath", path);
    group.labels = labels.Build();
    out.push_back(std::move(group));
  }
  return out;
}

std::vector<TargetGroup> ReadFileSdGroups(const config::ScrapeConfig& scrape,
                                          std::vector<std::string>& errors) {
  std::vector<TargetGroup> out;
  for (const auto& sd : scrape.file_sd_configs) {
    for (const auto& pattern : sd.files) {
      glob_t matches{};
      if (glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) {
          auto groups = ReadFileSdFile(matches.gl_pathv[i]);
          if (!groups) {
            errors.push_back(groups.error().message);
            continue;
          }
          out.insert(out.end(), groups->begin(), groups->end());
        }
      }
      globfree(&matches);
    }
  }
  return out;
}

std::vector<ScrapeTarget> PopulateTargets(const config::ScrapeConfig& scrape,
                                          const TargetGroup& group,
                                          std::vector<std::string>& errors) {
  std::vector<ScrapeTarget> out;
  for (const auto& address : group.targets) {
    model::LabelsBuilder builder(group.labels);
    builder.Set(kAddress, address);
    auto set_default = [&](std::string_view name, const std::string& value) {
      if (builder.Get(name).empty()) builder.Set(name, value);
    };
    set_default("job", scrape.job_name);
    set_default(kInterval, util::FormatDuration(scrape.scrape_interval));
    set_default(kTimeout, util::FormatDuration(scrape.scrape_timeout));
    set_default(kMetricsPath, scrape.metrics_path);
    set_default(kScheme, scrape.scheme);
    for (const auto& [name, values] : scrape.params) {
      if (!values.empty()) builder.Set(std::string(kParamPrefix) + name, values.front());
    }
    model::Labels discovered = builder.Build();
    auto relabeled = model::Relabel(discovered, scrape.relabel_configs);
    if (!relabeled) continue;  // dropped on purpose
    const model::Labels& labels = *relabeled;
    std::string addr(labels.Get(kAddress));
    if (addr.empty()) {
      errors.push_back(fmt::format("job \"{}\": target {} has no address after relabeling",
                                   scrape.job_name, discovered.ToString()));
      continue;
    }
    auto interval = util::ParseDuration(labels.Get(kInterval));
    auto timeout = util::ParseDuration(labels.Get(kTimeout));
    if (!interval || !timeout || interval->count() == 0 || timeout->count() == 0 ||
        *timeout > *interval) {
      errors.push_back(fmt::format(
          "job \"{}\": target {}: invalid scrape interval or timeout", scrape.job_name, addr));
      continue;
    }
    std::string url = fmt::format("{}://{}{}", labels.Get(kScheme), addr, labels.Get(kMetricsPath));
    char separator = url.find('?') == std::string::npos ? '?' : '&';
    model::LabelsBuilder public_labels;
    for (const auto& label : labels) {
      if (label.name.starts_with(kParamPrefix)) {
        url += fmt::format("{}{}={}", separator, QueryEscape(label.name.substr(kParamPrefix.size())),
                           QueryEscape(label.value));
        separator = '&';
      }
      if (!label.name.starts_with("__")) public_labels.Set(label.name, label.value);
    }
    if (public_labels.Get("instance").empty()) public_labels.Set("instance", addr);
    out.push_back(ScrapeTarget{public_labels.Build(), discovered, std::move(url), *interval,
                               *timeout});
  }
  return out;
}

}  // namespace vigil::scheduler
