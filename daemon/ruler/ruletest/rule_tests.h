#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "daemon/promql/semantics.h"

namespace vigil::ruletest {

struct TestRulesOptions {
  // PromQL dialect of rules and test expressions; also the test-file
  // dialect: V2 is promtool 2.42 (no start_timestamp/fuzzy_compare, test
  // `interval` must be set), V3 the current promtool.
  promql::Semantics semantics = promql::Semantics::V3();
  // Run only test groups whose name matches one of these regexes (RE2,
  // unanchored, as promtool's --run). Empty: all.
  std::vector<std::string> run;
  // Accept unknown fields in test and rule files (--ignore-unknown-fields).
  bool ignore_unknown_fields = false;
};

// `vigil test rules FILE...`: runs rule unit tests in promtool's format with
// promtool's output and exit code. "Unit Testing:  <file>", "  SUCCESS" and
// blank lines go to `out`; "  FAILED:" and each failure to `err`. Returns 0
// when every test of every file passed, 1 otherwise (a failed expectation,
// an unreadable/invalid file, a rule that fails to load or evaluate).
// Thread-compatible; never throws.
int TestRules(const std::vector<std::string>& files, const TestRulesOptions& options,
              std::ostream& out, std::ostream& err);

// `vigil check rules FILE...`: promtool's `check rules`. Per file
// "Checking <file>" then "  SUCCESS: N rules found" on `out`, or "  FAILED:"
// and every error (file: line:col: group "g", rule i, "name": message) on
// `err`. Duplicate rules (same name and labels) are a lint warning printed
// as promtool does, which does not fail the check. Returns 0 or 1.
int CheckRules(const std::vector<std::string>& files, const promql::Semantics& semantics,
               std::ostream& out, std::ostream& err);

}  // namespace vigil::ruletest
