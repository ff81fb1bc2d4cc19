#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/util/result.h"

namespace re2 {
class RE2;
}

namespace vigil::model {

// The relabel actions of Prometheus's `relabel_configs`, with the same meaning.
enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// The YAML spelling of an action ("replace", "hashmod", ...).
std::string_view RelabelActionName(RelabelAction action);
// Parses an action name case-insensitively, as Prometheus does; nullopt when unknown.
std::optional<RelabelAction> ParseRelabelAction(std::string_view name);

// True for a legacy Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);

// RelabelConfig is one step of a relabeling pipeline, field for field
// Prometheus's relabel.Config. Build it with MakeRelabelConfig(), which compiles
// `regex_text` into `regex` and validates the combination. Immutable once made;
// cheap to copy (the compiled regex is shared) and safe to use from many threads.
struct RelabelConfig {
  std::vector<std::string> source_labels;  // values joined with `separator`
  std::string separator = ";";
  std::shared_ptr<const re2::RE2> regex;  // `regex_text` anchored as ^(?:...)$
  std::string regex_text = "(.*)";        // as the user wrote it
  uint64_t modulus = 0;                   // hashmod only; must be > 0 there
  std::string target_label;               // may hold $1/${name} for replace
  std::string replacement = "$1";         // Go regexp Expand template
  RelabelAction action = RelabelAction::kReplace;
};

// Compiles a relabel regex anchored at both ends (^(?:text)$) with RE2. In
// Prometheus 3 (dot_matches_newline) `.` also matches "\n". Fails with
// `invalid regular expression "<text>": <RE2 error>`.
util::Result<std::shared_ptr<const re2::RE2>> CompileRelabelRegex(std::string_view text,
                                                                  RegexOptions options = {});

// Checks the field combination exactly like Prometheus's relabel.Config.Validate
// (legacy label-name scheme), e.g. "relabel configuration for replace action
// requires 'target_label' value". Ignores `regex` (see CompileRelabelRegex).
util::Result<void> ValidateRelabelConfig(const RelabelConfig& config);

// Compiles `spec.regex_text` into `spec.regex`, then validates. The usual way to
// build a RelabelConfig.
util::Result<RelabelConfig> MakeRelabelConfig(RelabelConfig spec, RegexOptions options = {});

// Applies `configs` in order to `labels` with the semantics of Prometheus's
// relabel.Process. Returns std::nullopt when a keep/drop/keepequal/dropequal step
// drops the set. Every config must come from MakeRelabelConfig (regex set).
// Differences from Go, both rare: lowercase/uppercase change ASCII letters only,
// and `$name` references in templates stop at the first non-ASCII byte.
std::optional<Labels> Relabel(const Labels& labels, std::span<const RelabelConfig> configs);

}  // namespace vigil::model
