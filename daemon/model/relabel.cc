#include "daemon/model/relabel.h"

#include <re2/re2.h>

#include <array>
#include <utility>

#include "daemon/model/detail/md5.h"

namespace vigil::model {
namespace {

constexpr std::array<std::pair<RelabelAction, std::string_view>, 11> kActionNames{{
    {RelabelAction::kReplace, "replace"},
    {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},
    {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"},
    {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},
    {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"},
    {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
}};

const RelabelConfig& Defaults() {
  static const RelabelConfig kDefaults;
  return kDefaults;
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Prometheus's relabelTargetLegacy: a legacy label name in which `$var` and
// `${var}` references may stand for characters.
bool IsValidTemplatedLabelName(std::string_view name) {
  static const re2::RE2 kTarget(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(name, kTarget);
}

// Go's regexp.Regexp.ExpandString: `$1`, `${1}`, `$name`, `${name}`, `$$`. A
// reference takes the longest run of word characters; numbers index groups,
// other names look up named groups; a missing or unmatched group expands to "".
// A malformed `$` is copied literally.
std::string Expand(std::string_view tmpl, const re2::RE2& re,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl.front() == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view rest = tmpl;
    bool brace = !rest.empty() && rest.front() == '{';
    if (brace) rest.remove_prefix(1);
    size_t len = 0;
    while (len < rest.size() && IsWordChar(rest[len])) ++len;
    if (len == 0 || (brace && (len >= rest.size() || rest[len] != '}'))) {
      out += '$';  // malformed: keep the `$` as text
      continue;
    }
    std::string_view name = rest.substr(0, len);
    tmpl = rest.substr(len + (brace ? 1 : 0));

    int index = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || index >= 100000000) {
        index = -1;
        break;
      }
      index = index * 10 + (c - '0');
    }
    if (name.size() > 1 && name.front() == '0') index = -1;  // no leading zeros
    if (index < 0) {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it == named.end()) continue;
      index = it->second;
    }
    if (static_cast<size_t>(index) < groups.size() && groups[index].data() != nullptr) {
      out.append(groups[index].data(), groups[index].size());
    }
  }
  out.append(tmpl);
  return out;
}

// Matches `value` against the anchored regex, filling all groups (group 0 is the
// whole match; unmatched groups have a null data()).
bool MatchGroups(const re2::RE2& re, std::string_view value,
                 std::vector<re2::StringPiece>& groups) {
  groups.assign(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1, re2::StringPiece());
  return re.Match(value, 0, value.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                  static_cast<int>(groups.size()));
}

std::string HashMod(std::string_view value, uint64_t modulus) {
  std::array<uint8_t, 16> digest = detail::Md5(value);
  uint64_t tail = 0;  // the last 8 bytes, big-endian, as Prometheus does
  for (size_t i = 8; i < 16; ++i) tail = (tail << 8) | digest[i];
  return std::to_string(tail % modulus);
}

// One relabel step on the builder; false when the set is dropped.
bool Apply(const RelabelConfig& cfg, LabelsBuilder& builder) {
  std::string value;
  for (size_t i = 0; i < cfg.source_labels.size(); ++i) {
    if (i > 0) value += cfg.separator;
    value += builder.Get(cfg.source_labels[i]);
  }
  const re2::RE2& re = *cfg.regex;
  switch (cfg.action) {
    case RelabelAction::kDrop:
      return !re2::RE2::FullMatch(value, re);
    case RelabelAction::kKeep:
      return re2::RE2::FullMatch(value, re);
    case RelabelAction::kDropEqual:
      return builder.Get(cfg.target_label) != value;
    case RelabelAction::kKeepEqual:
      return builder.Get(cfg.target_label) == value;
    case RelabelAction::kReplace: {
      std::vector<re2::StringPiece> groups;
      if (!MatchGroups(re, value, groups)) return true;  // no match: no replacement
      std::string target = Expand(cfg.target_label, re, groups);
      if (!IsValidLabelName(target)) return true;
      std::string result = Expand(cfg.replacement, re, groups);
      if (result.empty()) {
        builder.Del(target);
      } else {
        builder.Set(target, result);
      }
      return true;
    }
    case RelabelAction::kLowercase:
      for (char& c : value) c = AsciiLower(c);
      builder.Set(cfg.target_label, value);
      return true;
    case RelabelAction::kUppercase:
      for (char& c : value) c = AsciiUpper(c);
      builder.Set(cfg.target_label, value);
      return true;
    case RelabelAction::kHashMod:
      builder.Set(cfg.target_label, HashMod(value, cfg.modulus));
      return true;
    case RelabelAction::kLabelMap: {
      std::vector<re2::StringPiece> groups;
      for (const Label& label : builder.Build()) {
        if (!MatchGroups(re, label.name, groups)) continue;
        builder.Set(Expand(cfg.replacement, re, groups), label.value);
      }
      return true;
    }
    case RelabelAction::kLabelDrop:
      for (const Label& label : builder.Build()) {
        if (re2::RE2::FullMatch(label.name, re)) builder.Del(label.name);
      }
      return true;
    case RelabelAction::kLabelKeep:
      for (const Label& label : builder.Build()) {
        if (!re2::RE2::FullMatch(label.name, re)) builder.Del(label.name);
      }
      return true;
  }
  return true;
}

}  // namespace

std::string_view RelabelActionName(RelabelAction action) {
  for (const auto& [value, name] : kActionNames) {
    if (value == action) return name;
  }
  return "unknown";
}

std::optional<RelabelAction> ParseRelabelAction(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = AsciiLower(c);
  for (const auto& [value, action_name] : kActionNames) {
    if (action_name == lower) return value;
  }
  return std::nullopt;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  char first = name.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_')) {
    return false;
  }
  for (char c : name) {
    if (!IsWordChar(c)) return false;
  }
  return true;
}

util::Result<std::shared_ptr<const re2::RE2>> CompileRelabelRegex(std::string_view text,
                                                                  RegexOptions options) {
  re2::RE2::Options re_options;
  re_options.set_log_errors(false);
  re_options.set_dot_nl(options.dot_matches_newline);
  auto re = std::make_shared<const re2::RE2>("^(?:" + std::string(text) + ")$", re_options);
  if (!re->ok()) {
    // Report RE2's complaint about the user's own text when it has one, so the
    // message does not show our anchoring.
    re2::RE2 bare(text, re_options);
    const std::string& reason = bare.ok() ? re->error() : bare.error();
    return util::Fail("invalid regular expression \"{}\": {}", text, reason);
  }
  return re;
}

util::Result<void> ValidateRelabelConfig(const RelabelConfig& c) {
  const RelabelConfig& d = Defaults();
  const std::string_view action = RelabelActionName(c.action);
  const bool needs_target =
      c.action == RelabelAction::kReplace || c.action == RelabelAction::kHashMod ||
      c.action == RelabelAction::kLowercase || c.action == RelabelAction::kUppercase ||
      c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual;
  const bool plain_target =
      c.action == RelabelAction::kLowercase || c.action == RelabelAction::kUppercase ||
      c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual;
  if (c.action == RelabelAction::kHashMod && c.modulus == 0) {
    return util::Fail("relabel configuration for hashmod requires non-zero modulus");
  }
  if (needs_target && c.target_label.empty()) {
    return util::Fail("relabel configuration for {} action requires 'target_label' value", action);
  }
  if (c.action == RelabelAction::kReplace) {
    bool templated = c.target_label.find('$') != std::string::npos;
    if (templated ? !IsValidTemplatedLabelName(c.target_label)
                  : !IsValidLabelName(c.target_label)) {
      return util::Fail("\"{}\" is invalid 'target_label' for {} action", c.target_label, action);
    }
  }
  if (plain_target && !IsValidLabelName(c.target_label)) {
    return util::Fail("\"{}\" is invalid 'target_label' for {} action", c.target_label, action);
  }
  if (plain_target && c.replacement != d.replacement) {
    return util::Fail("'replacement' can not be set for {} action", action);
  }
  if (c.action == RelabelAction::kLabelMap && !IsValidTemplatedLabelName(c.replacement)) {
    return util::Fail("\"{}\" is invalid 'replacement' for {} action", c.replacement, action);
  }
  if (c.action == RelabelAction::kHashMod && !IsValidLabelName(c.target_label)) {
    return util::Fail("\"{}\" is invalid 'target_label' for {} action", c.target_label, action);
  }
  if ((c.action == RelabelAction::kKeepEqual || c.action == RelabelAction::kDropEqual) &&
      (c.regex_text != d.regex_text || c.modulus != d.modulus || c.separator != d.separator ||
       c.replacement != d.replacement)) {
    return util::Fail(
        "{} action requires only 'source_labels' and `target_label`, and no other fields", action);
  }
  if ((c.action == RelabelAction::kLabelDrop || c.action == RelabelAction::kLabelKeep) &&
      (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != d.modulus ||
       c.separator != d.separator || c.replacement != d.replacement)) {
    return util::Fail("{} action requires only 'regex', and no other fields", action);
  }
  return {};
}

util::Result<RelabelConfig> MakeRelabelConfig(RelabelConfig spec, RegexOptions options) {
  auto regex = CompileRelabelRegex(spec.regex_text, options);
  if (!regex) return tl::unexpected(regex.error());
  spec.regex = *std::move(regex);
  if (auto valid = ValidateRelabelConfig(spec); !valid) return tl::unexpected(valid.error());
  return spec;
}

std::optional<Labels> Relabel(const Labels& labels, std::span<const RelabelConfig> configs) {
  LabelsBuilder builder(labels);
  for (const RelabelConfig& config : configs) {
    if (!Apply(config, builder)) return std::nullopt;
  }
  return builder.Build();
}

}  // namespace vigil::model
