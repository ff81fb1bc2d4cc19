#pragma once

// Sets of 64-bit label hashes for the evaluator's matching and duplicate
// checks, which handle one hash per series of a vector. Private to the promql
// module.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace vigil::promql::detail {

// HashSet holds 64-bit hashes in one flat array (open addressing, linear
// probing): no allocation per element, unlike std::unordered_set. Not
// thread-safe. Never fails.
class HashSet {
 public:
  // Sized so that `expected` insertions need no rehash.
  explicit HashSet(size_t expected = 0) { Reserve(expected); }

  // Adds h; false when it was already present.
  bool Insert(uint64_t h) {
    if (h == kEmpty) return !std::exchange(has_empty_, true);
    if ((size_ + 1) * 2 > slots_.size()) Reserve(size_ + 1);
    for (size_t i = Slot(h);; i = (i + 1) & mask_) {
      if (slots_[i] == h) return false;
      if (slots_[i] == kEmpty) {
        slots_[i] = h;
        ++size_;
        return true;
      }
    }
  }

  bool Contains(uint64_t h) const {
    if (h == kEmpty) return has_empty_;
    if (slots_.empty()) return false;
    for (size_t i = Slot(h);; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
      if (slots_[i] == kEmpty) return false;
    }
  }

 private:
  static constexpr uint64_t kEmpty = 0;  // tracked apart, in has_empty_

  size_t Slot(uint64_t h) const {
    // Fibonacci hashing spreads hashes whose low bits are poorly mixed.
    return static_cast<size_t>((h * 0x9e3779b97f4a7c15ULL) >> shift_) & mask_;
  }

  // Grows to a power of two of at least 2 * n slots (load factor <= 1/2).
  void Reserve(size_t n) {
    size_t capacity = 16;
    int bits = 4;
    while (capacity < 2 * n) {
      capacity *= 2;
      ++bits;
    }
    if (capacity <= slots_.size()) return;
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(capacity, kEmpty);
    mask_ = capacity - 1;
    shift_ = 64 - bits;
    size_ = 0;
    for (uint64_t h : old) {
      if (h != kEmpty) Insert(h);
    }
  }

  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
  bool has_empty_ = false;
};

// Whether `hashes` holds some value twice; sorts it. For checks over a whole
// vector at once: an LSD radix sort (one byte per pass, skipping bytes all
// values share) reads and writes in sequence, where a hash set of as many
// values would miss the cache on every insertion.
inline bool HasDuplicate(std::vector<uint64_t>& hashes) {
  if (hashes.size() < 2) return false;
  std::array<std::array<size_t, 256>, 8> counts{};
  for (uint64_t h : hashes) {
    for (size_t b = 0; b < 8; ++b) ++counts[b][(h >> (8 * b)) & 0xff];
  }
  std::vector<uint64_t> scratch(hashes.size());
  for (size_t b = 0; b < 8; ++b) {
    std::array<size_t, 256>& offsets = counts[b];
    if (offsets[(hashes[0] >> (8 * b)) & 0xff] == hashes.size()) continue;
    size_t sum = 0;
    for (size_t& n : offsets) sum += std::exchange(n, sum);
    for (uint64_t h : hashes) scratch[offsets[(h >> (8 * b)) & 0xff]++] = h;
    hashes.swap(scratch);
  }
  return std::adjacent_find(hashes.begin(), hashes.end()) != hashes.end();
}

}  // namespace vigil::promql::detail
