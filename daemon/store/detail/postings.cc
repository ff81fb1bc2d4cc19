#include "daemon/store/detail/postings.h"

#include <algorithm>
#include <utility>

#include "daemon/store/detail/memory.h"

namespace vigil::store::detail {
namespace {

constexpr size_t kValueNodeBytes =
    HashNodeBytes(sizeof(std::pair<const uint32_t, std::vector<SeriesRef>>), false);
constexpr size_t kNameNodeBytes =
    HashNodeBytes(sizeof(std::pair<const uint32_t, PostingsIndex::ValueMap>), false);

}  // namespace

size_t PostingsIndex::ListBytes(const std::vector<SeriesRef>& list) {
  return HeapBytes(list.capacity() * sizeof(SeriesRef));
}

void PostingsIndex::Add(SeriesRef ref, std::span<const uint32_t> label_ids) {
  all_.push_back(ref);
  for (size_t i = 0; i + 1 < label_ids.size(); i += 2) {
    ValueMap& values = names_[label_ids[i]];
    const size_t buckets_before = BucketBytes(values.bucket_count());
    auto [it, inserted] = values.try_emplace(label_ids[i + 1]);
    if (inserted) {
      table_bytes_ += kValueNodeBytes + BucketBytes(values.bucket_count()) - buckets_before;
    }
    std::vector<SeriesRef>& list = it->second;
    list_bytes_ -= ListBytes(list);
    list.push_back(ref);
    list_bytes_ += ListBytes(list);
  }
}

void PostingsIndex::Remove(SeriesRef ref, std::span<const uint32_t> label_ids) {
  removed_.push_back(ref);
  for (size_t i = 0; i + 1 < label_ids.size(); i += 2) {
    touched_.push_back(uint64_t{label_ids[i]} << 32 | label_ids[i + 1]);
  }
}

void PostingsIndex::Commit() {
  if (removed_.empty()) return;
  std::sort(removed_.begin(), removed_.end());
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  auto is_removed = [this](SeriesRef ref) {
    return std::binary_search(removed_.begin(), removed_.end(), ref);
  };
  std::erase_if(all_, is_removed);
  for (uint64_t pair : touched_) {
    auto name_it = names_.find(static_cast<uint32_t>(pair >> 32));
    if (name_it == names_.end()) continue;
    ValueMap& values = name_it->second;
    auto value_it = values.find(static_cast<uint32_t>(pair));
    if (value_it == values.end()) continue;
    std::vector<SeriesRef>& list = value_it->second;
    list_bytes_ -= ListBytes(list);
    std::erase_if(list, is_removed);
    if (!list.empty()) {
      list.shrink_to_fit();
      list_bytes_ += ListBytes(list);
      continue;
    }
    values.erase(value_it);
    table_bytes_ -= kValueNodeBytes;
    if (values.empty()) {
      table_bytes_ -= BucketBytes(values.bucket_count());
      names_.erase(name_it);
    }
  }
  removed_.clear();
  touched_.clear();
}

const std::vector<SeriesRef>* PostingsIndex::Get(uint32_t name, uint32_t value) const {
  const ValueMap* values = Values(name);
  if (values == nullptr) return nullptr;
  auto it = values->find(value);
  return it == values->end() ? nullptr : &it->second;
}

const PostingsIndex::ValueMap* PostingsIndex::Values(uint32_t name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : &it->second;
}

size_t PostingsIndex::MemoryBytes() const {
  return list_bytes_ + table_bytes_ + names_.size() * kNameNodeBytes +
         BucketBytes(names_.bucket_count()) + HeapBytes(all_.capacity() * sizeof(SeriesRef)) +
         HeapBytes(removed_.capacity() * sizeof(SeriesRef)) +
         HeapBytes(touched_.capacity() * sizeof(uint64_t));
}

}  // namespace vigil::store::detail
