#include "daemon/store/store.h"

#include <algorithm>
#include <array>
#include <atomic>
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

// A selected series' sort key in SortByRanksLocked: its head (two ranks) and
// its index in the selection.
struct HeadEntry {
  uint64_t head;
  size_t index;
};

// Stable LSD radix sort by head, one byte per pass; a pass is skipped when
// every head has the same byte there (the high bytes of small ranks).
void RadixSortByHead(std::vector<HeadEntry>& entries) {
  if (entries.size() < 2) return;
  std::array<std::array<size_t, 256>, 8> counts{};
  for (const HeadEntry& e : entries) {
    for (size_t b = 0; b < 8; ++b) ++counts[b][(e.head >> (8 * b)) & 0xff];
  }
  std::vector<HeadEntry> scratch(entries.size());
  for (size_t b = 0; b < 8; ++b) {
    std::array<size_t, 256>& offsets = counts[b];
    if (offsets[(entries[0].head >> (8 * b)) & 0xff] == entries.size()) continue;
    size_t sum = 0;
    for (size_t& n : offsets) sum += std::exchange(n, sum);
    for (const HeadEntry& e : entries) scratch[offsets[(e.head >> (8 * b)) & 0xff]++] = e;
    entries.swap(scratch);
  }
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
  // Where the next append will likely write: the head chunk and the last
  // byte of its stream. Stored by every append (under the stripe) and read
  // without the stripe only to prefetch them: they may be stale, so they are
  // never dereferenced.
  std::atomic<const void*> head_hint{nullptr};
  std::atomic<const void*> stream_hint{nullptr};

  // Prefetches the record itself (it spans two cache lines).
  void PrefetchRecord() const { PrefetchSpan(this, sizeof(MemSeries)); }
  // Prefetches what the next append will likely touch.
  void PrefetchHead() const {
    PrefetchSpan(head_hint.load(std::memory_order_relaxed), sizeof(XorChunk));
    __builtin_prefetch(stream_hint.load(std::memory_order_relaxed));
  }
  // The first and the last byte of [p, p + size): both cache lines of an
  // object of up to 64 bytes that may straddle a line boundary. Integer
  // arithmetic: p may be null or stale.
  static void PrefetchSpan(const void* p, size_t size) {
    __builtin_prefetch(p);
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + size - 1));
  }

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

util::Result<void> Store::AppendToSeries(MemSeries& series, Stripe& stripe, int64_t t, double v) {
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
  // Only the chunk vector and the chunks touched here change size, so their
  // heap bytes before and after give the change of series.SampleBytes()
  // without walking every chunk, and most appends change nothing.
  std::vector<XorChunk>& chunks = series.chunks;
  size_t bytes_before = HeapBytes(chunks.capacity() * sizeof(XorChunk));
  size_t bytes_after = 0;
  // A chunk spans at most half the retention, so whole-chunk dropping keeps a
  // sample at most 1.5 x retention, while slow series still fill their chunks
  // enough to amortise the chunk header.
  const auto max_span = static_cast<uint64_t>(retention_ms_.load(std::memory_order_relaxed) / 2);
  if (chunks.empty() || chunks.back().num_samples() >= kChunkSamples ||
      static_cast<uint64_t>(t) - static_cast<uint64_t>(chunks.back().min_t()) >= max_span) {
    if (!chunks.empty()) {
      bytes_before += HeapBytes(chunks.back().capacity_bytes());
      chunks.back().Seal();
      bytes_after += HeapBytes(chunks.back().capacity_bytes());
    }
    chunks.emplace_back();  // the new head held no bytes before
  } else {
    bytes_before += HeapBytes(chunks.back().capacity_bytes());
  }
  XorChunk& head = chunks.back();
  head.Append(t, v);
  series.max_t = t;
  series.last_bits = bits;
  series.has_samples = true;
  series.head_hint.store(&head, std::memory_order_relaxed);
  series.stream_hint.store(&head.bytes().back(), std::memory_order_relaxed);
  bytes_after += HeapBytes(chunks.capacity() * sizeof(XorChunk)) +
                 HeapBytes(chunks.back().capacity_bytes());
  stripe.sample_bytes += bytes_after - bytes_before;  // modulo 2^64: may shrink
  ++stripe.appended;
  ++stripe.samples;
  return {};
}

util::Result<model::SeriesRef> Store::AppendLocked(MemSeries& series, int64_t t, double v) {
  Stripe& stripe = StripeFor(series.ref);
  std::lock_guard series_lock(stripe.mu);
  if (auto ok = AppendToSeries(series, stripe, t, v); !ok) {
    return tl::unexpected(std::move(ok.error()));
  }
  return series.ref;
}

util::Result<void> Store::Append(const model::Labels& labels, int64_t t, double v) {
  if (auto ref = AppendRef(0, labels, t, v); !ref) return tl::unexpected(std::move(ref.error()));
  return {};
}

util::Result<model::SeriesRef> Store::AppendRef(model::SeriesRef ref, const model::Labels& labels,
                                                int64_t t, double v) {
  // A known ref needs nothing of the labels (not even a look at them: the
  // caller's copy may be cold in cache).
  if (ref != 0) {
    std::shared_lock index_lock(index_mu_);
    if (auto it = series_.find(ref); it != series_.end()) return AppendLocked(*it->second, t, v);
  }
  return AppendByLabels(labels, t, v);
}

std::vector<model::RejectedSample> Store::AppendRefs(std::span<model::RefSample> samples) {
  std::vector<model::RejectedSample> rejected;
  size_t i = 0;
  while (i < samples.size()) {
    if (samples[i].ref != 0) {
      std::shared_lock index_lock(index_mu_);
      i = AppendKnownRefsLocked(samples, i, rejected);
      if (i == samples.size()) break;
    }
    // Ref 0 or unknown: the labels path, as AppendRef.
    model::RefSample& sample = samples[i];
    if (auto ref = AppendByLabels(*sample.labels, sample.t, sample.v)) {
      sample.ref = *ref;
    } else {
      rejected.push_back(model::RejectedSample{i, std::move(ref.error())});
    }
    ++i;
  }
  return rejected;
}

size_t Store::AppendKnownRefsLocked(std::span<model::RefSample> samples, size_t begin,
                                    std::vector<model::RejectedSample>& rejected) {
  // Blocks of kBlock samples. First the block's refs are looked up (hash-map
  // probes with no locked instruction between them, so the CPU can overlap
  // their misses), each record found being prefetched. Then the block is appended in
  // order, prefetching the head chunk of the sample kPrefetch ahead (its
  // record has arrived by then), so each append finds its memory in cache.
  // A known ref needs nothing of the labels (not even a look at them: the
  // caller's copy may be cold in cache), and the ref it returns is its own.
  constexpr size_t kBlock = 256;
  constexpr size_t kPrefetch = 8;
  std::array<MemSeries*, kBlock> block;
  size_t i = begin;
  while (i < samples.size()) {
    size_t n = 0;
    for (; n < kBlock && i + n < samples.size(); ++n) {
      auto it = series_.find(samples[i + n].ref);
      if (it == series_.end()) break;
      block[n] = it->second.get();
      block[n]->PrefetchRecord();
    }
    for (size_t k = 0; k < std::min(n, kPrefetch); ++k) block[k]->PrefetchHead();
    for (size_t k = 0; k < n; ++k) {
      if (k + kPrefetch < n) block[k + kPrefetch]->PrefetchHead();
      const model::RefSample& sample = samples[i + k];
      if (auto ok = AppendLocked(*block[k], sample.t, sample.v); !ok) {
        rejected.push_back(model::RejectedSample{i + k, std::move(ok.error())});
      }
    }
    i += n;
    if (n < kBlock) break;  // the end, or an unknown ref
  }
  return i;
}

util::Result<model::SeriesRef> Store::AppendByLabels(const model::Labels& labels, int64_t t,
                                                     double v) {
  if (labels.empty()) return util::Fail("empty label set");
  const uint64_t hash = labels.Hash();
  {
    std::shared_lock index_lock(index_mu_);
    if (MemSeries* series = FindSeriesLocked(labels, hash)) return AppendLocked(*series, t, v);
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
  return AppendLocked(*series, t, v);
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

bool Store::SortByRanksLocked(std::vector<Selected>& selected,
                              std::span<const uint32_t> ids) const {
  if (selected.empty()) return true;
  std::vector<uint32_t> ranks(ids.size());  // ranks[k] is the rank of ids[k]
  {
    std::lock_guard ranks_lock(ranks_mu_);
    if (symbols_.unranked_count() > kMaxUnrankedPerSeries * selected.size()) return false;
    symbols_.UpdateRanks();
    for (size_t k = 0; k < ids.size(); ++k) ranks[k] = symbols_.Rank(ids[k]);
  }
  // Ranks follow the strings' order, so comparing the flattened name, value...
  // ranks lexicographically gives model::Labels' order. Past the prefix all
  // series share (often the metric name), the next two ranks plus one (0 for
  // none, sorting first as a shorter label set does) packed into a 64-bit
  // head order most series: a radix sort by head does the bulk of the work.
  const Selected& first = selected[0];
  size_t shared = first.ids_end - first.ids_begin;
  for (const Selected& one : selected) {
    const size_t len = std::min(shared, one.ids_end - one.ids_begin);
    size_t n = 0;
    while (n < len && ranks[one.ids_begin + n] == ranks[first.ids_begin + n]) ++n;
    shared = n;
  }
  auto rank_at = [&ranks](const Selected& one, size_t i) -> uint64_t {
    return one.ids_begin + i < one.ids_end ? uint64_t{ranks[one.ids_begin + i]} + 1 : 0;
  };
  std::vector<HeadEntry> heads(selected.size());
  for (size_t i = 0; i < selected.size(); ++i) {
    heads[i] = HeadEntry{rank_at(selected[i], shared) << 32 | rank_at(selected[i], shared + 1), i};
  }
  RadixSortByHead(heads);
  // Runs of equal heads (same length up to `skip`) are ordered by the rest.
  const size_t skip = shared + 2;
  auto rest_less = [&ranks, &selected, skip](const HeadEntry& x, const HeadEntry& y) {
    const Selected& a = selected[x.index];
    const Selected& b = selected[y.index];
    return std::lexicographical_compare(
        ranks.begin() + std::min(a.ids_begin + skip, a.ids_end), ranks.begin() + a.ids_end,
        ranks.begin() + std::min(b.ids_begin + skip, b.ids_end), ranks.begin() + b.ids_end);
  };
  for (size_t i = 0; i < heads.size();) {
    size_t j = i + 1;
    while (j < heads.size() && heads[j].head == heads[i].head) ++j;
    if (j - i > 1) std::sort(heads.begin() + i, heads.begin() + j, rest_less);
    i = j;
  }
  std::vector<Selected> sorted;
  sorted.reserve(selected.size());
  for (const HeadEntry& entry : heads) sorted.push_back(selected[entry.index]);
  selected = std::move(sorted);
  return true;
}

std::vector<model::Series> Store::Select(std::span<const model::Matcher> matchers, int64_t mint,
                                         int64_t maxt) const {
  class Collector final : public model::SeriesVisitor {
   public:
    bool Visit(const model::LabelsView& labels, std::span<const model::Sample> samples) override {
      out.push_back(model::Series{labels.ToLabels(), {samples.begin(), samples.end()}});
      return true;
    }
    std::vector<model::Series> out;
  };
  Collector collector;
  SelectEach(matchers, mint, maxt, collector);
  return std::move(collector.out);
}

void Store::SelectEach(std::span<const model::Matcher> matchers, int64_t mint, int64_t maxt,
                       model::SeriesVisitor& visitor) const {
  if (mint > maxt) return;
  std::shared_lock index_lock(index_mu_);
  // Selections are large and scattered in memory, so the loops below prefetch
  // what the iterations kPrefetch (and 2 * kPrefetch) ahead will read.
  constexpr size_t kPrefetch = 8;
  const std::vector<SeriesRef> refs = PostingsForMatchersLocked(matchers);
  std::vector<Selected> selected(refs.size());
  auto find = [&](size_t i) {
    selected[i].series = series_.at(refs[i]).get();
    __builtin_prefetch(selected[i].series);
  };
  for (size_t i = 0; i < std::min(refs.size(), 2 * kPrefetch); ++i) find(i);
  // The label ids are copied in ref order (about the order the series were
  // allocated in) into one array, which the sort and the label views read.
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i + 2 * kPrefetch < selected.size()) find(i + 2 * kPrefetch);
    if (i + kPrefetch < selected.size()) {
      __builtin_prefetch(selected[i + kPrefetch].series->label_ids.data());
    }
    const std::vector<uint32_t>& label_ids = selected[i].series->label_ids;
    selected[i].ids_begin = ids.size();
    ids.insert(ids.end(), label_ids.begin(), label_ids.end());
    selected[i].ids_end = ids.size();
  }
  if (selected.size() < kRankedSortMin || !SortByRanksLocked(selected, ids)) {
    std::sort(selected.begin(), selected.end(), [this](const Selected& a, const Selected& b) {
      return LabelsLessLocked(*a.series, *b.series);
    });
  }
  // Reused: one series' window and label views at a time. The views stay
  // valid while index_mu_ is held.
  std::vector<model::Sample> samples;
  std::vector<std::string_view> pairs;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i + kPrefetch < selected.size()) {
      const Selected& ahead = selected[i + kPrefetch];
      __builtin_prefetch(ahead.series);
      for (size_t k = ahead.ids_begin; k < ahead.ids_end; ++k) symbols_.Prefetch(ids[k]);
    }
    const MemSeries& series = *selected[i].series;
    samples.clear();
    {
      std::lock_guard series_lock(StripeFor(series.ref).mu);
      for (const XorChunk& chunk : series.chunks) {
        if (chunk.max_t() < mint) continue;
        if (chunk.min_t() > maxt) break;
        chunk.DecodeWindow(mint, maxt, samples);
      }
    }
    if (samples.empty()) continue;
    pairs.clear();
    for (size_t k = selected[i].ids_begin; k < selected[i].ids_end; ++k) {
      pairs.push_back(symbols_.Get(ids[k]));
    }
    if (!visitor.Visit(model::LabelsView(pairs), samples)) return;
  }
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
      Stripe& stripe = StripeFor(ref);
      std::lock_guard series_lock(stripe.mu);
      auto& chunks = series->chunks;
      // Chunks are in time order: the expired ones form a prefix.
      auto keep = std::find_if(chunks.begin(), chunks.end(),
                               [cutoff](const XorChunk& c) { return c.max_t() >= cutoff; });
      if (keep == chunks.begin()) continue;
      const size_t bytes_before = series->SampleBytes();
      size_t dropped = 0;
      for (auto it = chunks.begin(); it != keep; ++it) dropped += it->num_samples();
      chunks.erase(chunks.begin(), keep);
      stripe.sample_bytes -= bytes_before - series->SampleBytes();
      stripe.samples -= dropped;
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
    Stripe& stripe = StripeFor(series->ref);
    std::lock_guard series_lock(stripe.mu);
    stripe.sample_bytes -= series->SampleBytes();
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
  // Each stripe's counters are consistent under its mutex, and a stripe never
  // holds more samples than were appended to it: neither does the sum.
  for (Stripe& stripe : stripes_) {
    std::lock_guard series_lock(stripe.mu);
    stats.sample_bytes += stripe.sample_bytes;
    stats.samples += stripe.samples;
    stats.appended_total += stripe.appended;
  }
  stats.memory_bytes += sizeof(Store) + stats.sample_bytes;
  stats.out_of_order_total = out_of_order_total_.load(std::memory_order_relaxed);
  stats.duplicate_total = duplicate_total_.load(std::memory_order_relaxed);
  stats.series_limit_total = series_limit_total_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace vigil::store
