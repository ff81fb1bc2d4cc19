#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/util/result.h"

namespace vigil::tmpl {

namespace detail {
struct TreeSet;
}

// One element of a `query` result: a series' labels and its value.
struct QueryResult {
  model::Labels labels;
  double value = 0;
};

// Evaluates a PromQL instant query at the rule's evaluation time. Provided by
// the ruler; an error is shown as the template's error ("error calling query:
// <message>").
using QueryFunc = std::function<util::Result<std::vector<QueryResult>>(const std::string& query)>;

// The Prometheus major version whose template functions are followed where
// they differ: `title` is Go's strings.Title in 2.x (every letter after a
// non-alphanumeric ASCII character starts a word: "o'neil x.y" -> "O'Neil X.Y")
// and x/text's cases.Title in 3.x ("O'neil X.y").
enum class Dialect { kPrometheus2, kPrometheus3 };

// What an alerting rule's label and annotation templates see: `.Labels`,
// `.Value`, `.ExternalLabels`, `.ExternalURL` (and the `$labels`, `$value`,
// `$externalLabels`, `$externalURL` variables through ExpandAlertTemplate).
struct AlertTemplateData {
  model::Labels labels;
  double value = 0;
  model::Labels external_labels;
  std::string external_url;  // Prometheus's --web.external-url, "" when unset
  Dialect dialect = Dialect::kPrometheus3;  // not visible to the template
};

// Template is a parsed Go text/template (the subset and the functions that
// Prometheus alert templates use; see daemon/template/README.md). Immutable
// once parsed: Execute is const and thread-safe. Parse and execution errors
// read exactly as Go's ("template: <name>:<line>: ..." and
// "template: <name>:<line>:<col>: executing \"<name>\" at <node>: ...").
class Template {
 public:
  // `dialect` selects the Go syntax: kPrometheus2 is Go 1.19's (no `{{else with}}`).
  static util::Result<Template> Parse(std::string name, std::string_view text,
                                      Dialect dialect = Dialect::kPrometheus3);

  // Executes the template with `data` as dot. `query` may be empty; then the
  // `query` function fails with "no query engine". Never throws; missing map
  // keys yield "" (Prometheus's missingkey=zero).
  util::Result<std::string> Execute(const AlertTemplateData& data, const QueryFunc& query) const;

  const std::string& name() const { return name_; }

 private:
  Template(std::string name, std::shared_ptr<const detail::TreeSet> trees)
      : name_(std::move(name)), trees_(std::move(trees)) {}
  std::string name_;
  std::shared_ptr<const detail::TreeSet> trees_;
};

// Prometheus's definitions prepended to every alert label/annotation template.
inline constexpr std::string_view kAlertTemplateDefs =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

// Expands one alert label or annotation template as Prometheus's alerting rule
// does: prepends kAlertTemplateDefs, names the template "__alert_<rule_name>",
// parses (in data.dialect's syntax) and executes it. On any error the result is
// "<error expanding template: error parsing|executing template __alert_<rule>: ...>"
// and *failed (when given) is set to true, else false. Thread-safe.
std::string ExpandAlertTemplate(std::string_view rule_name, std::string_view text,
                                const AlertTemplateData& data, const QueryFunc& query,
                                bool* failed = nullptr);

// Parse-checks an alert template as `promtool check rules` does (with the
// definitions prepended); the error reads "template: __alert_<rule>:1: ...".
util::Result<void> ParseCheck(std::string_view rule_name, std::string_view text,
                              Dialect dialect = Dialect::kPrometheus3);

}  // namespace vigil::tmpl
