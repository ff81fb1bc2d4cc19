#include "daemon/store/detail/symbol_table.h"

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

std::optional<uint32_t> SymbolTable::Find(std::string_view s) const {
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  return std::nullopt;
}

size_t SymbolTable::MemoryBytes() const {
  using Node = std::pair<const std::string_view, uint32_t>;
  return entries_.size() * sizeof(Entry) + string_heap_bytes_ +
         free_ids_.capacity() * sizeof(uint32_t) +
         ids_.size() * HashNodeBytes(sizeof(Node), /*caches_hash=*/true) +
         BucketBytes(ids_.bucket_count());
}

}  // namespace vigil::store::detail
