#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/model/storage.h"
#include "daemon/store/detail/postings.h"
#include "daemon/store/detail/symbol_table.h"
#include "daemon/store/detail/xor_chunk.h"
#include "daemon/util/duration.h"
#include "daemon/util/result.h"

namespace vigil::store {

// The shortest retention the store accepts: PromQL's 5m lookback plus one
// minute of slack for late rule evaluations and the compaction period.
inline constexpr util::Duration kMinRetention = std::chrono::minutes(6);

struct StoreOptions {
  // How long samples are kept, measured back from the `now_ms` given to
  // Compact(). Raised to kMinRetention when lower. Default 15m.
  util::Duration retention{std::chrono::minutes(15)};
  // Most series held at once; 0 = unlimited. Beyond it, appends that would
  // create a new series fail ("series limit of N reached") and are counted in
  // Stats::series_limit_total; existing series still accept samples.
  size_t max_series = 0;
};

// Store is the in-memory time-series database: series identified by their
// label sets (strings interned), an inverted index from label pairs to series
// for matcher lookup, and per series Gorilla-compressed chunks of samples,
// dropped whole once older than the retention. See daemon/store/README.md.
//
// Thread-safe. A shared_mutex guards the index (symbols, postings, the series
// map): Append and Select/SelectEach take it shared, creating a series or
// removing empty ones in Compact takes it exclusive. A series' samples (and
// the stripe's sample counters, which GetStats sums) are guarded by one of 256
// striped mutexes, held briefly by Append (to add a sample; AppendRefs takes
// index_mu_ once for a run of samples and each sample's stripe in turn) and
// by Select/SelectEach (to decode one series' window), so every
// returned series is a consistent snapshot and appends to different series
// run in parallel. SelectEach calls its visitor with the index lock held
// shared and no stripe held. A large Select
// and Compact also take ranks_mu_ (after index_mu_, with no stripe held) to
// refresh the symbols' lexical ranks that large Selects sort by; GetStats
// takes it to count them, then each stripe in turn (nothing else held) to sum
// the counters.
//
// Errors: Append fails on an empty label set, an out-of-order or duplicate
// sample, or the series limit; the message says which. Nothing else fails.
class Store final : public model::Appender, public model::Querier {
 public:
  explicit Store(StoreOptions options = {});
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Adds one sample. Errors: "empty label set"; "out of order sample" (t older
  // than the series' newest); "duplicate sample for timestamp" (same t, other
  // value bits); "series limit of N reached". The same t with the same value
  // bits is accepted and ignored. Stale markers are stored like any value.
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override;
  // Append by the ref a previous call returned: one hash-map lookup of the
  // ref instead of hashing and comparing the labels. Refs are never reused,
  // so a ref whose series was removed finds nothing and the labels are used.
  util::Result<model::SeriesRef> AppendRef(model::SeriesRef ref, const model::Labels& labels,
                                           int64_t t, double v) override;
  // AppendRef for each sample in order, errors as AppendRef's (see
  // model::Appender::AppendRefs). Takes index_mu_ shared once for the run of
  // samples with known refs; those are looked up a block at a time, and the
  // series record and head chunk of the samples ahead are prefetched while a
  // sample is appended under its stripe. A sample whose ref is 0 or unknown
  // takes the labels path, as AppendRef; both share the same helpers.
  std::vector<model::RejectedSample> AppendRefs(std::span<model::RefSample> samples) override;

  // See model::Querier: series matching all matchers (a missing label reads
  // as ""), with their samples in [mint, maxt] including stale markers,
  // ascending by labels; series without a sample in the window are omitted.
  // With no matcher, or only matchers that match "", every series is scanned.
  std::vector<model::Series> Select(std::span<const model::Matcher> matchers, int64_t mint,
                                    int64_t maxt) const override;
  // Select's series one at a time (see model::Querier::SelectEach), decoded
  // into one reused buffer. The visitor runs with index_mu_ held shared (no
  // stripe held): it must not call into the store.
  void SelectEach(std::span<const model::Matcher> matchers, int64_t mint, int64_t maxt,
                  model::SeriesVisitor& visitor) const override;

  // Sets the retention (raised to kMinRetention); takes effect at the next
  // Compact(). The ruler raises it to its longest range plus the lookback.
  void SetRetention(util::Duration retention);
  util::Duration retention() const;

  struct CompactStats {
    size_t samples_dropped = 0;
    size_t series_removed = 0;
  };
  // Drops every chunk whose newest sample is older than now_ms - retention
  // (whole chunks: a sample may outlive the retention by at most one chunk's
  // span, which is capped at half the retention), then deletes series
  // left without samples, with their postings and unreferenced symbols.
  // Also ranks the symbols interned since the last call in lexical order, for
  // large Selects (O(k log n + n) for k new symbols among n).
  // Called periodically by the app.
  CompactStats Compact(int64_t now_ms);

  // Sorted label names, and sorted values of one name, over all series held.
  std::vector<std::string> LabelNames() const;
  std::vector<std::string> LabelValues(std::string_view name) const;

  struct Stats {
    size_t series = 0;
    size_t samples = 0;
    // Estimated bytes held: encoded samples and chunk headers, series
    // records and their label ids, symbols, postings and hash tables,
    // counted as glibc's malloc charges them.
    size_t memory_bytes = 0;
    // The part of memory_bytes held by sample chunks (headers and encoded
    // streams); the rest is the index (series records, symbols, postings).
    size_t sample_bytes = 0;
    uint64_t appended_total = 0;
    uint64_t out_of_order_total = 0;
    uint64_t duplicate_total = 0;
    uint64_t series_limit_total = 0;
  };
  Stats GetStats() const;

 private:
  struct MemSeries;
  using SeriesRef = detail::SeriesRef;
  // A stripe's mutex guards its series' samples and the stripe's counters of
  // them, which GetStats sums: plain adds under a lock the append holds anyway.
  struct alignas(64) Stripe {
    std::mutex mu;
    uint64_t appended = 0;    // samples accepted
    size_t samples = 0;       // samples held
    size_t sample_bytes = 0;  // chunk headers and encoded streams
  };
  static constexpr size_t kStripes = 256;

  Stripe& StripeFor(SeriesRef ref) const { return stripes_[ref % kStripes]; }
  // Index lookups; the caller holds index_mu_ (shared or exclusive).
  MemSeries* FindSeriesLocked(const model::Labels& labels, uint64_t hash) const;
  bool SameLabelsLocked(const MemSeries& series, const model::Labels& labels) const;
  // Whether a's label set sorts before b's (model::Labels order).
  bool LabelsLessLocked(const MemSeries& a, const MemSeries& b) const;
  // A series selected by SelectEach and its label ids, [ids_begin, ids_end)
  // of the selection's id buffer.
  struct Selected {
    const MemSeries* series = nullptr;
    size_t ids_begin = 0;
    size_t ids_end = 0;
  };
  // Sorts like LabelsLessLocked, comparing the symbols' lexical ranks (updated
  // first, under ranks_mu_); false, leaving `selected` as is, when too many
  // symbols are unranked. `ids` is the id buffer `selected` refers to. The
  // caller holds index_mu_ (shared suffices).
  bool SortByRanksLocked(std::vector<Selected>& selected, std::span<const uint32_t> ids) const;
  std::vector<SeriesRef> PostingsForMatchersLocked(std::span<const model::Matcher> matchers) const;
  std::vector<SeriesRef> PostingsForMatcherLocked(const model::Matcher& matcher,
                                                  uint32_t name_id) const;
  // Keeps the candidates whose value for `matcher`'s label satisfies it.
  void FilterLocked(std::vector<SeriesRef>& candidates, const model::Matcher& matcher) const;
  MemSeries* CreateSeriesLocked(const model::Labels& labels, uint64_t hash);
  void RemoveSeriesLocked(SeriesRef ref);
  // Adds a sample to a series, counted in `stripe`, the series' stripe; the
  // caller holds index_mu_ and stripe.mu.
  util::Result<void> AppendToSeries(MemSeries& series, Stripe& stripe, int64_t t, double v);
  // AppendToSeries under the series' stripe; returns the series' ref. The
  // caller holds index_mu_.
  util::Result<model::SeriesRef> AppendLocked(MemSeries& series, int64_t t, double v);
  // Appends samples[begin...] in order while their refs are known, adding
  // the rejected ones to `rejected`; returns the index of the first sample
  // whose ref is unknown (samples.size() when none). The caller holds
  // index_mu_ shared.
  size_t AppendKnownRefsLocked(std::span<model::RefSample> samples, size_t begin,
                               std::vector<model::RejectedSample>& rejected);
  // The labels path of AppendRef: finds the series by its labels, creating it
  // (index_mu_ exclusive) when it is new. Takes index_mu_ itself.
  util::Result<model::SeriesRef> AppendByLabels(const model::Labels& labels, int64_t t, double v);
  // The caller holds index_mu_ exclusive, or shared together with ranks_mu_.
  size_t IndexBytesLocked() const;
  // Bytes of a series record, its label ids and its two hash-map nodes.
  static size_t SeriesRecordBytes(const MemSeries& series);

  const size_t max_series_;
  std::atomic<int64_t> retention_ms_;

  mutable std::shared_mutex index_mu_;
  // Guarded by index_mu_; its lexical ranks (UpdateRanks, Rank) by index_mu_
  // exclusive, or shared together with ranks_mu_.
  mutable detail::SymbolTable symbols_;
  mutable std::mutex ranks_mu_;
  detail::PostingsIndex postings_;                                    // guarded by index_mu_
  std::unordered_map<SeriesRef, std::unique_ptr<MemSeries>> series_;  // guarded by index_mu_
  std::unordered_multimap<uint64_t, SeriesRef> by_hash_;              // guarded by index_mu_
  SeriesRef next_ref_ = 1;                                            // guarded by index_mu_
  size_t series_bytes_ = 0;  // series records and label ids; guarded by index_mu_

  mutable std::array<Stripe, kStripes> stripes_;
  std::atomic<uint64_t> out_of_order_total_{0};
  std::atomic<uint64_t> duplicate_total_{0};
  std::atomic<uint64_t> series_limit_total_{0};
};

}  // namespace vigil::store
