#pragma once

#include "daemon/model/matcher.h"

namespace vigil::promql {

// Semantics gathers every behaviour in which Prometheus 2.x and 3.x disagree, so
// the rest of the engine asks one struct instead of scattering version checks.
// A plain value; thread-compatible.
struct Semantics {
  // 3.x: range selectors, lookback and subquery grids use (t-r, t].
  // 2.x: [t-r, t] (the left edge is included).
  bool left_open_windows = true;
  // 3.x: regex `.` matches "\n" in label matchers. 2.x: it does not.
  bool dot_matches_newline = true;
  // 2.x: the smoothing function is called `holt_winters`.
  // 3.x: it is `double_exponential_smoothing` (experimental, enabled here).
  bool holt_winters_name = false;
  // rate()/increase() zero-point clamp for counters. 3.x applies the 1.1×average
  // interval threshold first and clamps afterwards; 2.x clamps before the test.
  bool clamp_before_threshold = false;
  // 2.x keeps __name__ on `atan2` results (it is missing from the list of
  // arithmetic operators that drop it); 3.x drops it like for `+`.
  bool atan2_keeps_name = false;
  // 3.x (as the conformance harness runs it): `__name__` removal by
  // arithmetic and functions is delayed to the end of the query, so label
  // functions and `by (__name__)` still see the name. 2.x drops it at once.
  bool delayed_name_removal = true;
  // 3.x reports a one-to-one matching with several "many" series as an error
  // even when a comparison filters those series out; 2.x only after filtering.
  bool match_errors_before_filter = true;
  // 3.x accepts durations where numbers of seconds are expected (`@ 100s`).
  bool durations_as_numbers = true;
  // 3.x: label names may be any UTF-8 and be quoted (`{"a.b"="x"}`); 2.x
  // allows only [a-zA-Z_][a-zA-Z0-9_]*.
  bool utf8_names = true;
  // 3.x parses the experimental functions the conformance harness enables
  // (sort_by_label, mad_over_time, double_exponential_smoothing, ...).
  bool experimental_functions = true;

  model::RegexOptions regex_options() const {
    return model::RegexOptions{.dot_matches_newline = dot_matches_newline};
  }

  static Semantics V3() { return Semantics{}; }
  static Semantics V2() {
    return Semantics{.left_open_windows = false,
                     .dot_matches_newline = false,
                     .holt_winters_name = true,
                     .clamp_before_threshold = true,
                     .atan2_keeps_name = true,
                     .delayed_name_removal = false,
                     .match_errors_before_filter = false,
                     .durations_as_numbers = false,
                     .utf8_names = false,
                     .experimental_functions = false};
  }
};

}  // namespace vigil::promql
