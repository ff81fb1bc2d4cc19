#pragma once

#include <cstddef>

namespace vigil::store::detail {

// Bytes glibc's malloc really takes for a request of `n` bytes: the request
// plus an 8-byte header, rounded up to 16, at least 32. Zero for no request.
// Used for the store's memory estimate, which counts what the process pays.
constexpr size_t HeapBytes(size_t n) {
  if (n == 0) return 0;
  const size_t chunk = (n + 8 + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// Bytes of one std::unordered_map node in libstdc++: the next pointer, the
// value, and the cached hash code when the hasher is not trivially fast.
constexpr size_t HashNodeBytes(size_t value_bytes, bool caches_hash) {
  return HeapBytes(sizeof(void*) + value_bytes + (caches_hash ? sizeof(size_t) : 0));
}

// Bytes of a hash table's bucket array (libstdc++ keeps a single bucket inline).
constexpr size_t BucketBytes(size_t bucket_count) {
  return bucket_count > 1 ? HeapBytes(bucket_count * sizeof(void*)) : 0;
}

}  // namespace vigil::store::detail
