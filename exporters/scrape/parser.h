#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "daemon/util/result.h"

namespace vigil::scrape {

// The two text exposition formats a target can answer with.
enum class Format { kPrometheusText, kOpenMetrics };

// Picks the parser for a response's Content-Type: "application/openmetrics-text"
// (any version and parameters, case-insensitive) is OpenMetrics 1.0; anything
// else, including an empty header, is the Prometheus text format 0.0.4.
Format DetectFormat(std::string_view content_type);

// The type a `# TYPE` line declares for a metric family. kUnknown is also the
// type of samples no TYPE line covers. The text format knows counter, gauge,
// histogram, summary and untyped; OpenMetrics knows all but untyped.
enum class MetricType {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet,
  kUntyped,
};

// The exposition name of a type ("gaugehistogram"), as in a TYPE line.
std::string_view MetricTypeName(MetricType type);

// One label as exposed, with escapes already resolved. The views point into
// the body or into the parser's scratch space.
struct LabelPair {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const LabelPair&, const LabelPair&) = default;
};

// An OpenMetrics exemplar (` # {trace_id="x"} 0.5 1520879607.789`).
struct Exemplar {
  std::span<const LabelPair> labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

// One sample line. Every view is valid only during the SampleSink call that
// receives it; copy what must outlive it. Nothing here is allocated per sample.
struct ParsedSample {
  // The raw bytes `name{labels}` as written in the body (escapes and, in the
  // text format, spacing included): the same bytes always denote the same
  // series, so it serves as a cache key for built label sets.
  std::string_view series;
  std::string_view metric_name;
  // The metric family the sample belongs to (the TYPE line's name, e.g. "foo"
  // for "foo_bucket"), or metric_name when no TYPE/HELP line covers it.
  std::string_view family;
  MetricType type = MetricType::kUnknown;
  // Labels in exposition order, unescaped; names are unique and never "__name__".
  // Empty, without being parsed, when the sink's KnownSeries(series) said yes.
  std::span<const LabelPair> labels;
  double value = 0;
  // Text format: integer milliseconds. OpenMetrics: float seconds, converted
  // to milliseconds (rounded to the nearest).
  std::optional<int64_t> timestamp_ms;
  // OpenMetrics only; null when the line has none.
  const Exemplar* exemplar = nullptr;
};

enum class MetadataKind { kHelp, kType, kUnit };

// One `# HELP`, `# TYPE` or `# UNIT` line. Views valid only during the call.
struct ParsedMetadata {
  MetadataKind kind = MetadataKind::kHelp;
  std::string_view metric_name;
  MetricType type = MetricType::kUnknown;  // kType only
  std::string_view text;                   // kHelp: unescaped help; kUnit: the unit
};

// Receives what Parse finds, in body order. An error returned by a callback
// stops the parse and is returned by Parse unchanged.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  virtual util::Result<void> OnSample(const ParsedSample& sample) = 0;
  virtual util::Result<void> OnMetadata(const ParsedMetadata& /*metadata*/) { return {}; }
  // Asked before the labels of a sample line with a label set are parsed,
  // with what would become ParsedSample::series. True means the sink saw this
  // exact text in a sample the parser delivered before, in the same format,
  // and needs no labels: the parser then skips parsing and checking them (the
  // same bytes would parse the same way) and delivers the sample with empty
  // `labels`. The default, false, always has them parsed.
  virtual bool KnownSeries(std::string_view /*series*/) { return false; }
};

// What one successful parse saw.
struct ParseStats {
  size_t lines = 0;      // lines read, including comments and empty lines
  size_t samples = 0;    // sample lines delivered to OnSample
  size_t metadata = 0;   // HELP/TYPE/UNIT lines delivered to OnMetadata
  size_t exemplars = 0;  // OpenMetrics exemplars seen
  friend bool operator==(const ParseStats&, const ParseStats&) = default;
};

// Parser reads one exposition body at a time and calls the sink per line of
// interest. It keeps its scratch buffers between calls, so a parser reused for
// every scrape of a target allocates nothing per sample once warm.
//
// Malformed input fails the whole parse with "line N: reason" (reasons worded
// like Prometheus's textparse and expfmt). Checked beyond the grammar: metric
// and label names, UTF-8 label values, duplicate label names in one sample,
// a second HELP/TYPE/UNIT line for a family, a TYPE line after samples of its
// family, and for OpenMetrics the `# EOF` terminator with nothing after it.
//
// Not thread-safe: one parser per loop/thread.
class Parser {
 public:
  util::Result<ParseStats> Parse(std::string_view body, Format format, SampleSink& sink);

 private:
  struct Cursor;
  util::Result<void> ParseLine(std::string_view line);
  util::Result<void> ParseComment(Cursor& c);
  util::Result<void> ParseMetadata(Cursor& c, MetadataKind kind);
  util::Result<void> ParseSampleLine(Cursor& c);
  util::Result<void> ParseLabels(Cursor& c, std::vector<LabelPair>& out);
  util::Result<void> ParseExemplar(Cursor& c);
  util::Result<void> CheckUniqueNames(std::span<const LabelPair> labels, bool is_exemplar);
  std::string_view Unescape(std::string_view escaped, bool quote_escape);
  void ResolveFamily(ParsedSample& sample);

  // Per-parse state.
  Format format_ = Format::kPrometheusText;
  SampleSink* sink_ = nullptr;
  size_t line_no_ = 0;
  ParseStats stats_;
  std::string_view current_family_;  // name of the latest metadata line
  MetricType current_type_ = MetricType::kUnknown;
  std::string_view last_sample_family_;
  bool last_sample_family_set_ = false;
  std::unordered_set<std::string_view> help_seen_;
  std::unordered_set<std::string_view> type_seen_;
  std::unordered_set<std::string_view> unit_seen_;
  std::unordered_set<std::string_view> sample_families_;

  // Reused across samples and parses.
  std::vector<LabelPair> labels_;
  std::vector<LabelPair> exemplar_labels_;
  std::vector<std::string_view> names_;  // duplicate-name check of large label sets
  std::string scratch_;  // unescaped values of the current line; capacity >= line length
  Exemplar exemplar_;
};

// Convenience for one-off parses (tests, tools): a fresh Parser per call.
util::Result<ParseStats> Parse(std::string_view body, Format format, SampleSink& sink);

}  // namespace vigil::scrape
