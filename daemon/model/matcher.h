#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace re2 {
class RE2;
}

namespace vigil::model {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// How regex matchers treat `.` and newlines; the one PromQL-version difference
// that lives below promql (see daemon/promql/semantics.h for the rest).
struct RegexOptions {
  // Prometheus 3.x: `.` matches "\n" (Go's (?s) flag). 2.x: it does not.
  bool dot_matches_newline = true;
};

// Matcher is one label matcher (`name="v"`, `!=`, `=~`, `!~`). Regexes use RE2
// (Go's syntax) and are fully anchored as in Prometheus. Immutable and cheap to
// copy (the compiled regex is shared); thread-safe for concurrent Matches().
class Matcher {
 public:
  // Fails with RE2's message when a regex does not compile.
  static util::Result<Matcher> Create(MatchType type, std::string name, std::string value,
                                      RegexOptions options = {});

  bool Matches(std::string_view value) const;
  // True when the matcher accepts the empty string (so it also selects series
  // that lack the label entirely).
  bool MatchesEmpty() const { return Matches(""); }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // PromQL text form: `name="value"` with the value quoted and escaped.
  std::string ToString() const;

 private:
  Matcher(MatchType type, std::string name, std::string value, std::shared_ptr<re2::RE2> re)
      : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}
  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<re2::RE2> re_;  // set only for the regex types
};

}  // namespace vigil::model
