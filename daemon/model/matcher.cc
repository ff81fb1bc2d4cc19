#include "daemon/model/matcher.h"

#include <re2/re2.h>

namespace vigil::model {

util::Result<Matcher> Matcher::Create(MatchType type, std::string name, std::string value,
                                      RegexOptions options) {
  std::shared_ptr<re2::RE2> re;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    re2::RE2::Options re_options;
    re_options.set_log_errors(false);
    re_options.set_dot_nl(options.dot_matches_newline);
    re = std::make_shared<re2::RE2>("^(?:" + value + ")$", re_options);
    if (!re->ok()) {
      return util::Fail("invalid regular expression \"{}\": {}", value, re->error());
    }
  }
  return Matcher(type, std::move(name), std::move(value), std::move(re));
}

bool Matcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual: return value == value_;
    case MatchType::kNotEqual: return value != value_;
    case MatchType::kRegexMatch: return re2::RE2::FullMatch(value, *re_);
    case MatchType::kRegexNoMatch: return !re2::RE2::FullMatch(value, *re_);
  }
  return false;
}

std::string Matcher::ToString() const {
  static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
  std::string out = name_;
  out += kOps[static_cast<int>(type_)];
  out += '"';
  for (char c : value_) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace vigil::model
