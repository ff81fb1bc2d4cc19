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
// whose last reference is released is freed and its id reused. It also keeps
// a lexical rank per id, so sorting by interned strings can compare integers;
// the ranks are brought up to date on demand by UpdateRanks(). Not
// thread-safe: the Store guards it with its index lock (UpdateRanks() writes
// only the rank state, which the Store also guards with a second mutex, so
// that it can run under the index lock held shared).
// Never fails.
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
  // Asks the CPU to fetch a live id's string ahead of a Get() (short strings
  // are stored inline in the entry).
  void Prefetch(uint32_t id) const { __builtin_prefetch(&entries_[id]); }

  // Ranks the symbols interned since the last call: sorts them and merges
  // them into the order, O(k log n + n) for k new symbols among n; nothing if
  // none. Freed ids leave gaps in the ranks, which keep their order.
  void UpdateRanks();
  bool ranks_current() const { return unranked_.empty(); }
  // An upper bound of the symbols UpdateRanks() would rank.
  size_t unranked_count() const { return unranked_.size(); }
  // The lexical rank of an id ranked by UpdateRanks() and live since:
  // Rank(a) < Rank(b) exactly when Get(a) < Get(b).
  uint32_t Rank(uint32_t id) const { return ranks_[id]; }

  // Number of live symbols.
  size_t size() const { return ids_.size(); }
  // Estimated heap and inline bytes held (strings, slots, hash table).
  size_t MemoryBytes() const;

 private:
  void DedupeUnranked();

  struct Entry {
    std::string value;
    uint32_t refs = 0;
  };
  std::deque<Entry> entries_;  // indexed by id; a deque so strings never move
  std::vector<uint32_t> free_ids_;
  std::unordered_map<std::string_view, uint32_t> ids_;  // keys view entries_
  size_t string_heap_bytes_ = 0;
  // Rank state. sorted_ holds ids ascending by string as of the last
  // UpdateRanks(), ranks_ their positions (indexed by id); unranked_ holds ids
  // created since (a freed and reused id is in both until the update; freed
  // ids stay in sorted_ until then).
  std::vector<uint32_t> sorted_;
  std::vector<uint32_t> ranks_;
  std::vector<uint32_t> unranked_;
};

}  // namespace vigil::store::detail
