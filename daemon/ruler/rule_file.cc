#include "daemon/ruler/rule_file.h"

#include <fmt/format.h>
#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/config/yaml_reader.h"
#include "daemon/promql/engine.h"
#include "daemon/promql/parser.h"
#include "daemon/ruler/templates.h"

namespace vigil::ruler {
namespace {

std::string Pos(const YAML::Mark& mark) {
  return fmt::format("{}:{}", mark.line + 1, mark.column + 1);
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

// The position of a key's value inside a rule map, for errors about it.
struct RuleNodeMarks {
  std::optional<YAML::Mark> record, alert, expr;
};

class FileLoader {
 public:
  FileLoader(const std::string& path, const RuleFileOptions& options)
      : path_(path), options_(options), sink_(path, "") {}

  RuleFileResult Load() {
    RuleFileResult result;
    std::ifstream in(path_);
    if (!in) {
      result.errors.push_back(fmt::format("{}: open {}: no such file or directory", path_, path_));
      return result;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    YAML::Node root;
    try {
      root = YAML::Load(buf.str());
    } catch (const YAML::Exception& e) {
      result.errors.push_back(
          fmt::format("{}:{}:{}: {}", path_, e.mark.line + 1, e.mark.column + 1, e.msg));
      return result;
    }
    {
      config::MapReader top(root, "rule file", sink_);
      if (auto groups = top.Get("groups")) {
        config::ForEachItem(*groups, sink_,
                            [&](const YAML::Node& g) { ReadGroup(g, result.groups); });
      }
    }
    for (const auto& e : sink_.SortedErrors()) {
      if (options_.ignore_unknown_fields && e.message.starts_with("unknown field")) continue;
      result.errors.push_back(e.ToString());
    }
    for (auto& e : rule_errors_) result.errors.push_back(std::move(e));
    if (!result.errors.empty()) result.groups.clear();
    return result;
  }

 private:
  void ReadGroup(const YAML::Node& node, std::vector<GroupSpec>& groups) {
    config::MapReader map(node, "rule group", sink_);
    if (!map.is_map()) return;
    GroupSpec group;
    group.file = path_;
    // promtool places group-name errors at the `name` key.
    YAML::Mark name_mark = map.KeyMark("name").value_or(map.mark());
    if (auto n = map.Get("name")) {
      if (auto s = config::ParseString(*n, sink_)) group.name = *s;
    }
    if (group.name.empty()) {
      rule_errors_.push_back(
          fmt::format("{}: {}: Groupname must not be empty", path_, Pos(name_mark)));
    } else if (!names_.insert(group.name).second) {
      rule_errors_.push_back(fmt::format("{}: {}: groupname: \"{}\" is repeated in the same file",
                                         path_, Pos(name_mark), group.name));
    }
    util::Duration d{0};
    if (map.Read("interval", d)) group.interval = d;
    map.Read("limit", group.limit);
    model::Labels group_labels;
    // Group `query_offset` and `labels` are 3.x; 2.42 rejects them as unknown.
    if (options_.semantics.utf8_names) {
      if (map.Read("query_offset", d)) group.query_offset = d;
      map.Read("labels", group_labels);
    }
    if (auto rules = map.Get("rules")) {
      int index = 0;
      config::ForEachItem(*rules, sink_, [&](const YAML::Node& r) {
        ++index;
        ReadRule(r, group.name, index, group_labels, group.rules);
      });
    }
    groups.push_back(std::move(group));
  }

  void RuleError(const std::string& group, int index, const std::string& name,
                 const std::optional<YAML::Mark>& mark, const std::optional<YAML::Mark>& alt,
                 const std::string& message) {
    std::string where;
    if (mark) where += Pos(*mark) + ": ";
    if (mark && alt) where += Pos(*alt) + ": ";
    rule_errors_.push_back(fmt::format("{}: {}group \"{}\", rule {}, \"{}\": {}", path_, where,
                                       group, index, name, message));
  }

  void ReadRule(const YAML::Node& node, const std::string& group, int index,
                const model::Labels& group_labels, std::vector<RuleSpec>& rules) {
    config::MapReader map(node, "rule", sink_);
    if (!map.is_map()) return;
    const bool utf8 = options_.semantics.utf8_names;
    RuleSpec rule;
    RuleNodeMarks marks;
    if (auto n = map.Get("record")) {
      marks.record = n->Mark();
      if (auto s = config::ParseString(*n, sink_)) rule.record = *s;
    }
    if (auto n = map.Get("alert")) {
      marks.alert = n->Mark();
      if (auto s = config::ParseString(*n, sink_)) rule.alert = *s;
    }
    if (auto n = map.Get("expr")) {
      marks.expr = n->Mark();
      if (auto s = config::ParseString(*n, sink_)) rule.expr_text = *s;
    }
    map.Read("for", rule.for_duration);
    map.Read("keep_firing_for", rule.keep_firing_for);
    std::map<std::string, std::string> labels;
    map.Read("labels", labels);
    map.Read("annotations", rule.annotations);
    const bool has_for = map.Has("for");
    const bool has_keep = map.Has("keep_firing_for");
    const bool has_annotations = map.Has("annotations") && !rule.annotations.empty();
    map.Finish();

    const std::string& name = rule.alert.empty() ? rule.record : rule.alert;
    auto error = [&](const std::optional<YAML::Mark>& m, const std::optional<YAML::Mark>& alt,
                     const std::string& msg) { RuleError(group, index, name, m, alt, msg); };
    // A missing key has no position; Prometheus reports 0:0 for it.
    YAML::Mark none;
    none.line = -1;
    none.column = -1;
    auto mark_or_none = [&](const std::optional<YAML::Mark>& m) { return m ? *m : none; };

    if (rule.record.empty() && rule.alert.empty()) {
      error(mark_or_none(marks.record), mark_or_none(marks.alert),
            "one of 'record' or 'alert' must be set");
    } else if (!rule.record.empty() && !rule.alert.empty()) {
      error(mark_or_none(marks.record), mark_or_none(marks.alert),
            "only one of 'record' and 'alert' must be set");
    }
    if (rule.expr_text.empty()) {
      error(mark_or_none(marks.expr), std::nullopt, "field 'expr' must be set in rule");
    } else {
      auto parsed = promql::ParseExpr(rule.expr_text, {.semantics = options_.semantics});
      if (!parsed) {
        error(marks.expr, std::nullopt,
              fmt::format("could not parse expression: {}", parsed.error().message));
      } else {
        rule.expr = std::shared_ptr<const promql::Expr>(std::move(*parsed));
      }
    }
    if (!rule.record.empty()) {
      if (has_annotations)
        error(marks.record, std::nullopt, "invalid field 'annotations' in recording rule");
      if (has_for) error(marks.record, std::nullopt, "invalid field 'for' in recording rule");
      if (has_keep) {
        error(marks.record, std::nullopt, "invalid field 'keep_firing_for' in recording rule");
      }
      if (!IsValidMetricName(rule.record, utf8)) {
        error(marks.record, std::nullopt,
              fmt::format("invalid recording rule name: {}", rule.record));
      }
    }
    for (const auto& [k, v] : labels) {
      if (!IsValidLabelName(k, utf8) || k == model::kMetricName) {
        error(std::nullopt, std::nullopt, fmt::format("invalid label name: {}", k));
      }
      if (!ValidUtf8(v))
        error(std::nullopt, std::nullopt, fmt::format("invalid label value: {}", v));
    }
    for (const auto& [k, v] : rule.annotations) {
      if (!IsValidLabelName(k, utf8)) {
        error(std::nullopt, std::nullopt, fmt::format("invalid annotation name: {}", k));
      }
    }
    if (!rule.alert.empty()) {
      // v2 semantics (Prometheus 2.x) are the ones without durations as numbers.
      const bool prometheus2 = !options_.semantics.durations_as_numbers;
      for (const auto& [k, v] : labels) {
        if (auto ok = CheckRuleTemplate(rule.alert, v, prometheus2); !ok) {
          error(std::nullopt, std::nullopt, fmt::format("label \"{}\": {}", k, ok.error().message));
        }
      }
      for (const auto& [k, v] : rule.annotations) {
        if (auto ok = CheckRuleTemplate(rule.alert, v, prometheus2); !ok) {
          error(std::nullopt, std::nullopt,
                fmt::format("annotation \"{}\": {}", k, ok.error().message));
        }
      }
    }
    model::LabelsBuilder builder(group_labels);
    for (const auto& [k, v] : labels) builder.Set(k, v);
    rule.labels = builder.Build();
    rules.push_back(std::move(rule));
  }

  std::string path_;
  RuleFileOptions options_;
  config::YamlErrorSink sink_;
  std::set<std::string> names_;
  std::vector<std::string> rule_errors_;
};

}  // namespace

bool IsValidMetricName(std::string_view name, bool utf8) {
  if (name.empty()) return false;
  if (utf8) return ValidUtf8(name);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name, bool utf8) {
  if (name.empty()) return false;
  if (utf8) return ValidUtf8(name);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

util::Duration RulesMaxLookback(const std::vector<GroupSpec>& groups, util::Duration lookback_delta,
                                util::Duration default_query_offset) {
  util::Duration max{0};
  for (const auto& g : groups) {
    const util::Duration offset = g.query_offset.value_or(default_query_offset);
    for (const auto& r : g.rules) {
      max = std::max(max, promql::MaxLookback(*r.expr, lookback_delta) + offset);
    }
  }
  return max;
}

RuleFileResult LoadRuleFile(const std::string& path, const RuleFileOptions& options) {
  return FileLoader(path, options).Load();
}

RuleFileResult LoadRuleFiles(const std::vector<std::string>& patterns, const std::string& base_dir,
                             const RuleFileOptions& options) {
  RuleFileResult result;
  std::set<std::string> seen;
  for (const auto& pattern : patterns) {
    std::string full = pattern;
    if (!base_dir.empty() && !pattern.empty() && pattern.front() != '/') {
      full = base_dir + "/" + pattern;
    }
    glob_t g{};
    int rc = ::glob(full.c_str(), 0, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    } else if (rc != GLOB_NOMATCH) {
      result.errors.push_back(fmt::format("{}: invalid rule file pattern", pattern));
    }
    ::globfree(&g);
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      if (!seen.insert(f).second) continue;
      RuleFileResult one = LoadRuleFile(f, options);
      for (auto& e : one.errors) result.errors.push_back(std::move(e));
      for (auto& grp : one.groups) result.groups.push_back(std::move(grp));
    }
  }
  if (!result.errors.empty()) result.groups.clear();
  return result;
}

}  // namespace vigil::ruler
