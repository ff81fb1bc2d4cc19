#include "exporters/scrape/ingester.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "daemon/model/sample.h"

namespace vigil::scrape {
namespace {

// A legacy Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Prometheus's checks on a series' final label set (scrape.go, after
// mutateSampleLabels), in its order and with its messages.
util::Result<void> CheckSeries(const model::Labels& labels, uint64_t label_limit) {
  if (!labels.Has(model::kMetricName)) return util::Fail("missing metric name (__name__ label)");
  const bool valid = IsValidMetricName(labels.MetricName()) &&
                     std::all_of(labels.begin(), labels.end(), [](const model::Label& label) {
                       return model::IsValidLabelName(label.name);
                     });
  if (!valid) return util::Fail("invalid metric name or label names: {}", labels.ToString());
  if (label_limit != 0 && labels.size() > label_limit) {
    // Go's %.50s; the name is ASCII here, so 50 bytes are 50 runes.
    return util::Fail("label_limit exceeded (metric: {}, number of labels: {}, limit: {})",
                      labels.MetricName().substr(0, 50), labels.size(), label_limit);
  }
  return {};
}

// Counts a sample the appender rejected, keeping the first error.
void CountAppendError(util::Error error, IngestReport& report) {
  if (report.append_errors++ == 0) report.first_append_error = std::move(error.message);
}

// Appends one sample by the series' ref, keeping the ref the appender returns;
// counts a rejection in the report. True when accepted.
bool AppendCounted(model::Appender& appender, const model::Labels& labels, model::SeriesRef& ref,
                   int64_t t, double v, IngestReport& report) {
  auto appended = appender.AppendRef(ref, labels, t, v);
  if (appended) {
    ref = *appended;
    return true;
  }
  CountAppendError(std::move(appended.error()), report);
  return false;
}

}  // namespace

// Routes parsed samples into the Ingester while one body is parsed.
class Ingester::Sink : public SampleSink {
 public:
  Sink(Ingester& ingester, int64_t timestamp_ms, IngestReport& report)
      : ingester_(ingester), timestamp_ms_(timestamp_ms), report_(report) {}
  util::Result<void> OnSample(const ParsedSample& sample) override {
    return ingester_.Add(sample, timestamp_ms_, report_);
  }
  bool KnownSeries(std::string_view series) override { return ingester_.KnownSeries(series); }

 private:
  Ingester& ingester_;
  int64_t timestamp_ms_;
  IngestReport& report_;
};

Ingester::Ingester(IngesterOptions options) : options_(std::move(options)) {}

util::Result<IngestReport> Ingester::Ingest(std::string_view body, Format format,
                                            int64_t timestamp_ms, model::Appender& appender) {
  ++scrape_number_;
  IngestReport report;
  pending_.clear();
  batch_.clear();
  created_.clear();
  const size_t entries_before = entries_.size();
  entries_used_ = 0;
  series_seen_ = 0;
  tracked_ = 0;
  carried_ = 0;
  next_entry_ = 0;
  format_ = format;
  last_lookup_ = LastLookUp{};
  Sink sink(*this, timestamp_ms, report);
  if (auto parsed = parser_.Parse(body, format, sink); !parsed) {
    RollBack(entries_before);
    return tl::unexpected(std::move(parsed.error()));
  }
  std::vector<model::RejectedSample> rejected = appender.AppendRefs(batch_);
  report.samples_appended = batch_.size() - rejected.size();
  for (model::RejectedSample& r : rejected) CountAppendError(std::move(r.error), report);
  for (size_t i = 0; i < batch_.size(); ++i) {
    // The series node (scattered on the heap, long out of cache) is written
    // only when the appender hands out a new ref (a rejected sample's ref is
    // left as it was).
    if (batch_[i].ref != pending_[i].ref) pending_[i].series->second.ref = batch_[i].ref;
  }
  pending_.clear();
  batch_.clear();

  const bool vanished = carried_ < last_tracked_;
  if (vanished || entries_used_ < entries_.size() || series_seen_ < series_.size()) {
    Sweep(timestamp_ms, vanished, appender, report);
  }
  last_success_ = scrape_number_;
  last_tracked_ = tracked_;
  return report;
}

size_t Ingester::MarkAllStale(int64_t timestamp_ms, model::Appender& appender) {
  size_t written = 0;
  if (last_success_ != 0) {
    for (auto& [labels, state] : series_) {
      if (state.tracked_in != last_success_) continue;
      if (auto ref = appender.AppendRef(state.ref, labels, timestamp_ms, model::StaleNaN())) {
        state.ref = *ref;
        ++written;
      }
    }
  }
  last_success_ = 0;
  last_tracked_ = 0;
  return written;
}

void Ingester::RollBack(size_t entries_before) {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->tracked) it->series->second.tracked_in = it->previous_tracked_in;
  }
  pending_.clear();
  batch_.clear();
  if (entries_.size() > entries_before) {
    keys_.resize(entries_[entries_before].key_offset);
    entries_.resize(entries_before);
    RebuildSlots(slots_.size());
  }
  for (SeriesPtr series : created_) series_.erase(series_.find(series->first));
  created_.clear();
}

void Ingester::Sweep(int64_t timestamp_ms, bool vanished, model::Appender& appender,
                     IngestReport& report) {
  const uint64_t scrape = scrape_number_;
  if (vanished && last_success_ != 0) {
    for (auto& [labels, state] : series_) {
      if (state.tracked_in == last_success_ &&
          AppendCounted(appender, labels, state.ref, timestamp_ms, model::StaleNaN(), report)) {
        ++report.stale_markers;
      }
    }
  }
  // Every entry kept points at a series seen now, so no entry dangles below.
  if (entries_used_ < entries_.size()) {
    std::erase_if(entries_, [scrape](const CacheEntry& e) { return e.used_in != scrape; });
    std::string keys;
    size_t size = 0;
    for (const CacheEntry& e : entries_) size += e.key_size;
    keys.reserve(size);
    for (CacheEntry& e : entries_) {
      keys.append(KeyOf(e));
      e.key_offset = keys.size() - e.key_size;
    }
    keys_ = std::move(keys);
    RebuildSlots(slots_.size());
  }
  std::erase_if(series_, [scrape](const auto& s) { return s.second.seen_in != scrape; });
}

Ingester::CacheEntry* Ingester::FindEntry(std::string_view key, uint64_t hash, size_t& slot) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.index == 0) {
      slot = i;
      return nullptr;
    }
    if (s.tag == tag) {
      CacheEntry& entry = entries_[s.index - 1];
      if (KeyOf(entry) == key) {
        slot = i;
        return &entry;
      }
    }
  }
}

bool Ingester::KnownSeries(std::string_view series) {
  last_lookup_ = LastLookUp{series.data(), series.size()};
  last_lookup_.entry = LookUp(series, last_lookup_.hash, last_lookup_.slot);
  return last_lookup_.entry != nullptr && last_lookup_.entry->format == format_;
}

Ingester::CacheEntry* Ingester::LookUp(std::string_view key, uint64_t& hash, size_t& slot) {
  if (next_entry_ < entries_.size() && KeyOf(entries_[next_entry_]) == key) {
    return &entries_[next_entry_];
  }
  hash = std::hash<std::string_view>{}(key);
  return FindEntry(key, hash, slot);
}

void Ingester::InsertEntry(std::string_view key, uint64_t hash, SeriesPtr series, size_t slot) {
  entries_.push_back(CacheEntry{keys_.size(), key.size(), hash, series, scrape_number_, format_});
  keys_.append(key);
  if (entries_.size() * 2 > slots_.size()) {
    RebuildSlots(std::max<size_t>(64, slots_.size() * 2));
    return;
  }
  slots_[slot] = Slot{static_cast<uint32_t>(hash >> 32), static_cast<uint32_t>(entries_.size())};
}

void Ingester::RebuildSlots(size_t capacity) {
  slots_.assign(capacity, Slot{});
  if (capacity == 0) return;
  const size_t mask = capacity - 1;
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t i = entries_[e].hash & mask;
    while (slots_[i].index != 0) i = (i + 1) & mask;
    slots_[i] = Slot{static_cast<uint32_t>(entries_[e].hash >> 32), static_cast<uint32_t>(e + 1)};
  }
}

util::Result<void> Ingester::Add(const ParsedSample& sample, int64_t timestamp_ms,
                                 IngestReport& report) {
  ++report.samples_scraped;
  const uint64_t scrape = scrape_number_;
  uint64_t hash = 0;
  size_t slot = 0;
  CacheEntry* entry = nullptr;
  if (sample.series.data() == last_lookup_.data && sample.series.size() == last_lookup_.size) {
    entry = last_lookup_.entry;
    hash = last_lookup_.hash;
    slot = last_lookup_.slot;
  } else {
    entry = LookUp(sample.series, hash, slot);
  }
  last_lookup_.data = nullptr;
  SeriesPtr series = nullptr;
  if (entry != nullptr) {
    series = entry->series;
    entry->format = format_;  // parsed in this format now, if it was not
    next_entry_ = static_cast<size_t>(entry - entries_.data()) + 1;
    if (entry->used_in != scrape) {
      entry->used_in = scrape;
      ++entries_used_;
    }
  } else {
    auto built = BuildSeries(sample);
    if (!built) return tl::unexpected(std::move(built.error()));
    series = *built;
    InsertEntry(sample.series, hash, series, slot);
    next_entry_ = entries_.size();
    ++entries_used_;
    if (series != nullptr) ++report.series_added;
  }
  // While the parser reads the next line, fetch the series node the next
  // sample most likely belongs to.
  if (next_entry_ < entries_.size() && entries_[next_entry_].series != nullptr) {
    __builtin_prefetch(entries_[next_entry_].series);
  }
  if (series == nullptr) return {};  // dropped by metric relabeling
  ++report.samples_post_relabel;
  SeriesState& state = series->second;
  if (state.seen_in == scrape) {
    ++report.duplicates;
    return {};
  }
  // As Prometheus's limitAppender: every sample that would be appended counts.
  if (options_.sample_limit != 0 && pending_.size() >= options_.sample_limit) {
    return util::Fail("sample limit exceeded");
  }
  state.seen_in = scrape;
  ++series_seen_;
  const bool own_timestamp = options_.honor_timestamps && sample.timestamp_ms.has_value();
  pending_.push_back(Pending{series, state.ref, state.tracked_in, !own_timestamp});
  batch_.push_back(model::RefSample{state.ref, &series->first,
                                    own_timestamp ? *sample.timestamp_ms : timestamp_ms,
                                    sample.value});
  if (!own_timestamp) {
    if (last_success_ != 0 && state.tracked_in == last_success_) ++carried_;
    state.tracked_in = scrape;
    ++tracked_;
  }
  return {};
}

util::Result<Ingester::SeriesPtr> Ingester::BuildSeries(const ParsedSample& sample) {
  model::LabelsBuilder builder;
  builder.Set(model::kMetricName, sample.metric_name);
  for (const LabelPair& label : sample.labels) builder.Set(label.name, label.value);
  if (options_.honor_labels) {
    for (const model::Label& target : options_.target_labels) {
      if (builder.Get(target.name).empty()) builder.Set(target.name, target.value);
    }
  } else {
    // As Prometheus's resolveConflictingExposedLabels: an exposed label that a
    // target label displaces is kept as exported_<name> (prefixed again while
    // that name is taken), shortest names first.
    std::vector<model::Label> conflicts;
    for (const model::Label& target : options_.target_labels) {
      const std::string_view exposed = builder.Get(target.name);
      if (!exposed.empty()) conflicts.push_back(model::Label{target.name, std::string(exposed)});
      builder.Set(target.name, target.value);
    }
    std::stable_sort(
        conflicts.begin(), conflicts.end(),
        [](const model::Label& a, const model::Label& b) { return a.name.size() < b.name.size(); });
    for (const model::Label& conflict : conflicts) {
      std::string name = conflict.name;
      do {
        name.insert(0, "exported_");
      } while (!builder.Get(name).empty());
      builder.Set(name, conflict.value);
    }
  }
  model::Labels labels = builder.Build();
  if (!options_.metric_relabel_configs.empty()) {
    std::optional<model::Labels> relabeled =
        model::Relabel(labels, options_.metric_relabel_configs);
    if (!relabeled || relabeled->empty()) return nullptr;
    labels = *std::move(relabeled);
  }
  if (auto checked = CheckSeries(labels, options_.label_limit); !checked) {
    return tl::unexpected(std::move(checked.error()));
  }
  auto [it, inserted] = series_.try_emplace(std::move(labels));
  if (inserted) created_.push_back(&*it);
  return &*it;
}

}  // namespace vigil::scrape
