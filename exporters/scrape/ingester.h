#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/relabel.h"
#include "daemon/model/storage.h"
#include "daemon/util/result.h"
#include "exporters/scrape/parser.h"

namespace vigil::scrape {

// How one target's samples become series.
struct IngesterOptions {
  // The target's labels (job, instance, ...), added to every series. Default: none.
  model::Labels target_labels;
  // false (default): a target label wins over an exposed label of the same name,
  // which is kept as "exported_<name>". true: the exposed label wins.
  bool honor_labels = false;
  // true (default): a sample's own timestamp is used; false: the scrape's.
  bool honor_timestamps = true;
  // Most samples one scrape may append, counted after metric relabeling
  // (dropped samples and skipped duplicates do not count); 0 (default) means
  // no limit.
  size_t sample_limit = 0;
  // Applied, in order, to each series' full label set (`__name__`, exposed and
  // target labels) as Prometheus's metric_relabel_configs. Each must come from
  // model::MakeRelabelConfig. Default: none.
  std::vector<model::RelabelConfig> metric_relabel_configs;
  // Most labels (`__name__` included) one series may have after relabeling;
  // 0 (default) means no limit.
  uint64_t label_limit = 0;
};

// What one successful Ingest did.
struct IngestReport {
  size_t samples_scraped = 0;           // sample lines in the body
  size_t samples_post_relabel = 0;      // samples metric relabeling kept, duplicates included
  size_t samples_appended = 0;          // accepted by the appender
  size_t series_added = 0;              // label sets built and kept this scrape (cache misses)
  size_t duplicates = 0;                // repeated series in the body, skipped
  size_t stale_markers = 0;             // stale markers written for vanished series
  size_t append_errors = 0;             // samples the appender rejected (out of order, ...)
  std::string first_append_error = {};  // the first of those errors, "" when none
  friend bool operator==(const IngestReport&, const IngestReport&) = default;
};

// Ingester turns one target's scrape bodies into appends, as Prometheus's
// scrape loop does. It caches, per raw series text (`name{labels}` as
// exposed), the label set built from it with the target labels and then
// metric_relabel_configs applied, or the fact that relabeling dropped it (a
// keep/drop step, or an empty result), so a steady-state scrape builds and
// relabels no label set and allocates nothing per sample.
// Each series keeps the model::SeriesRef the appender handed out, so a
// steady-state scrape (and its stale markers) appends by ref and the appender
// looks up no label set; a scrape's samples go to the appender in one batch
// (model::Appender::AppendRefs).
// Bodies usually list their series in the same order every scrape, so the
// cache first tries the entry after the previous sample's, comparing the raw
// text, before it hashes the text and probes the table. A text found in the
// cache (parsed before in the same format) has its labels neither parsed nor
// checked again (SampleSink::KnownSeries).
// It remembers which series the last successful scrape wrote and appends a
// stale marker (model::StaleNaN()) at the new scrape's time for each series
// that vanished. Samples carrying their own timestamp take no part in
// staleness, as in Prometheus.
//
// A scrape is all-or-nothing: a malformed body (the parser's "line N: ..."
// error), more than sample_limit samples after relabeling ("sample limit
// exceeded"), a relabeled series with more than label_limit labels
// ("label_limit exceeded (metric: <name>, number of labels: N, limit: M)"),
// without `__name__` ("missing metric name (__name__ label)") or with a
// metric or label name that is not a legacy Prometheus name ("invalid metric
// name or label names: <series>") returns an error and appends nothing. The
// caller then reports the failed scrape with MarkAllStale, as it does when the
// fetch itself failed, so that every series of the previous scrape ends at
// that time (Prometheus does the same).
// A sample the appender rejects is counted in the report, not fatal. A series
// repeated within one body is appended once (the first), the rest counted.
//
// One Ingester per target; loop thread only (not thread-safe).
class Ingester {
 public:
  explicit Ingester(IngesterOptions options);

  util::Result<IngestReport> Ingest(std::string_view body, Format format, int64_t timestamp_ms,
                                    model::Appender& appender);

  // Ends every series the last successful scrape wrote at scrape time with a
  // stale marker at `timestamp_ms`; returns how many the appender accepted.
  // A second call before the next successful Ingest writes nothing.
  size_t MarkAllStale(int64_t timestamp_ms, model::Appender& appender);

  // Label sets currently cached (series of the last scrapes).
  size_t cached_series() const { return series_.size(); }
  // Raw series texts currently cached, those relabeling dropped included.
  size_t cached_texts() const { return entries_.size(); }

 private:
  struct LabelsHash {
    size_t operator()(const model::Labels& labels) const { return labels.Hash(); }
  };
  // Scrape numbers start at 1; 0 means "never".
  struct SeriesState {
    uint64_t seen_in = 0;      // scrape that last saw this series
    uint64_t tracked_in = 0;   // scrape that last wrote it at the scrape's own time
    model::SeriesRef ref = 0;  // the appender's ref for it; 0 until one is handed out
  };
  // Node-based: pointers to entries stay valid until the entry is erased.
  using SeriesMap = std::unordered_map<model::Labels, SeriesState, LabelsHash>;
  using SeriesPtr = SeriesMap::value_type*;

  // The raw-text cache is an open-addressing table (linear probing, at most
  // half full) over a dense entry array: a steady-state lookup touches one
  // slot, one entry and its key instead of a chain of heap nodes. The keys
  // lie end to end in keys_, in entry order, so a scrape in the usual order
  // reads entries and keys front to back.
  struct CacheEntry {
    size_t key_offset = 0;  // raw series text: keys_[key_offset, key_offset + key_size)
    size_t key_size = 0;
    uint64_t hash = 0;
    SeriesPtr series = nullptr;               // nullptr: metric relabeling drops this text
    uint64_t used_in = 0;                     // scrape that last used this entry
    Format format = Format::kPrometheusText;  // format the text was last parsed in
  };
  // The lookup KnownSeries did for the text at `data`, reused by Add for the
  // same sample.
  struct LastLookUp {
    const char* data = nullptr;  // nullptr: none pending
    size_t size = 0;
    CacheEntry* entry = nullptr;
    uint64_t hash = 0;
    size_t slot = 0;
  };
  struct Slot {
    uint32_t tag = 0;    // high half of the key's hash
    uint32_t index = 0;  // entries_ index + 1; 0 marks an empty slot
  };
  // A sample of the current scrape, to be appended as batch_ at the same index.
  struct Pending {
    SeriesPtr series;
    model::SeriesRef ref;          // series->second.ref when added
    uint64_t previous_tracked_in;  // restored if the scrape fails
    bool tracked;                  // written at the scrape's time: subject to staleness
  };
  class Sink;

  util::Result<void> Add(const ParsedSample& sample, int64_t timestamp_ms, IngestReport& report);
  // Whether `series` is cached from a parse in the current format.
  bool KnownSeries(std::string_view series);
  // The cache entry for a raw text (the predicted next one, else a table
  // lookup), or nullptr; on nullptr `hash` and `slot` tell InsertEntry where
  // it goes.
  CacheEntry* LookUp(std::string_view key, uint64_t& hash, size_t& slot);
  // The series for a raw text not in the cache: target labels, then metric
  // relabeling, then the label checks. nullptr when relabeling dropped it.
  util::Result<SeriesPtr> BuildSeries(const ParsedSample& sample);
  // The cache entry for `key`, or nullptr; `slot` receives where it is or would go.
  CacheEntry* FindEntry(std::string_view key, uint64_t hash, size_t& slot);
  void InsertEntry(std::string_view key, uint64_t hash, SeriesPtr series, size_t slot);
  std::string_view KeyOf(const CacheEntry& entry) const {
    return std::string_view(keys_).substr(entry.key_offset, entry.key_size);
  }
  void RebuildSlots(size_t capacity);
  // Undoes what a failed scrape changed: staleness bookkeeping, and the cache
  // entries and series it created (so failing scrapes cannot grow the cache).
  void RollBack(size_t entries_before);
  // After a successful scrape: stale markers for vanished series, then drops
  // cache entries and series this scrape did not use.
  void Sweep(int64_t timestamp_ms, bool vanished, model::Appender& appender, IngestReport& report);

  IngesterOptions options_;
  Parser parser_;
  Format format_ = Format::kPrometheusText;  // of the current scrape
  LastLookUp last_lookup_;
  uint64_t scrape_number_ = 0;
  uint64_t last_success_ = 0;  // 0 before any success and after MarkAllStale
  size_t last_tracked_ = 0;    // series tracked by last_success_
  // Per scrape: distinct entries used, distinct series seen, series tracked,
  // and how many of those last_success_ had tracked too.
  size_t entries_used_ = 0;
  size_t series_seen_ = 0;
  size_t tracked_ = 0;
  size_t carried_ = 0;
  SeriesMap series_;
  std::vector<CacheEntry> entries_;
  std::string keys_;         // the entries' keys, end to end
  std::vector<Slot> slots_;  // size a power of two, or empty
  size_t next_entry_ = 0;    // entries_ index predicted for the next sample
  std::vector<Pending> pending_;
  std::vector<model::RefSample> batch_;  // pending_'s samples, for Appender::AppendRefs
  std::vector<SeriesPtr> created_;       // series created by the current scrape
};

}  // namespace vigil::scrape
