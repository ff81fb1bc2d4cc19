#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/model/sample.h"
#include "daemon/util/result.h"

namespace vigil::model {

// A series' handle inside one Appender, handed out by AppendRef; 0 is none.
using SeriesRef = uint64_t;

// One sample of a batch for Appender::AppendRefs: the arguments of one
// AppendRef call, and the ref it returned.
struct RefSample {
  // In: the ref the previous append of this series returned (0 the first
  // time). Out: the ref to keep, when the sample was accepted.
  SeriesRef ref = 0;
  const Labels* labels = nullptr;  // the series' labels, as AppendRef's; never null
  int64_t t = 0;
  double v = 0;
};

// A sample of a batch that the appender rejected: its index in the batch and
// the error AppendRef would have returned for it.
struct RejectedSample {
  size_t index = 0;
  util::Error error;
};

// Appender is how samples enter storage. Probes, scrapes and recording rules
// write through it and never know who stores. Implementations are thread-safe.
class Appender {
 public:
  virtual ~Appender() = default;
  // Adds one sample. A sample older than the series' newest is rejected with an
  // error ("out of order sample"); an equal timestamp with a different value is
  // rejected ("duplicate sample for timestamp"); the stale marker is accepted.
  virtual util::Result<void> Append(const Labels& labels, int64_t t, double v) = 0;

  // Append for callers that write the same series again and again (scrape
  // loops, probes): pass the ref the previous call returned for these labels
  // (0 the first time) and keep the one returned, so the appender can skip
  // looking the labels up. `labels` must be the series' labels even with a
  // ref: a ref the appender no longer knows (its series was removed) falls
  // back to them. Errors as Append. The default forwards to Append and
  // returns 0 (no fast path).
  virtual util::Result<SeriesRef> AppendRef(SeriesRef ref, const Labels& labels, int64_t t,
                                            double v) {
    (void)ref;
    if (auto ok = Append(labels, t, v); !ok) return tl::unexpected(std::move(ok.error()));
    return SeriesRef{0};
  }

  // AppendRef for a whole batch (a scrape's samples): appends each sample, in
  // order, as AppendRef(s.ref, *s.labels, s.t, s.v) would, and writes the ref
  // it returns into s.ref when the sample is accepted (a rejected sample's ref
  // is left as it was). Returns the rejected samples, ascending by index, each
  // with AppendRef's error; empty (and nothing allocated) when all were
  // accepted. An appender can take its locks once per batch and overlap the
  // memory accesses of consecutive samples. The default loops over AppendRef.
  virtual std::vector<RejectedSample> AppendRefs(std::span<RefSample> samples) {
    std::vector<RejectedSample> rejected;
    for (size_t i = 0; i < samples.size(); ++i) {
      RefSample& sample = samples[i];
      if (auto ref = AppendRef(sample.ref, *sample.labels, sample.t, sample.v)) {
        sample.ref = *ref;
      } else {
        rejected.push_back(RejectedSample{i, std::move(ref.error())});
      }
    }
    return rejected;
  }
};

// Series is one selected time series: its labels and its float samples in
// ascending time order, within the requested window.
struct Series {
  Labels labels;
  std::vector<Sample> samples;
};

// LabelsView is a series' label set as views into storage (no copies): the
// labels sorted by name, as a Labels holds them. Valid as long as what it
// views; a value type, thread-compatible.
class LabelsView {
 public:
  // `pairs` holds name, value, name, value... sorted by name, no empty value.
  explicit LabelsView(std::span<const std::string_view> pairs) : pairs_(pairs) {}
  size_t size() const { return pairs_.size() / 2; }
  std::string_view name(size_t i) const { return pairs_[2 * i]; }
  std::string_view value(size_t i) const { return pairs_[2 * i + 1]; }
  Labels ToLabels() const {
    std::vector<Label> labels;
    labels.reserve(size());
    for (size_t i = 0; i < size(); ++i) {
      labels.push_back(Label{std::string(name(i)), std::string(value(i))});
    }
    return Labels::FromSorted(std::move(labels));
  }

 private:
  std::span<const std::string_view> pairs_;
};

// SeriesVisitor receives the series of Querier::SelectEach one at a time.
class SeriesVisitor {
 public:
  virtual ~SeriesVisitor() = default;
  // One selected series: its labels and its samples in the window, ascending
  // in time. Both are valid only during the call. Returns false to end the
  // selection early.
  virtual bool Visit(const LabelsView& labels, std::span<const Sample> samples) = 0;
};

// Querier is how PromQL and the ruler read storage. Implementations are
// thread-safe; each call sees a consistent snapshot of every series it returns.
class Querier {
 public:
  virtual ~Querier() = default;
  // Every series whose labels satisfy all matchers (a missing label counts as
  // ""), with its samples whose timestamps lie in [mint, maxt] (both inclusive;
  // callers apply PromQL's open/closed window rules). Stale markers are
  // included as samples. Series with no sample in the window are omitted.
  // Order: ascending by labels.
  virtual std::vector<Series> Select(std::span<const Matcher> matchers, int64_t mint,
                                     int64_t maxt) const = 0;

  // Select for callers that use each series once, right away (an instant
  // query's selectors): the same series in the same order, handed to
  // `visitor` one at a time instead of collected, so the querier can reuse
  // one buffer for the samples and pass the labels as views. The querier may
  // hold its locks during the calls: the visitor must not call back into it.
  // The default forwards to Select.
  virtual void SelectEach(std::span<const Matcher> matchers, int64_t mint, int64_t maxt,
                          SeriesVisitor& visitor) const {
    std::vector<std::string_view> pairs;
    for (const Series& series : Select(matchers, mint, maxt)) {
      pairs.clear();
      for (const Label& label : series.labels) {
        pairs.push_back(label.name);
        pairs.push_back(label.value);
      }
      if (!visitor.Visit(LabelsView(pairs), series.samples)) return;
    }
  }
};

}  // namespace vigil::model
