#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vigil::store::detail {

// SymbolTable interns label names and values: each distinct string is stored
// once and named by a dense 32-bit id. Ids are reference counted; a string
// whose last reference is released is freed and its id reused. Not
// thread-safe: the Store guards it with its index lock. Never fails.
class SymbolTable {
 public:
  // Returns the id of `s`, creating it if needed, and takes one reference.
  uint32_t Intern(std::string_view s);
  // Drops one reference to `id`; frees the string when none remain.
  void Release(uint32_t id);
  // The id of `s` if it is interned.
  std::optional<uint32_t> Find(std::string_view s) const;
  // The string of a live id. The view stays valid until the id is freed.
  std::string_view Get(uint32_t id) const { return entries_[id].value; }

  // Number of live symbols.
  size_t size() const { return ids_.size(); }
  // Estimated heap and inline bytes held (strings, slots, hash table).
  size_t MemoryBytes() const;

 private:
  struct Entry {
    std::string value;
    uint32_t refs = 0;
  };
  std::deque<Entry> entries_;  // indexed by id; a deque so strings never move
  std::vector<uint32_t> free_ids_;
  std::unordered_map<std::string_view, uint32_t> ids_;  // keys view entries_
  size_t string_heap_bytes_ = 0;
};

}  // namespace vigil::store::detail
