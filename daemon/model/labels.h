#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::model {

inline constexpr std::string_view kMetricName = "__name__";

struct Label {
  std::string name;
  std::string value;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// Labels is an immutable set of name/value pairs sorted by name, with no empty
// values and no duplicate names: the identity of a series. Cheap to compare and
// hash. A value type; thread-compatible (const use from many threads is safe).
class Labels {
 public:
  Labels() = default;
  // Sorts; later duplicates of a name win; pairs with an empty value are dropped.
  Labels(std::initializer_list<Label> labels);
  static Labels FromUnsorted(std::vector<Label> labels);
  // Takes pairs already sorted by name, with no duplicate names and no empty
  // values (such as a copy of another Labels), without FromUnsorted's work.
  static Labels FromSorted(std::vector<Label> sorted) { return Labels(std::move(sorted)); }

  // The value for `name`, or "" when absent (Prometheus treats both alike).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricName); }

  const std::vector<Label>& items() const { return labels_; }
  auto begin() const { return labels_.begin(); }
  auto end() const { return labels_.end(); }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  // A stable 64-bit hash of all pairs (xxhash-like quality, not cryptographic).
  uint64_t Hash() const;
  // Hash of only the named labels (`on(...)`), or of all but them (`ignoring(...)`).
  // Names must be sorted. Used for vector matching and grouping.
  uint64_t HashForLabels(const std::vector<std::string>& names) const;
  uint64_t HashWithoutLabels(const std::vector<std::string>& names) const;

  // Copies keeping only / dropping the given names (any order).
  Labels Keep(const std::vector<std::string>& names) const;
  Labels Drop(const std::vector<std::string>& names) const;
  Labels WithoutMetricName() const;

  // Prometheus's text form: `name{a="b", c="d"}`, or `{a="b"}` with no name.
  std::string ToString() const;

  friend bool operator==(const Labels&, const Labels&) = default;
  friend auto operator<=>(const Labels& a, const Labels& b) { return a.labels_ <=> b.labels_; }

 private:
  explicit Labels(std::vector<Label> sorted) : labels_(std::move(sorted)) {}
  friend class LabelsBuilder;
  std::vector<Label> labels_;
};

// LabelsBuilder edits a copy of a label set: Set with "" deletes, as in Prometheus.
// Not thread-safe.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base) : labels_(base.items()) {}
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  std::string_view Get(std::string_view name) const;
  Labels Build() const;

 private:
  std::vector<Label> labels_;  // kept sorted by name
};

}  // namespace vigil::model
