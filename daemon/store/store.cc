#include "daemon/store/store.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/store/detail/memory.h"

namespace vigil::store {
namespace {

using detail::HashNodeBytes;
using detail::HeapBytes;
using detail::XorChunk;

// Samples per chunk before a new one is cut, as in Prometheus's head block.
constexpr size_t kChunkSamples = 120;
// From this many selected series on, Select sorts by the symbols' lexical
// ranks instead of comparing strings: bringing the ranks up to date may cost
// a pass over all symbols, which a large selection amortises. It does so only
// with at most this many unranked symbols per selected series, so that ranking
// a whole new store (1M symbols: about a second) is left to Compact().
constexpr size_t kRankedSortMin = 1024;
constexpr size_t kMaxUnrankedPerSeries = 2;
// Value id standing for "the series lacks this label" in matcher memos.
constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

int64_t ClampRetention(util::Duration retention) {
  return std::max(retention, kMinRetention).count();
}

// The alternatives of a regex that is a plain alternation of literals, such
// as "api|db" (common in dashboards), so `=~` can look each one up instead of
// running the regex over every value. Nullopt when any regex syntax is used.
std::optional<std::vector<std::string_view>> LiteralAlternatives(std::string_view regex) {
  if (regex.find_first_of("\\.+*?()[]{}^$") != std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t bar = regex.find('|', start);
    out.push_back(regex.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  // Duplicates would add a postings list twice to the union.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

struct Store::MemSeries {
  SeriesRef ref = 0;
  uint64_t hash = 0;
  // name, value, name, value... symbol ids in label-name order. Immutable once
  // the series is created, so readable under index_mu_ alone.
  std::vector<uint32_t> label_ids;
  // The rest is guarded by the series' stripe mutex.
  std::vector<XorChunk> chunks;  // ascending in time; back() is the open head
  int64_t max_t = 0;             // newest timestamp ever appended, if has_samples
  uint64_t last_bits = 0;        // its value's bits
  bool has_samples = false;

  uint32_t ValueId(uint32_t name_id) const {
    for (size_t i = 0; i + 1 < label_ids.size(); i += 2) {
      if (label_ids[i] == name_id) return label_ids[i + 1];
    }
    return kAbsent;
  }

  size_t SampleBytes() const {
    size_t bytes = HeapBytes(chunks.capacity() * sizeof(XorChunk));
    for (const XorChunk& chunk : chunks) bytes += HeapBytes(chunk.capacity_bytes());
    return bytes;
  }
};

size_t Store::SeriesRecordBytes(const MemSeries& series) {
  using SeriesNode = std::pair<const SeriesRef, std::unique_ptr<MemSeries>>;
  using HashNode = std::pair<const uint64_t, SeriesRef>;
  return HeapBytes(sizeof(MemSeries)) + HeapBytes(series.label_ids.capacity() * sizeof(uint32_t)) +
         HashNodeBytes(sizeof(SeriesNode), false) + HashNodeBytes(sizeof(HashNode), false);
}

Store::Store(StoreOptions options)
    : max_series_(options.max_series), retention_ms_(ClampRetention(options.retention)) {}

Store::~Store() = default;

void Store::SetRetention(util::Duration retention) {
  retention_ms_.store(ClampRetention(retention), std::memory_order_relaxed);
}

util::Duration Store::retention() const {
  return util::Duration(retention_ms_.load(std::memory_order_relaxed));
}

bool Store::SameLabelsLocked(const MemSeries& series, const model::Labels& labels) const {
  if (series.label_ids.size() != labels.size() * 2) return false;
  size_t i = 0;
  for (const model::Label& label : labels) {
    if (symbols_.Get(series.label_ids[i]) != label.name ||
        symbols_.Get(series.label_ids[i + 1]) != label.value) {
      return false;
    }
    i += 2;
  }
  return true;
}

Store::MemSeries* Store::FindSeriesLocked(const model::Labels& labels, uint64_t hash) const {
  auto [begin, end] = by_hash_.equal_range(hash);
  for (auto it = begin; it != end; ++it) {
    MemSeries& series = *series_.at(it->second);
    if (SameLabelsLocked(series, labels)) return &series;
  }
  return nullptr;
}

model::Labels Store::LabelsOfLocked(const MemSeries& series) const {
  std::vector<model::Label> labels;
  labels.reserve(series.label_ids.size() / 2);
  for (size_t i = 0; i + 1 < series.label_ids.size(); i += 2) {
    labels.push_back(model::Label{std::string(symbols_.Get(series.label_ids[i])),
                                  std::string(symbols_.Get(series.label_ids[i + 1]))});
  }
  // label_ids come from a model::Labels: sorted, unique, no empty values.
  return model::Labels::FromSorted(std::move(labels));
}

Store::MemSeries* Store::CreateSeriesLocked(const model::Labels& labels, uint64_t hash) {
  auto series = std::make_unique<MemSeries>();
  series->ref = next_ref_++;
  series->hash = hash;
  series->label_ids.reserve(labels.size() * 2);
  for (const model::Label& label : labels) {
    series->label_ids.push_back(symbols_.Intern(label.name));
    series->label_ids.push_back(symbols_.Intern(label.value));
  }
  postings_.Add(series->ref, series->label_ids);
  by_hash_.emplace(hash, series->ref);
  series_bytes_ += SeriesRecordBytes(*series);
  MemSeries* raw = series.get();
  series_.emplace(raw->ref, std::move(series));
  return raw;
}

util::Result<void> Store::AppendToSeries(MemSeries& series, int64_t t, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (series.has_samples) {
    if (t < series.max_t) {
      out_of_order_total_.fetch_add(1, std::memory_order_relaxed);
      return util::Fail("out of order sample");
    }
    if (t == series.max_t) {
      if (bits == series.last_bits) return {};
      duplicate_total_.fetch_add(1, std::memory_order_relaxed);
      return util::Fail("duplicate sample for timestamp");
    }
  }
  const size_t bytes_before = series.SampleBytes();
  // A chunk spans at most half the retention, so whole-chunk dropping keeps a
  // sample at most 1.5 x retention, while slow series still fill their chunks
  // enough to amortise the chunk header.
  const auto max_span = static_cast<uint64_t>(retention_ms_.load(std::memory_order_relaxed) / 2);
  if (series.chunks.empty() || series.chunks.back().num_samples() >= kChunkSamples ||
      static_cast<uint64_t>(t) - static_cast<uint64_t>(series.chunks.back().min_t()) >= max_span) {
    if (!series.chunks.empty()) series.chunks.back().Seal();
    series.chunks.emplace_back();
  }
  series.chunks.back().Append(t, v);
  series.max_t = t;
  series.last_bits = bits;
  series.has_samples = true;
  const size_t bytes_after = series.SampleBytes();
  if (bytes_after >= bytes_before) {
    sample_bytes_.fetch_add(bytes_after - bytes_before, std::memory_order_relaxed);
  } else {
    sample_bytes_.fetch_sub(bytes_before - bytes_after, std::memory_order_relaxed);
  }
  // Sequentially consistent, counted before stored, and read in the opposite
  // order by GetStats(): a reader never sees more samples than appended.
  appended_total_.fetch_add(1);
  samples_.fetch_add(1);
  return {};
}

util::Result<void> Store::Append(const model::Labels& labels, int64_t t, double v) {
  if (auto ref = AppendRef(0, labels, t, v); !ref) return tl::unexpected(std::move(ref.error()));
  return {};
}

util::Result<model::SeriesRef> Store::AppendRef(model::SeriesRef ref, const model::Labels& labels,
                                                int64_t t, double v) {
  auto append = [this, t, v](MemSeries& series) -> util::Result<model::SeriesRef> {
    std::lock_guard series_lock(StripeFor(series.ref));
    if (auto ok = AppendToSeries(series, t, v); !ok) return tl::unexpected(std::move(ok.error()));
    return series.ref;
  };
  if (labels.empty()) return util::Fail("empty label set");
  if (ref != 0) {
    std::shared_lock index_lock(index_mu_);
    if (auto it = series_.find(ref); it != series_.end()) return append(*it->second);
  }
  const uint64_t hash = labels.Hash();
  {
    std::shared_lock index_lock(index_mu_);
    if (MemSeries* series = FindSeriesLocked(labels, hash)) return append(*series);
  }
  std::unique_lock index_lock(index_mu_);
  MemSeries* series = FindSeriesLocked(labels, hash);  // another thread may have created it
  if (series == nullptr) {
    if (max_series_ != 0 && series_.size() >= max_series_) {
      series_limit_total_.fetch_add(1, std::memory_order_relaxed);
      return util::Fail("series limit of {} reached", max_series_);
    }
    series = CreateSeriesLocked(labels, hash);
  }
  return append(*series);
}

std::vector<Store::SeriesRef> Store::PostingsForMatcherLocked(const model::Matcher& matcher,
                                                              uint32_t name_id) const {
  if (matcher.type() == model::MatchType::kEqual) {
    const std::optional<uint32_t> value_id = symbols_.Find(matcher.value());
    if (!value_id) return {};
    const std::vector<SeriesRef>* list = postings_.Get(name_id, *value_id);
    return list == nullptr ? std::vector<SeriesRef>{} : *list;
  }
  // Every series has one value per name, so the lists of distinct values are
  // disjoint: concatenating and sorting gives their union.
  std::vector<SeriesRef> out;
  size_t lists = 0;
  auto add = [&](const std::vector<SeriesRef>& list) {
    out.insert(out.end(), list.begin(), list.end());
    ++lists;
  };
  std::optional<std::vector<std::string_view>> literals;
  if (matcher.type() == model::MatchType::kRegexMatch)
    literals = LiteralAlternatives(matcher.value());
  if (literals) {
    for (std::string_view literal : *literals) {
      const std::optional<uint32_t> value_id = symbols_.Find(literal);
      if (!value_id) continue;
      if (const std::vector<SeriesRef>* list = postings_.Get(name_id, *value_id)) add(*list);
    }
  } else {
    for (const auto& [value_id, list] : *postings_.Values(name_id)) {
      if (matcher.Matches(symbols_.Get(value_id))) add(list);
    }
  }
  if (lists > 1) std::sort(out.begin(), out.end());
  return out;
}

void Store::FilterLocked(std::vector<SeriesRef>& candidates, const model::Matcher& matcher) const {
  const std::optional<uint32_t> name_id = symbols_.Find(matcher.name());
  std::unordered_map<uint32_t, bool> memo;  // value id -> matches
  std::erase_if(candidates, [&](SeriesRef ref) {
    const uint32_t value_id = name_id ? series_.at(ref)->ValueId(*name_id) : kAbsent;
    auto [it, inserted] = memo.try_emplace(value_id, false);
    if (inserted) {
      it->second =
          matcher.Matches(value_id == kAbsent ? std::string_view() : symbols_.Get(value_id));
    }
    return !it->second;
  });
}

std::vector<Store::SeriesRef> Store::PostingsForMatchersLocked(
    std::span<const model::Matcher> matchers) const {
  // Matchers that reject "" need the label: they narrow the candidates through
  // the postings. Matchers that accept "" also select series lacking the label,
  // so they can only filter candidates found otherwise (or all series).
  std::vector<const model::Matcher*> narrowing;
  std::vector<const model::Matcher*> filtering;
  for (const model::Matcher& matcher : matchers) {
    (matcher.MatchesEmpty() ? filtering : narrowing).push_back(&matcher);
  }
  // Equality first: one hash lookup each, and the smallest lists.
  std::stable_sort(narrowing.begin(), narrowing.end(), [](const auto* a, const auto* b) {
    return (a->type() == model::MatchType::kEqual) > (b->type() == model::MatchType::kEqual);
  });
  std::optional<std::vector<SeriesRef>> candidates;
  for (const model::Matcher* matcher : narrowing) {
    const std::optional<uint32_t> name_id = symbols_.Find(matcher->name());
    if (!name_id) return {};
    const detail::PostingsIndex::ValueMap* values = postings_.Values(*name_id);
    if (values == nullptr) return {};
    if (candidates && matcher->type() != model::MatchType::kEqual &&
        candidates->size() < values->size()) {
      // Fewer candidates than values: test each candidate's value instead of
      // running the matcher over every value of the label.
      FilterLocked(*candidates, *matcher);
    } else {
      std::vector<SeriesRef> list = PostingsForMatcherLocked(*matcher, *name_id);
      if (candidates) {
        std::vector<SeriesRef> both;
        std::set_intersection(candidates->begin(), candidates->end(), list.begin(), list.end(),
                              std::back_inserter(both));
        *candidates = std::move(both);
      } else {
        candidates = std::move(list);
      }
    }
    if (candidates->empty()) return {};
  }
  std::vector<SeriesRef> out = candidates ? std::move(*candidates) : postings_.all();
  for (const model::Matcher* matcher : filtering) FilterLocked(out, *matcher);
  return out;
}

bool Store::LabelsLessLocked(const MemSeries& a, const MemSeries& b) const {
  // Flattened name, value, name, value... comparison equals Labels' pairwise
  // lexicographic order. Equal ids are equal strings, and distinct ids are
  // distinct strings, so only the first differing id needs a string compare.
  const size_t n = std::min(a.label_ids.size(), b.label_ids.size());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t x = a.label_ids[i];
    const uint32_t y = b.label_ids[i];
    if (x != y) return symbols_.Get(x) < symbols_.Get(y);
  }
  return a.label_ids.size() < b.label_ids.size();
}

bool Store::SortByRanksLocked(std::vector<const MemSeries*>& ordered) const {
  struct Key {
    uint64_t head;  // see below
    size_t begin;   // the series' label ranks are ranks[begin, end)
    size_t end;
    const MemSeries* series;
  };
  std::vector<uint32_t> ranks;
  std::vector<Key> keys;
  keys.reserve(ordered.size());
  {
    std::lock_guard ranks_lock(ranks_mu_);
    if (symbols_.unranked_count() > kMaxUnrankedPerSeries * ordered.size()) return false;
    symbols_.UpdateRanks();
    for (const MemSeries* series : ordered) {
      const size_t begin = ranks.size();
      for (uint32_t id : series->label_ids) ranks.push_back(symbols_.Rank(id));
      keys.push_back(Key{0, begin, ranks.size(), series});
    }
  }
  if (keys.empty()) return true;
  // Ranks follow the strings' order, so comparing the flattened name, value...
  // ranks lexicographically gives model::Labels' order. Past the prefix all
  // series share (often the metric name), the next two ranks plus one (0 for
  // none, sorting first as a shorter label set does) packed into `head`
  // decide most comparisons with one integer compare.
  size_t shared = keys[0].end - keys[0].begin;
  for (const Key& key : keys) {
    const size_t len = std::min(shared, key.end - key.begin);
    size_t n = 0;
    while (n < len && ranks[key.begin + n] == ranks[keys[0].begin + n]) ++n;
    shared = n;
  }
  auto rank_at = [&ranks](const Key& key, size_t i) -> uint64_t {
    return key.begin + i < key.end ? uint64_t{ranks[key.begin + i]} + 1 : 0;
  };
  for (Key& key : keys) key.head = rank_at(key, shared) << 32 | rank_at(key, shared + 1);
  const size_t skip = shared + 2;
  std::sort(keys.begin(), keys.end(), [&ranks, skip](const Key& a, const Key& b) {
    if (a.head != b.head) return a.head < b.head;
    // Equal heads: both have the same length up to `skip`.
    return std::lexicographical_compare(
        ranks.begin() + std::min(a.begin + skip, a.end), ranks.begin() + a.end,
        ranks.begin() + std::min(b.begin + skip, b.end), ranks.begin() + b.end);
  });
  for (size_t i = 0; i < keys.size(); ++i) ordered[i] = keys[i].series;
  return true;
}

std::vector<model::Series> Store::Select(std::span<const model::Matcher> matchers, int64_t mint,
                                         int64_t maxt) const {
  std::vector<model::Series> out;
  if (mint > maxt) return out;
  std::shared_lock index_lock(index_mu_);
  const std::vector<SeriesRef> refs = PostingsForMatchersLocked(matchers);
  std::vector<const MemSeries*> ordered;
  ordered.reserve(refs.size());
  for (SeriesRef ref : refs) ordered.push_back(series_.at(ref).get());
  if (ordered.size() < kRankedSortMin || !SortByRanksLocked(ordered)) {
    std::sort(ordered.begin(), ordered.end(),
              [this](const MemSeries* a, const MemSeries* b) { return LabelsLessLocked(*a, *b); });
  }
  out.reserve(ordered.size());
  // Decoded here first, then copied into a vector of the exact size: one
  // allocation per series.
  std::vector<model::Sample> scratch;
  for (const MemSeries* series : ordered) {
    scratch.clear();
    {
      std::lock_guard series_lock(StripeFor(series->ref));
      for (const XorChunk& chunk : series->chunks) {
        if (chunk.max_t() < mint) continue;
        if (chunk.min_t() > maxt) break;
        XorChunk::Iterator it = chunk.Iter();
        while (it.Next()) {
          if (it.t() < mint) continue;
          if (it.t() > maxt) break;
          scratch.push_back(model::Sample{it.t(), it.v()});
        }
      }
    }
    if (scratch.empty()) continue;
    out.push_back(model::Series{LabelsOfLocked(*series),
                                std::vector<model::Sample>(scratch.begin(), scratch.end())});
  }
  return out;
}

Store::CompactStats Store::Compact(int64_t now_ms) {
  const int64_t retention = retention_ms_.load(std::memory_order_relaxed);
  const int64_t cutoff = now_ms < std::numeric_limits<int64_t>::min() + retention
                             ? std::numeric_limits<int64_t>::min()
                             : now_ms - retention;
  CompactStats stats;
  std::vector<SeriesRef> emptied;
  {
    std::shared_lock index_lock(index_mu_);
    for (const auto& [ref, series] : series_) {
      std::lock_guard series_lock(StripeFor(ref));
      auto& chunks = series->chunks;
      // Chunks are in time order: the expired ones form a prefix.
      auto keep = std::find_if(chunks.begin(), chunks.end(),
                               [cutoff](const XorChunk& c) { return c.max_t() >= cutoff; });
      if (keep == chunks.begin()) continue;
      const size_t bytes_before = series->SampleBytes();
      size_t dropped = 0;
      for (auto it = chunks.begin(); it != keep; ++it) dropped += it->num_samples();
      chunks.erase(chunks.begin(), keep);
      sample_bytes_.fetch_sub(bytes_before - series->SampleBytes(), std::memory_order_relaxed);
      samples_.fetch_sub(dropped, std::memory_order_relaxed);
      stats.samples_dropped += dropped;
      if (chunks.empty()) emptied.push_back(ref);
    }
    std::lock_guard ranks_lock(ranks_mu_);
    symbols_.UpdateRanks();
  }
  if (emptied.empty()) return stats;

  std::unique_lock index_lock(index_mu_);
  std::vector<std::unique_ptr<MemSeries>> removed;
  for (SeriesRef ref : emptied) {
    auto it = series_.find(ref);
    // An append may have refilled the series between the two lock sections.
    if (it == series_.end() || !it->second->chunks.empty()) continue;
    MemSeries& series = *it->second;
    postings_.Remove(ref, series.label_ids);
    auto [begin, end] = by_hash_.equal_range(series.hash);
    for (auto h = begin; h != end; ++h) {
      if (h->second == ref) {
        by_hash_.erase(h);
        break;
      }
    }
    removed.push_back(std::move(it->second));
    series_.erase(it);
  }
  // Postings refer to symbol ids: drop them before the ids can be freed.
  postings_.Commit();
  for (const auto& series : removed) {
    for (uint32_t id : series->label_ids) symbols_.Release(id);
    sample_bytes_.fetch_sub(series->SampleBytes(), std::memory_order_relaxed);
    series_bytes_ -= SeriesRecordBytes(*series);
  }
  stats.series_removed = removed.size();
  return stats;
}

std::vector<std::string> Store::LabelNames() const {
  std::vector<std::string> out;
  {
    std::shared_lock index_lock(index_mu_);
    out.reserve(postings_.names().size());
    for (const auto& [name_id, values] : postings_.names()) {
      out.emplace_back(symbols_.Get(name_id));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Store::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  {
    std::shared_lock index_lock(index_mu_);
    const std::optional<uint32_t> name_id = symbols_.Find(name);
    if (!name_id) return out;
    const detail::PostingsIndex::ValueMap* values = postings_.Values(*name_id);
    if (values == nullptr) return out;
    out.reserve(values->size());
    for (const auto& [value_id, list] : *values) out.emplace_back(symbols_.Get(value_id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t Store::IndexBytesLocked() const {
  return series_bytes_ + detail::BucketBytes(series_.bucket_count()) +
         detail::BucketBytes(by_hash_.bucket_count()) + symbols_.MemoryBytes() +
         postings_.MemoryBytes();
}

Store::Stats Store::GetStats() const {
  Stats stats;
  {
    std::shared_lock index_lock(index_mu_);
    std::lock_guard ranks_lock(ranks_mu_);  // the symbols' rank arrays are counted
    stats.series = series_.size();
    stats.memory_bytes = IndexBytesLocked();
  }
  stats.sample_bytes = sample_bytes_.load(std::memory_order_relaxed);
  stats.memory_bytes += sizeof(Store) + stats.sample_bytes;
  stats.samples = samples_.load();
  stats.appended_total = appended_total_.load();
  stats.out_of_order_total = out_of_order_total_.load(std::memory_order_relaxed);
  stats.duplicate_total = duplicate_total_.load(std::memory_order_relaxed);
  stats.series_limit_total = series_limit_total_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace vigil::store
