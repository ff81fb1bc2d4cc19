#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/matcher.h"
#include "daemon/model/sample.h"
#include "daemon/util/result.h"

namespace vigil::model {

// A series' handle inside one Appender, handed out by AppendRef; 0 is none.
using SeriesRef = uint64_t;

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
};

// Series is one selected time series: its labels and its float samples in
// ascending time order, within the requested window.
struct Series {
  Labels labels;
  std::vector<Sample> samples;
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
};

}  // namespace vigil::model
