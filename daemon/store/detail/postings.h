#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace vigil::store::detail {

// A series' identity inside the store: assigned in increasing order, never
// reused, so appending a new series keeps every postings list sorted.
using SeriesRef = uint64_t;

// PostingsIndex is the inverted index: for each label pair (name id, value id)
// the sorted list of series carrying it, plus the sorted list of all series.
// Not thread-safe: the Store guards it with its index lock. Never fails.
class PostingsIndex {
 public:
  // Value id -> series refs, for one label name.
  using ValueMap = std::unordered_map<uint32_t, std::vector<SeriesRef>>;

  // Indexes a new series. `label_ids` holds name, value, name, value... ids;
  // `ref` must exceed every ref added before.
  void Add(SeriesRef ref, std::span<const uint32_t> label_ids);
  // Removes `ref` from the lists of the pairs in `label_ids`. Removal is
  // batched: the refs are only marked, and dropped from the lists by Commit().
  void Remove(SeriesRef ref, std::span<const uint32_t> label_ids);
  // Drops every ref marked by Remove() from the lists, each list in one pass.
  void Commit();

  // The refs of one pair, or nullptr when no series carries it.
  const std::vector<SeriesRef>* Get(uint32_t name, uint32_t value) const;
  // All values of one label name, or nullptr when no series carries the name.
  const ValueMap* Values(uint32_t name) const;
  const std::unordered_map<uint32_t, ValueMap>& names() const { return names_; }
  const std::vector<SeriesRef>& all() const { return all_; }

  // Estimated heap bytes held (lists and hash tables).
  size_t MemoryBytes() const;

 private:
  // Accounting of one list's heap bytes, kept incrementally.
  static size_t ListBytes(const std::vector<SeriesRef>& list);

  std::unordered_map<uint32_t, ValueMap> names_;
  std::vector<SeriesRef> all_;
  // Pending removals: the refs, and the (name << 32 | value) pairs they touch.
  std::vector<SeriesRef> removed_;
  std::vector<uint64_t> touched_;
  size_t list_bytes_ = 0;   // sum of ListBytes over all lists
  size_t table_bytes_ = 0;  // nodes and bucket arrays of the inner maps
};

}  // namespace vigil::store::detail
