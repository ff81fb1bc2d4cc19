#include "daemon/model/labels.h"

#include <algorithm>

#include <fmt/format.h>

namespace vigil::model {
namespace {

// FNV-1a over name, separator, value, separator: stable across runs and builds.
constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;
constexpr char kSeparator = '\xff';

void HashBytes(uint64_t& h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= static_cast<unsigned char>(kSeparator);
  h *= kFnvPrime;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

}  // namespace

Labels::Labels(std::initializer_list<Label> labels)
    : Labels(FromUnsorted(std::vector<Label>(labels))) {}

Labels Labels::FromUnsorted(std::vector<Label> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  std::vector<Label> out;
  out.reserve(labels.size());
  for (auto& label : labels) {
    if (!out.empty() && out.back().name == label.name) {
      out.back().value = std::move(label.value);
    } else {
      out.push_back(std::move(label));
    }
  }
  std::erase_if(out, [](const Label& l) { return l.value.empty(); });
  return Labels(std::move(out));
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) return it->value;
  return {};
}

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

uint64_t Labels::Hash() const {
  uint64_t h = kFnvOffset;
  for (const auto& l : labels_) {
    HashBytes(h, l.name);
    HashBytes(h, l.value);
  }
  return h;
}

uint64_t Labels::HashForLabels(const std::vector<std::string>& names) const {
  uint64_t h = kFnvOffset;
  for (const auto& l : labels_) {
    if (!Contains(names, l.name)) continue;
    HashBytes(h, l.name);
    HashBytes(h, l.value);
  }
  return h;
}

uint64_t Labels::HashWithoutLabels(const std::vector<std::string>& names) const {
  uint64_t h = kFnvOffset;
  for (const auto& l : labels_) {
    if (l.name == kMetricName || Contains(names, l.name)) continue;
    HashBytes(h, l.name);
    HashBytes(h, l.value);
  }
  return h;
}

Labels Labels::Keep(const std::vector<std::string>& names) const {
  std::vector<Label> out;
  for (const auto& l : labels_) {
    if (Contains(names, l.name)) out.push_back(l);
  }
  return Labels(std::move(out));
}

Labels Labels::Drop(const std::vector<std::string>& names) const {
  std::vector<Label> out;
  for (const auto& l : labels_) {
    if (!Contains(names, l.name)) out.push_back(l);
  }
  return Labels(std::move(out));
}

Labels Labels::WithoutMetricName() const {
  return Drop({std::string(kMetricName)});
}

std::string Labels::ToString() const {
  std::string out(MetricName());
  out += '{';
  bool first = true;
  for (const auto& l : labels_) {
    if (l.name == kMetricName) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscaped(out, l.value);
    out += '"';
  }
  out += '}';
  if (out.size() > 2 && out.ends_with("{}")) out.resize(out.size() - 2);
  return out;
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    it->value = value;
  } else {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  std::erase_if(labels_, [&](const Label& l) { return l.name == name; });
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& l : labels_) {
    if (l.name == name) return l.value;
  }
  return {};
}

Labels LabelsBuilder::Build() const { return Labels(labels_); }

}  // namespace vigil::model
