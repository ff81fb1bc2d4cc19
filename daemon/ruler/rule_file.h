#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/promql/ast.h"
#include "daemon/promql/semantics.h"
#include "daemon/util/duration.h"

namespace vigil::ruler {

// One rule of a rule file, validated and with its expression parsed. Exactly
// one of `record` / `alert` is non-empty. A value type (the parsed expression
// is shared and immutable).
struct RuleSpec {
  std::string record;
  std::string alert;
  std::string expr_text;                     // as written in the file
  std::shared_ptr<const promql::Expr> expr;  // never null after loading
  util::Duration for_duration{0};            // alerting rules only
  util::Duration keep_firing_for{0};         // alerting rules only
  // Rule labels with the group's `labels` merged underneath (rule wins).
  // Values of alerting-rule labels are templates.
  model::Labels labels;
  // Annotation templates by name (alerting rules only); empty values kept.
  std::map<std::string, std::string> annotations;

  bool is_alert() const { return !alert.empty(); }
  const std::string& name() const { return is_alert() ? alert : record; }
};

// One `groups:` entry. `interval` and `query_offset` are nullopt when the file
// does not set them (the global defaults apply).
struct GroupSpec {
  std::string name;
  std::string file;  // the path the file was loaded from
  std::optional<util::Duration> interval;
  std::optional<util::Duration> query_offset;
  uint64_t limit = 0;  // 0 = no limit
  std::vector<RuleSpec> rules;
};

struct RuleFileOptions {
  // Decides the PromQL dialect expressions are parsed in, and whether metric
  // and label names may be any UTF-8 (3.x) or only the legacy charset (2.x).
  promql::Semantics semantics = promql::Semantics::V3();
  // Accept (and ignore) unknown keys, as promtool's --ignore-unknown-fields.
  bool ignore_unknown_fields = false;
};

// The groups of a rule file, or every error found in it. Errors are full
// lines in promtool's format:
//   "<file>: <line>:<col>: group \"g\", rule 2, \"Name\": could not parse expression: 1:7: parse
//   error: ..."
// i.e. the YAML position of the offending node (the expression for PromQL
// errors, followed by the error's own position inside the expression), or
//   "<file>:<line>:<col>: <message>" for structural YAML problems (unknown
//   field, wrong type), as the config loader reports them.
struct RuleFileResult {
  std::vector<GroupSpec> groups;
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

// Reads and validates one rule file like Prometheus's rulefmt: strict keys,
// unique group names, `record`/`alert` exclusive, recording rules without
// `for`/`keep_firing_for`/`annotations` and with a valid metric name, valid
// label and annotation names, expressions that parse, templates that parse.
// Thread-safe; never throws.
RuleFileResult LoadRuleFile(const std::string& path, const RuleFileOptions& options = {});

// Expands each pattern (shell glob, relative to `base_dir` unless absolute)
// and loads every matching file, in sorted order per pattern, each file once.
// A pattern matching nothing is not an error (as in Prometheus); an invalid
// pattern is. Errors of all files are collected.
RuleFileResult LoadRuleFiles(const std::vector<std::string>& patterns, const std::string& base_dir,
                             const RuleFileOptions& options = {});

// The longest span of history any rule of `groups` reads before its evaluation
// time (ranges, subqueries, offsets, the lookback delta and the group's
// query_offset, or `default_query_offset` when unset). The store's retention must
// cover it (store::Store::SetRetention).
util::Duration RulesMaxLookback(const std::vector<GroupSpec>& groups,
                                util::Duration lookback_delta = util::Duration{300000},
                                util::Duration default_query_offset = util::Duration{0});

// Names promtool checks: metric names ([a-zA-Z_:][a-zA-Z0-9_:]*) and label
// names ([a-zA-Z_][a-zA-Z0-9_]*), or any non-empty valid UTF-8 when `utf8`.
bool IsValidMetricName(std::string_view name, bool utf8);
bool IsValidLabelName(std::string_view name, bool utf8);

}  // namespace vigil::ruler
