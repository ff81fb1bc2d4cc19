#include "daemon/store/detail/symbol_table.h"

#include <algorithm>
#include <utility>

#include "daemon/store/detail/memory.h"

namespace vigil::store::detail {
namespace {

size_t StringHeapBytes(const std::string& s) {
  // Short strings live inside the std::string object (small-string optimisation).
  return s.capacity() > std::string().capacity() ? HeapBytes(s.capacity() + 1) : 0;
}

}  // namespace

uint32_t SymbolTable::Intern(std::string_view s) {
  if (auto it = ids_.find(s); it != ids_.end()) {
    ++entries_[it->second].refs;
    return it->second;
  }
  uint32_t id;
  if (free_ids_.empty()) {
    id = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    id = free_ids_.back();
    free_ids_.pop_back();
  }
  Entry& entry = entries_[id];
  entry.value.assign(s);
  entry.refs = 1;
  string_heap_bytes_ += StringHeapBytes(entry.value);
  ids_.emplace(std::string_view(entry.value), id);
  unranked_.push_back(id);
  // Without UpdateRanks() calls, churn would grow unranked_ with reused ids.
  if (unranked_.size() > 2 * entries_.size()) DedupeUnranked();
  return id;
}

void SymbolTable::Release(uint32_t id) {
  Entry& entry = entries_[id];
  if (--entry.refs > 0) return;
  ids_.erase(std::string_view(entry.value));
  string_heap_bytes_ -= StringHeapBytes(entry.value);
  std::string().swap(entry.value);
  free_ids_.push_back(id);
}

void SymbolTable::DedupeUnranked() {
  std::sort(unranked_.begin(), unranked_.end());
  unranked_.erase(std::unique(unranked_.begin(), unranked_.end()), unranked_.end());
}

void SymbolTable::UpdateRanks() {
  if (ranks_current()) return;
  // Ids created since the last update, once each and still live, ascending
  // by string (sorted as views held side by side, for locality). A freed
  // id's entry has no references.
  auto live = [this](uint32_t id) { return entries_[id].refs > 0; };
  DedupeUnranked();
  std::erase_if(unranked_, [&](uint32_t id) { return !live(id); });
  std::vector<std::pair<std::string_view, uint32_t>> by_string;
  by_string.reserve(unranked_.size());
  for (uint32_t id : unranked_) by_string.emplace_back(Get(id), id);
  std::sort(by_string.begin(), by_string.end());
  for (size_t i = 0; i < by_string.size(); ++i) unranked_[i] = by_string[i].second;
  auto less = [this](uint32_t a, uint32_t b) { return Get(a) < Get(b); };
  // Drop freed ids, and reused ones (they come back through unranked_).
  std::vector<char> fresh(entries_.size(), 0);
  for (uint32_t id : unranked_) fresh[id] = 1;
  std::erase_if(sorted_, [&](uint32_t id) { return !live(id) || fresh[id]; });
  // Merge: a binary search per new id, then one pass over the old order.
  std::vector<uint32_t> merged;
  merged.reserve(sorted_.size() + unranked_.size());
  auto from = sorted_.begin();
  for (uint32_t id : unranked_) {
    auto to = std::lower_bound(from, sorted_.end(), id, less);
    merged.insert(merged.end(), from, to);
    merged.push_back(id);
    from = to;
  }
  merged.insert(merged.end(), from, sorted_.end());
  sorted_ = std::move(merged);
  unranked_.clear();
  ranks_.resize(entries_.size());
  for (size_t i = 0; i < sorted_.size(); ++i) ranks_[sorted_[i]] = static_cast<uint32_t>(i);
}

std::optional<uint32_t> SymbolTable::Find(std::string_view s) const {
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  return std::nullopt;
}

size_t SymbolTable::MemoryBytes() const {
  using Node = std::pair<const std::string_view, uint32_t>;
  return entries_.size() * sizeof(Entry) + string_heap_bytes_ +
         free_ids_.capacity() * sizeof(uint32_t) +
         HeapBytes(sorted_.capacity() * sizeof(uint32_t)) +
         HeapBytes(ranks_.capacity() * sizeof(uint32_t)) +
         HeapBytes(unranked_.capacity() * sizeof(uint32_t)) +
         ids_.size() * HashNodeBytes(sizeof(Node), /*caches_hash=*/true) +
         BucketBytes(ids_.bucket_count());
}

}  // namespace vigil::store::detail
