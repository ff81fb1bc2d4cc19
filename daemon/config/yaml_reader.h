#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/error.h"
#include "daemon/config/secret.h"
#include "daemon/model/labels.h"
#include "daemon/util/duration.h"

// Position-aware readers for YAML config sections. The config loader and every
// prober kind's options parser use them, so every error in a Vigil config file
// comes out the same way: `file:line:col: message`, all of them, in file order.
//
//   void ParseMyOptions(const YAML::Node& node, YamlErrorSink& errors) {
//     MapReader map(node, "http prober", errors);
//     map.Read("method", options.method);
//     map.Read("timeout", options.timeout);
//     map.ReadSecret("password", options.password);
//   }  // ~MapReader reports every key nobody asked for as `unknown field "x" in http prober`
//
// Absent keys and keys with a null value (`key:`, `key: ~`) leave the default.

namespace vigil::config {

// YamlErrorSink is the parsing context of one config file: it records errors at
// yaml-cpp positions (converted to 1-based) and knows the file's directory, which
// relative paths (`password_file`, `rule_files`, ...) are resolved against.
// Not thread-safe; one per file being parsed.
class YamlErrorSink {
 public:
  // `file` is used in error messages; `base_dir` resolves relative paths ("" =
  // the working directory).
  YamlErrorSink(std::string file, std::string base_dir);

  void Add(const YAML::Mark& mark, std::string message);
  template <typename... Args>
  void Addf(const YAML::Mark& mark, fmt::format_string<Args...> format, Args&&... args) {
    Add(mark, fmt::format(format, std::forward<Args>(args)...));
  }

  // `path` unchanged when absolute or empty, else joined to the base directory.
  std::string ResolvePath(std::string_view path) const;

  const std::string& file() const { return file_; }
  const std::string& base_dir() const { return base_dir_; }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const Errors& errors() const { return errors_; }
  // The errors sorted by position (stable, so equal positions keep their order).
  Errors SortedErrors() const;

 private:
  std::string file_;
  std::string base_dir_;
  Errors errors_;
};

// How a node is named in type errors: "a map", "a list", "null", "boolean true",
// or a scalar quoted ("\"abc\""). Use for `expected X, got <DescribeNode>`.
std::string DescribeNode(const YAML::Node& node);

// Node readers. Each returns nullopt after recording an error at the node when the
// node has the wrong type or an invalid value. Callers skip null nodes themselves
// (MapReader does).
// Any scalar ("5" and true become "5" and "true", as in Prometheus).
std::optional<std::string> ParseString(const YAML::Node& node, YamlErrorSink& errors);
// Plain true/false (also True/TRUE/False/FALSE).
std::optional<bool> ParseBool(const YAML::Node& node, YamlErrorSink& errors);
// A plain decimal integer >= 0.
std::optional<uint64_t> ParseUint(const YAML::Node& node, YamlErrorSink& errors);
// Prometheus duration syntax ("1h30m"); `not a valid duration string: "5x"`.
std::optional<util::Duration> ParseDuration(const YAML::Node& node, YamlErrorSink& errors);
// Prometheus byte sizes ("10MB"); see units.h.
std::optional<uint64_t> ParseByteSize(const YAML::Node& node, YamlErrorSink& errors);
// A list of scalars (null = empty list).
std::optional<std::vector<std::string>> ParseStringList(const YAML::Node& node,
                                                        YamlErrorSink& errors);
// A map of scalar keys to scalar values (null = empty); duplicate keys are errors.
std::optional<std::map<std::string, std::string>> ParseStringMap(const YAML::Node& node,
                                                                 YamlErrorSink& errors);
// A label map: like ParseStringMap, and each name must be a valid label name
// (`"1x" is not a valid label name`). Empty values are dropped, as in Prometheus.
std::optional<model::Labels> ParseLabels(const YAML::Node& node, YamlErrorSink& errors);
// Calls `fn` for each entry of a map whose keys are names chosen by the user
// (label names, module names, header names). Null = empty map. Non-scalar keys
// and duplicate keys (`mapping key "k" already defined at line N`) are reported
// and skipped. Returns false, after recording `expected a map, got ...`, when the
// node is not a map.
bool ForEachEntry(const YAML::Node& node, YamlErrorSink& errors,
                  const std::function<void(const std::string& key, const YAML::Node& key_node,
                                           const YAML::Node& value)>& fn);
// Calls `fn` for each element of a list (null = empty list). Returns false,
// after recording `expected a list, got ...`, when the node is not a list.
bool ForEachItem(const YAML::Node& node, YamlErrorSink& errors,
                 const std::function<void(const YAML::Node& item)>& fn);

// MapReader reads one YAML map whose keys are fixed field names. Ask for each
// field you know (Get/Read*); Finish() (or the destructor) then reports every key
// not asked for as `unknown field "k" in <section>`. The constructor reports a
// non-map node (`expected a map in <section>, got a list`) and duplicate keys
// (`mapping key "k" already defined at line N`). Not thread-safe; keep it on the
// stack for the duration of one section.
class MapReader {
 public:
  // A null node is an empty map. `section` names the map in messages.
  MapReader(const YAML::Node& node, std::string section, YamlErrorSink& errors);
  ~MapReader();
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  // False when the node was neither a map nor null (the error is recorded).
  bool is_map() const { return is_map_; }
  // Position of the map itself (its first key), for errors about the whole map.
  const YAML::Mark& mark() const { return mark_; }
  const std::string& section() const { return section_; }
  YamlErrorSink& errors() const { return errors_; }

  // Marks `key` as known; returns its value, or nullopt when absent or null.
  std::optional<YAML::Node> Get(std::string_view key);
  // Present with a non-null value. Does not mark the key as known.
  bool Has(std::string_view key) const;
  // Position of the key itself when present (even with a null value).
  std::optional<YAML::Mark> KeyMark(std::string_view key) const;
  // Records `missing required field "key" in <section>` at the map's position
  // unless the key has a non-null value; returns whether it has one.
  bool Require(std::string_view key);

  // Typed reads: store into `out` and return true when the key has a valid
  // value; return false leaving `out` untouched when absent/null or invalid
  // (invalid values are recorded as errors).
  bool Read(std::string_view key, std::string& out);
  bool Read(std::string_view key, bool& out);
  bool Read(std::string_view key, uint64_t& out);
  bool Read(std::string_view key, util::Duration& out);
  bool Read(std::string_view key, std::vector<std::string>& out);
  bool Read(std::string_view key, std::map<std::string, std::string>& out);
  bool Read(std::string_view key, model::Labels& out);
  bool ReadByteSize(std::string_view key, uint64_t& out);

  // Reads a secret given as `name` (inline), `name_file` (path, resolved
  // against the config's directory, must be readable now) or `name_env`
  // (variable, must be set now). More than one form is an error:
  // `at most one of password, password_file & password_env must be configured`.
  // Returns true when one valid form was given. Error messages never contain the
  // value.
  bool ReadSecret(std::string_view name, Secret& out);

  // Records, for each of `keys` that is present, `unsupported field "key" in
  // <section>: Vigil does not implement this Prometheus setting<hint>`, so a
  // Prometheus config that uses them fails with a precise reason instead of
  // "unknown field". `hint` starts with "; " or is empty.
  void Unsupported(std::initializer_list<std::string_view> keys, std::string_view hint);

  // Reports unknown keys (once). Called by the destructor if not called before.
  void Finish();

 private:
  struct Entry {
    std::string key;
    YAML::Mark key_mark;
    YAML::Node value;
    bool known = false;
  };
  Entry* Find(std::string_view key);
  const Entry* Find(std::string_view key) const;

  std::string section_;
  YamlErrorSink& errors_;
  YAML::Mark mark_;
  bool is_map_ = true;
  bool finished_ = false;
  std::vector<Entry> entries_;  // in file order, first occurrence of each key
};

}  // namespace vigil::config
