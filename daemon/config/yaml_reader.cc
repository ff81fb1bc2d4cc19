#include "daemon/config/yaml_reader.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "daemon/config/units.h"
#include "daemon/model/relabel.h"

namespace vigil::config {
namespace {

bool IsPlain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

std::optional<bool> PlainBool(const YAML::Node& node) {
  if (!IsPlain(node)) return std::nullopt;
  const std::string& s = node.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The kind of a node without its value, for "expected a map/list" errors: a
// misplaced scalar could be a secret, so it is not echoed.
std::string DescribeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      break;
  }
  if (PlainBool(node)) return "a boolean";
  if (IsPlain(node) && LooksNumeric(node.Scalar())) return "a number";
  return "a string";
}

}  // namespace

YamlErrorSink::YamlErrorSink(std::string file, std::string base_dir)
    : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

void YamlErrorSink::Add(const YAML::Mark& mark, std::string message) {
  ConfigError error{file_, 0, 0, std::move(message)};
  if (!mark.is_null()) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  errors_.push_back(std::move(error));
}

std::string YamlErrorSink::ResolvePath(std::string_view path) const {
  if (path.empty() || base_dir_.empty()) return std::string(path);
  std::filesystem::path p(path);
  if (p.is_absolute()) return std::string(path);
  return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

Errors YamlErrorSink::SortedErrors() const {
  Errors sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return sorted;
}

std::string DescribeNode(const YAML::Node& node) {
  if (!node.IsScalar()) return DescribeKind(node);
  if (auto b = PlainBool(node)) return *b ? "boolean true" : "boolean false";
  return fmt::format("\"{}\"", node.Scalar());
}

std::optional<std::string> ParseString(const YAML::Node& node, YamlErrorSink& errors) {
  if (!node.IsScalar()) {
    errors.Addf(node.Mark(), "expected a string, got {}", DescribeKind(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<bool> ParseBool(const YAML::Node& node, YamlErrorSink& errors) {
  if (auto b = PlainBool(node)) return b;
  errors.Addf(node.Mark(), "expected a boolean, got {}", DescribeNode(node));
  return std::nullopt;
}

std::optional<uint64_t> ParseUint(const YAML::Node& node, YamlErrorSink& errors) {
  if (!IsPlain(node) || node.Scalar().empty() ||
      !std::all_of(node.Scalar().begin(), node.Scalar().end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    errors.Addf(node.Mark(), "expected a non-negative integer, got {}", DescribeNode(node));
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : node.Scalar()) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      errors.Addf(node.Mark(), "integer out of range: {}", node.Scalar());
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

std::optional<util::Duration> ParseDuration(const YAML::Node& node, YamlErrorSink& errors) {
  if (!node.IsScalar() || PlainBool(node)) {
    errors.Addf(node.Mark(), "expected a duration, got {}", DescribeNode(node));
    return std::nullopt;
  }
  auto parsed = util::ParseDuration(node.Scalar());
  if (!parsed) {
    errors.Add(node.Mark(), parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<uint64_t> ParseByteSize(const YAML::Node& node, YamlErrorSink& errors) {
  if (!node.IsScalar() || PlainBool(node)) {
    errors.Addf(node.Mark(), "expected a byte size, got {}", DescribeNode(node));
    return std::nullopt;
  }
  auto parsed = ParseByteSize(node.Scalar());
  if (!parsed) {
    errors.Add(node.Mark(), parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

bool ForEachItem(const YAML::Node& node, YamlErrorSink& errors,
                 const std::function<void(const YAML::Node& item)>& fn) {
  if (node.IsNull()) return true;
  if (!node.IsSequence()) {
    errors.Addf(node.Mark(), "expected a list, got {}", DescribeKind(node));
    return false;
  }
  for (const YAML::Node& item : node) fn(item);
  return true;
}

std::optional<std::vector<std::string>> ParseStringList(const YAML::Node& node,
                                                        YamlErrorSink& errors) {
  std::vector<std::string> out;
  size_t before = errors.size();
  bool is_list = ForEachItem(node, errors, [&](const YAML::Node& item) {
    if (auto s = ParseString(item, errors)) out.push_back(*std::move(s));
  });
  if (!is_list || errors.size() != before) return std::nullopt;
  return out;
}

bool ForEachEntry(const YAML::Node& node, YamlErrorSink& errors,
                  const std::function<void(const std::string& key, const YAML::Node& key_node,
                                           const YAML::Node& value)>& fn) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    errors.Addf(node.Mark(), "expected a map, got {}", DescribeKind(node));
    return false;
  }
  std::map<std::string, int> first_line;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      errors.Addf(it->first.Mark(), "expected a string key, got {}", DescribeKind(it->first));
      continue;
    }
    const std::string& key = it->first.Scalar();
    auto [seen, inserted] = first_line.emplace(key, it->first.Mark().line + 1);
    if (!inserted) {
      errors.Addf(it->first.Mark(), "mapping key \"{}\" already defined at line {}", key,
                  seen->second);
      continue;
    }
    fn(key, it->first, it->second);
  }
  return true;
}

std::optional<std::map<std::string, std::string>> ParseStringMap(const YAML::Node& node,
                                                                 YamlErrorSink& errors) {
  std::map<std::string, std::string> out;
  size_t before = errors.size();
  bool is_map = ForEachEntry(
      node, errors, [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
        if (value.IsNull()) {
          out[key] = "";
        } else if (auto s = ParseString(value, errors)) {
          out[key] = *std::move(s);
        }
      });
  if (!is_map || errors.size() != before) return std::nullopt;
  return out;
}

std::optional<model::Labels> ParseLabels(const YAML::Node& node, YamlErrorSink& errors) {
  std::vector<model::Label> labels;
  size_t before = errors.size();
  bool is_map = ForEachEntry(
      node, errors,
      [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
        if (!model::IsValidLabelName(name)) {
          errors.Addf(key_node.Mark(), "\"{}\" is not a valid label name", name);
          return;
        }
        if (value.IsNull()) return;
        if (auto s = ParseString(value, errors)) labels.push_back({name, *std::move(s)});
      });
  if (!is_map || errors.size() != before) return std::nullopt;
  return model::Labels::FromUnsorted(std::move(labels));
}

MapReader::MapReader(const YAML::Node& node, std::string section, YamlErrorSink& errors)
    : section_(std::move(section)), errors_(errors), mark_(node.Mark()) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    errors_.Addf(mark_, "expected a map in {}, got {}", section_, DescribeKind(node));
    is_map_ = false;
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      errors_.Addf(it->first.Mark(), "expected a string key in {}, got {}", section_,
                   DescribeKind(it->first));
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (const Entry* seen = Find(key)) {
      errors_.Addf(it->first.Mark(), "mapping key \"{}\" already defined at line {}", key,
                   seen->key_mark.line + 1);
      continue;
    }
    entries_.push_back(Entry{key, it->first.Mark(), it->second, false});
  }
}

MapReader::~MapReader() { Finish(); }

MapReader::Entry* MapReader::Find(std::string_view key) {
  for (Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const MapReader::Entry* MapReader::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::optional<YAML::Node> MapReader::Get(std::string_view key) {
  Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  e->known = true;
  if (e->value.IsNull()) return std::nullopt;
  return e->value;
}

bool MapReader::Has(std::string_view key) const {
  const Entry* e = Find(key);
  return e != nullptr && !e->value.IsNull();
}

std::optional<YAML::Mark> MapReader::KeyMark(std::string_view key) const {
  const Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  return e->key_mark;
}

bool MapReader::Require(std::string_view key) {
  if (Has(key)) return true;
  if (is_map_) errors_.Addf(mark_, "missing required field \"{}\" in {}", key, section_);
  return false;
}

bool MapReader::Read(std::string_view key, std::string& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseString(*node, errors_);
  if (!value) return false;
  out = *std::move(value);
  return true;
}

bool MapReader::Read(std::string_view key, bool& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseBool(*node, errors_);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::Read(std::string_view key, uint64_t& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseUint(*node, errors_);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::Read(std::string_view key, util::Duration& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseDuration(*node, errors_);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::Read(std::string_view key, std::vector<std::string>& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseStringList(*node, errors_);
  if (!value) return false;
  out = *std::move(value);
  return true;
}

bool MapReader::Read(std::string_view key, std::map<std::string, std::string>& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseStringMap(*node, errors_);
  if (!value) return false;
  out = *std::move(value);
  return true;
}

bool MapReader::Read(std::string_view key, model::Labels& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseLabels(*node, errors_);
  if (!value) return false;
  out = *std::move(value);
  return true;
}

bool MapReader::ReadByteSize(std::string_view key, uint64_t& out) {
  auto node = Get(key);
  if (!node) return false;
  auto value = ParseByteSize(*node, errors_);
  if (!value) return false;
  out = *value;
  return true;
}

bool MapReader::ReadSecret(std::string_view name, Secret& out) {
  const std::string file_key = fmt::format("{}_file", name);
  const std::string env_key = fmt::format("{}_env", name);
  auto inline_node = Get(name);
  auto file_node = Get(file_key);
  auto env_node = Get(env_key);
  int given = 0;
  for (const auto* node : {&inline_node, &file_node, &env_node}) {
    if (!node->has_value()) continue;
    if (++given == 2) {
      errors_.Addf((*node)->Mark(), "at most one of {}, {} & {} must be configured", name, file_key,
                   env_key);
    }
  }
  if (given != 1) return false;
  if (inline_node) {
    auto value = ParseString(*inline_node, errors_);
    if (!value) return false;
    out = Secret::Inline(*std::move(value));
    return true;
  }
  if (file_node) {
    auto path = ParseString(*file_node, errors_);
    if (!path) return false;
    Secret secret = Secret::FromFile(errors_.ResolvePath(*path));
    if (auto readable = secret.Resolve(); !readable) {
      errors_.Addf(file_node->Mark(), "{}: {}", file_key, readable.error().message);
      return false;
    }
    out = std::move(secret);
    return true;
  }
  auto variable = ParseString(*env_node, errors_);
  if (!variable) return false;
  if (std::getenv(variable->c_str()) == nullptr) {
    errors_.Addf(env_node->Mark(), "environment variable \"{}\" named by {} is not set", *variable,
                 env_key);
    return false;
  }
  out = Secret::FromEnv(*std::move(variable));
  return true;
}

void MapReader::Unsupported(std::initializer_list<std::string_view> keys, std::string_view hint) {
  for (std::string_view key : keys) {
    Entry* e = Find(key);
    if (e == nullptr || e->known) continue;
    e->known = true;
    errors_.Addf(e->key_mark,
                 "unsupported field \"{}\" in {}: Vigil does not implement this Prometheus setting{}",
                 key, section_, hint);
  }
}

void MapReader::Finish() {
  if (finished_) return;
  finished_ = true;
  for (const Entry& e : entries_) {
    if (!e.known) errors_.Addf(e.key_mark, "unknown field \"{}\" in {}", e.key, section_);
  }
}

}  // namespace vigil::config
