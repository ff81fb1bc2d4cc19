#include "exporters/scrape/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace vigil::scrape {
namespace {

// Character classes of the exposition grammar.
constexpr uint8_t kLabelStart = 1;   // [a-zA-Z_]
constexpr uint8_t kLabelChar = 2;    // [a-zA-Z0-9_]
constexpr uint8_t kMetricStart = 4;  // [a-zA-Z_:]
constexpr uint8_t kMetricChar = 8;   // [a-zA-Z0-9_:]

constexpr std::array<uint8_t, 256> MakeCharTable() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    uint8_t bits = 0;
    if (alpha) bits |= kLabelStart | kLabelChar | kMetricStart | kMetricChar;
    if (digit) bits |= kLabelChar | kMetricChar;
    if (c == ':') bits |= kMetricStart | kMetricChar;
    table[c] = bits;
  }
  return table;
}
constexpr std::array<uint8_t, 256> kCharTable = MakeCharTable();

bool Is(char c, uint8_t cls) { return (kCharTable[static_cast<unsigned char>(c)] & cls) != 0; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A string quoted for an error message, control and non-ASCII bytes as \xNN.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// What the parser found where it expected something else: the run of name
// characters or the single byte at p, quoted, or "end of line".
std::string Describe(const char* p, const char* end) {
  if (p == end) return "end of line";
  const char* q = p + 1;
  if (Is(*p, kMetricChar)) {
    while (q != end && Is(*q, kMetricChar)) ++q;
  }
  return Quote(std::string_view(p, static_cast<size_t>(q - p)));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Go's strconv.ParseFloat without hex floats and underscores (which
// OpenMetrics forbids and Prometheus rejects): decimal, "NaN", "[+-]Inf",
// "[+-]Infinity" (case-insensitive). Overflow is an error, underflow is not.
bool ParseGoFloat(std::string_view s, double& out) {
  if (s.empty()) return false;
  bool negative = false;
  bool signed_ = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    signed_ = true;
    s.remove_prefix(1);
    if (s.empty()) return false;
  }
  const char c = s[0];
  if (c == 'i' || c == 'I') {
    if (!EqualsIgnoreCase(s, "inf") && !EqualsIgnoreCase(s, "infinity")) return false;
    out = negative ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
    return true;
  }
  if (c == 'n' || c == 'N') {
    if (signed_ || !EqualsIgnoreCase(s, "nan")) return false;
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!((c >= '0' && c <= '9') || c == '.')) return false;
  double v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v, std::chars_format::general);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports both overflow and underflow; strtod tells them apart.
    const std::string copy(s);
    errno = 0;
    v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) return false;
  } else if (ec != std::errc()) {
    return false;
  }
  out = negative ? -v : v;
  return true;
}

// Go's strconv.ParseInt(s, 10, 64).
bool ParseGoInt(std::string_view s, int64_t& out) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s[0] == '-') return false;
  }
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// OpenMetrics timestamps: float seconds, converted to rounded milliseconds.
bool ParseSecondsAsMillis(std::string_view s, int64_t& out) {
  double seconds = 0;
  if (!ParseGoFloat(s, seconds) || !std::isfinite(seconds)) return false;
  const double ms = std::round(seconds * 1000.0);
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  constexpr double kLimit = 9223372036854775808.0;
  if (ms >= kLimit || ms < -kLimit) return false;
  out = static_cast<int64_t>(ms);
  return true;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and code points beyond U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::optional<MetricType> LookupType(std::string_view word, Format format) {
  if (word == "counter") return MetricType::kCounter;
  if (word == "gauge") return MetricType::kGauge;
  if (word == "histogram") return MetricType::kHistogram;
  if (word == "summary") return MetricType::kSummary;
  if (format == Format::kPrometheusText) {
    if (word == "untyped") return MetricType::kUntyped;
    return std::nullopt;
  }
  if (word == "gaugehistogram") return MetricType::kGaugeHistogram;
  if (word == "info") return MetricType::kInfo;
  if (word == "stateset") return MetricType::kStateSet;
  if (word == "unknown") return MetricType::kUnknown;
  return std::nullopt;
}

// Whether `suffix` (with its leading "_") names a sample of a family of `type`.
bool IsFamilySuffix(std::string_view suffix, MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return suffix == "_total" || suffix == "_created";
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gsum" || suffix == "_gcount";
    case MetricType::kSummary:
      return suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kInfo:
      return suffix == "_info";
    default:
      return false;
  }
}

std::string_view KindWord(MetadataKind kind) {
  switch (kind) {
    case MetadataKind::kHelp:
      return "HELP";
    case MetadataKind::kType:
      return "TYPE";
    case MetadataKind::kUnit:
      return "UNIT";
  }
  return "";
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
    case MetricType::kUntyped:
      return "untyped";
  }
  return "unknown";
}

Format DetectFormat(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  std::string_view media = content_type.substr(0, semicolon);
  while (!media.empty() && IsBlank(media.front())) media.remove_prefix(1);
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  return EqualsIgnoreCase(media, "application/openmetrics-text") ? Format::kOpenMetrics
                                                                 : Format::kPrometheusText;
}

namespace {

// The '}' closing the label set that starts at `open` ('{'): the first one
// outside a quoted value (where a backslash escapes the next byte); nullptr
// when the line has none.
const char* FindLabelsEnd(const char* open, const char* end) {
  bool quoted = false;
  for (const char* p = open + 1; p != end; ++p) {
    if (quoted) {
      if (*p == '\\') {
        if (++p == end) return nullptr;
      } else if (*p == '"') {
        quoted = false;
      }
    } else if (*p == '"') {
      quoted = true;
    } else if (*p == '}') {
      return p;
    }
  }
  return nullptr;
}

}  // namespace

// A position inside the current line.
struct Parser::Cursor {
  const char* p;
  const char* end;
  bool AtEnd() const { return p == end; }
  std::string Got() const { return Describe(p, end); }
  void SkipBlanks() {
    while (p != end && IsBlank(*p)) ++p;
  }
  // The run of bytes up to the next blank or the end of the line.
  std::string_view Token() {
    const char* begin = p;
    while (p != end && !IsBlank(*p)) ++p;
    return {begin, static_cast<size_t>(p - begin)};
  }
};

util::Result<ParseStats> Parse(std::string_view body, Format format, SampleSink& sink) {
  Parser parser;
  return parser.Parse(body, format, sink);
}

util::Result<ParseStats> Parser::Parse(std::string_view body, Format format, SampleSink& sink) {
  format_ = format;
  sink_ = &sink;
  line_no_ = 0;
  stats_ = ParseStats{};
  current_family_ = {};
  current_type_ = MetricType::kUnknown;
  last_sample_family_ = {};
  last_sample_family_set_ = false;
  help_seen_.clear();
  type_seen_.clear();
  unit_seen_.clear();
  sample_families_.clear();

  const char* p = body.data();
  const char* const end = p + body.size();
  bool eof_seen = false;
  while (p != end) {
    const auto* newline =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = newline != nullptr ? newline : end;
    const std::string_view line(p, static_cast<size_t>(line_end - p));
    p = newline != nullptr ? newline + 1 : end;
    ++line_no_;
    if (format_ == Format::kOpenMetrics && line == "# EOF") {
      if (p != end) return util::Fail("line {}: unexpected data after # EOF", line_no_ + 1);
      eof_seen = true;
      break;
    }
    if (auto ok = ParseLine(line); !ok) return tl::unexpected(std::move(ok.error()));
  }
  if (format_ == Format::kOpenMetrics && !eof_seen) {
    return util::Fail("line {}: data does not end with # EOF", line_no_ + 1);
  }
  stats_.lines = line_no_;
  return stats_;
}

util::Result<void> Parser::ParseLine(std::string_view line) {
  // Unescaped values never outgrow their escaped form: with this capacity the
  // views handed to the sink never dangle through a reallocation.
  scratch_.clear();
  if (scratch_.capacity() < line.size()) scratch_.reserve(line.size());
  Cursor c{line.data(), line.data() + line.size()};
  if (format_ == Format::kPrometheusText) {
    c.SkipBlanks();
    if (c.AtEnd()) return {};
  } else if (c.AtEnd()) {
    return util::Fail("line {}: unexpected empty line", line_no_);
  }
  if (*c.p == '#') return ParseComment(c);
  return ParseSampleLine(c);
}

util::Result<void> Parser::ParseComment(Cursor& c) {
  ++c.p;  // '#'
  if (format_ == Format::kPrometheusText) {
    c.SkipBlanks();
    const std::string_view word = c.Token();
    if (c.AtEnd() || (word != "HELP" && word != "TYPE")) return {};  // a plain comment
    c.SkipBlanks();
    return ParseMetadata(c, word == "HELP" ? MetadataKind::kHelp : MetadataKind::kType);
  }
  if (c.AtEnd() || *c.p != ' ') {
    return util::Fail("line {}: expected \" \" after \"#\", got {}", line_no_, c.Got());
  }
  ++c.p;
  const char* word_begin = c.p;
  const std::string_view word = c.Token();
  MetadataKind kind = MetadataKind::kHelp;
  if (word == "HELP") {
    kind = MetadataKind::kHelp;
  } else if (word == "TYPE") {
    kind = MetadataKind::kType;
  } else if (word == "UNIT") {
    kind = MetadataKind::kUnit;
  } else if (word == "EOF") {
    return util::Fail("line {}: expected end of line after # EOF, got {}", line_no_, c.Got());
  } else {
    return util::Fail("line {}: expected HELP, TYPE, UNIT or EOF after \"# \", got {}", line_no_,
                      Describe(word_begin, c.end));
  }
  if (c.AtEnd() || *c.p != ' ') {
    return util::Fail("line {}: expected \" \" after {}, got {}", line_no_, word, c.Got());
  }
  ++c.p;
  return ParseMetadata(c, kind);
}

util::Result<void> Parser::ParseMetadata(Cursor& c, MetadataKind kind) {
  const bool text_format = format_ == Format::kPrometheusText;
  const char* name_begin = c.p;
  const std::string_view word = c.Token();
  if (word.empty()) {
    return util::Fail("line {}: expected metric name after {}, got {}", line_no_, KindWord(kind),
                      Describe(name_begin, c.end));
  }
  const bool valid =
      Is(word.front(), kMetricStart) &&
      std::all_of(word.begin(), word.end(), [](char ch) { return Is(ch, kMetricChar); });
  if (!valid) {
    return util::Fail("line {}: invalid metric name {} in {} line", line_no_, Quote(word),
                      KindWord(kind));
  }
  const std::string_view name = word;
  if (!c.AtEnd()) {
    if (text_format) {
      c.SkipBlanks();
    } else if (*c.p == ' ') {
      ++c.p;
    } else {
      return util::Fail("line {}: expected \" \" after metric name, got {}", line_no_, c.Got());
    }
  }
  std::string_view rest(c.p, static_cast<size_t>(c.end - c.p));

  ParsedMetadata metadata;
  metadata.kind = kind;
  metadata.metric_name = name;
  switch (kind) {
    case MetadataKind::kHelp:
      if (!help_seen_.insert(name).second) {
        return util::Fail("line {}: second HELP line for metric name {}", line_no_, Quote(name));
      }
      metadata.text = Unescape(rest, /*quote_escape=*/!text_format);
      break;
    case MetadataKind::kType: {
      if (text_format) {
        while (!rest.empty() && IsBlank(rest.back())) rest.remove_suffix(1);
      }
      if (rest.empty()) {
        return util::Fail("line {}: expected metric type after metric name, got end of line",
                          line_no_);
      }
      const std::optional<MetricType> type = LookupType(rest, format_);
      if (!type) return util::Fail("line {}: invalid metric type {}", line_no_, Quote(rest));
      if (sample_families_.contains(name) || !type_seen_.insert(name).second) {
        return util::Fail(
            "line {}: second TYPE line for metric name {}, or TYPE reported after samples",
            line_no_, Quote(name));
      }
      metadata.type = *type;
      break;
    }
    case MetadataKind::kUnit: {
      if (!unit_seen_.insert(name).second) {
        return util::Fail("line {}: second UNIT line for metric name {}", line_no_, Quote(name));
      }
      const bool suffix = rest.empty() || (name.size() > rest.size() && name.ends_with(rest) &&
                                           name[name.size() - rest.size() - 1] == '_');
      if (!suffix) {
        return util::Fail("line {}: unit {} not a suffix of metric {}", line_no_, Quote(rest),
                          Quote(name));
      }
      metadata.text = rest;
      break;
    }
  }
  if (name != current_family_) {
    current_family_ = name;
    current_type_ = MetricType::kUnknown;
  }
  if (kind == MetadataKind::kType) current_type_ = metadata.type;
  ++stats_.metadata;
  return sink_->OnMetadata(metadata);
}

util::Result<void> Parser::ParseSampleLine(Cursor& c) {
  const bool text_format = format_ == Format::kPrometheusText;
  const char* start = c.p;
  if (!Is(*c.p, kMetricStart)) {
    return util::Fail("line {}: expected metric name, got {}", line_no_, c.Got());
  }
  ++c.p;
  while (!c.AtEnd() && Is(*c.p, kMetricChar)) ++c.p;

  ParsedSample sample;
  sample.metric_name = std::string_view(start, static_cast<size_t>(c.p - start));
  const char* series_end = c.p;
  if (text_format) {
    // The text format allows blanks between the name and its label set.
    const char* q = c.p;
    while (q != c.end && IsBlank(*q)) ++q;
    if (q != c.end && *q == '{') c.p = q;
  }
  labels_.clear();
  if (!c.AtEnd() && *c.p == '{') {
    // A label set the sink has seen parsed before is not parsed again. The
    // span up to the first '}' outside quotes is what ParseLabels accepts
    // for a valid label set, so equal bytes mean the same valid labels.
    const char* close = FindLabelsEnd(c.p, c.end);
    if (close != nullptr &&
        sink_->KnownSeries(std::string_view(start, static_cast<size_t>(close + 1 - start)))) {
      c.p = close + 1;
    } else {
      if (auto ok = ParseLabels(c, labels_); !ok) return ok;
      if (auto ok = CheckUniqueNames(labels_, /*is_exemplar=*/false); !ok) return ok;
    }
    series_end = c.p;
  }
  sample.series = std::string_view(start, static_cast<size_t>(series_end - start));
  sample.labels = labels_;

  if (c.AtEnd() || !IsBlank(*c.p) || (!text_format && *c.p != ' ')) {
    return util::Fail("line {}: expected value after metric, got {}", line_no_, c.Got());
  }
  if (text_format) {
    c.SkipBlanks();
  } else {
    ++c.p;
  }
  const char* value_begin = c.p;
  const std::string_view value = c.Token();
  if (value.empty()) {
    return util::Fail("line {}: expected value after metric, got {}", line_no_,
                      Describe(value_begin, c.end));
  }
  if (!ParseGoFloat(value, sample.value)) {
    return util::Fail("line {}: invalid value {}", line_no_, Quote(value));
  }

  if (text_format) {
    c.SkipBlanks();
    if (!c.AtEnd()) {
      const std::string_view token = c.Token();
      int64_t ts = 0;
      if (!ParseGoInt(token, ts)) {
        return util::Fail("line {}: invalid timestamp {}", line_no_, Quote(token));
      }
      sample.timestamp_ms = ts;
      c.SkipBlanks();
      if (!c.AtEnd()) {
        return util::Fail("line {}: expected next entry after timestamp, got {}", line_no_,
                          c.Got());
      }
    }
  } else if (!c.AtEnd()) {
    if (*c.p != ' ') {
      return util::Fail("line {}: expected timestamp or # symbol, got {}", line_no_, c.Got());
    }
    ++c.p;
    if (c.AtEnd()) {
      return util::Fail("line {}: expected timestamp or # symbol, got end of line", line_no_);
    }
    if (*c.p != '#') {
      const char* token_begin = c.p;
      const std::string_view token = c.Token();
      int64_t ts = 0;
      if (!ParseSecondsAsMillis(token, ts)) {
        return util::Fail("line {}: invalid timestamp {}", line_no_,
                          token.empty() ? Describe(token_begin, c.end) : Quote(token));
      }
      sample.timestamp_ms = ts;
      if (!c.AtEnd()) {
        if (*c.p == ' ') ++c.p;
        if (c.AtEnd() || *c.p != '#') {
          return util::Fail("line {}: expected next entry after timestamp, got {}", line_no_,
                            c.Got());
        }
      }
    }
    if (!c.AtEnd()) {
      if (auto ok = ParseExemplar(c); !ok) return ok;
      sample.exemplar = &exemplar_;
      ++stats_.exemplars;
    }
  }

  ResolveFamily(sample);
  ++stats_.samples;
  return sink_->OnSample(sample);
}

util::Result<void> Parser::ParseExemplar(Cursor& c) {
  ++c.p;  // '#'
  if (c.AtEnd() || *c.p != ' ' || c.p + 1 == c.end || c.p[1] != '{') {
    return util::Fail("line {}: expected exemplar labels after \"#\", got {}", line_no_,
                      c.AtEnd() || *c.p != ' ' ? c.Got() : Describe(c.p + 1, c.end));
  }
  ++c.p;
  exemplar_labels_.clear();
  if (auto ok = ParseLabels(c, exemplar_labels_); !ok) return ok;
  if (auto ok = CheckUniqueNames(exemplar_labels_, /*is_exemplar=*/true); !ok) return ok;
  exemplar_.labels = exemplar_labels_;
  exemplar_.timestamp_ms.reset();
  if (c.AtEnd() || *c.p != ' ') {
    return util::Fail("line {}: expected value after exemplar labels, got {}", line_no_, c.Got());
  }
  ++c.p;
  const std::string_view value = c.Token();
  if (!ParseGoFloat(value, exemplar_.value)) {
    return util::Fail("line {}: invalid exemplar value {}", line_no_, Quote(value));
  }
  if (c.AtEnd()) return {};
  if (*c.p != ' ') {
    return util::Fail("line {}: expected timestamp after exemplar value, got {}", line_no_,
                      c.Got());
  }
  ++c.p;
  const std::string_view token = c.Token();
  int64_t ts = 0;
  if (!ParseSecondsAsMillis(token, ts)) {
    return util::Fail("line {}: invalid exemplar timestamp {}", line_no_, Quote(token));
  }
  exemplar_.timestamp_ms = ts;
  if (!c.AtEnd()) {
    return util::Fail("line {}: expected end of line after exemplar, got {}", line_no_, c.Got());
  }
  return {};
}

util::Result<void> Parser::ParseLabels(Cursor& c, std::vector<LabelPair>& out) {
  const bool text_format = format_ == Format::kPrometheusText;
  ++c.p;  // '{'
  for (;;) {
    if (text_format) c.SkipBlanks();
    if (!c.AtEnd() && *c.p == '}') {
      ++c.p;
      return {};
    }
    if (c.AtEnd() || !Is(*c.p, kLabelStart)) {
      return util::Fail("line {}: expected label name, got {}", line_no_, c.Got());
    }
    const char* name_begin = c.p;
    ++c.p;
    while (!c.AtEnd() && Is(*c.p, kLabelChar)) ++c.p;
    const std::string_view name(name_begin, static_cast<size_t>(c.p - name_begin));
    if (text_format) c.SkipBlanks();
    if (c.AtEnd() || *c.p != '=') {
      return util::Fail("line {}: expected \"=\" after label name, got {}", line_no_, c.Got());
    }
    ++c.p;
    if (text_format) c.SkipBlanks();
    if (c.AtEnd() || *c.p != '"') {
      return util::Fail("line {}: expected quoted label value, got {}", line_no_, c.Got());
    }
    ++c.p;
    const char* value_begin = c.p;
    bool escaped = false;
    unsigned char high_bits = 0;
    for (;;) {
      if (c.AtEnd()) return util::Fail("line {}: unterminated label value", line_no_);
      const char ch = *c.p;
      if (ch == '"') break;
      if (ch == '\\') {
        escaped = true;
        ++c.p;
        if (c.AtEnd()) return util::Fail("line {}: unterminated label value", line_no_);
      }
      high_bits |= static_cast<unsigned char>(*c.p);
      ++c.p;
    }
    std::string_view value(value_begin, static_cast<size_t>(c.p - value_begin));
    ++c.p;  // closing quote
    if ((high_bits & 0x80) != 0 && !ValidUtf8(value)) {
      return util::Fail("line {}: invalid UTF-8 label value {}", line_no_, Quote(value));
    }
    if (escaped) value = Unescape(value, /*quote_escape=*/true);
    out.push_back(LabelPair{name, value});
    if (text_format) c.SkipBlanks();
    if (!c.AtEnd() && *c.p == ',') {
      ++c.p;
    } else if (!c.AtEnd() && *c.p == '}') {
      ++c.p;
      return {};
    } else {
      return util::Fail("line {}: expected \",\" or \"}}\" after label value, got {}", line_no_,
                        c.Got());
    }
  }
}

util::Result<void> Parser::CheckUniqueNames(std::span<const LabelPair> labels, bool is_exemplar) {
  if (!is_exemplar) {
    for (const LabelPair& l : labels) {
      if (l.name == "__name__") {
        return util::Fail("line {}: duplicate label name \"__name__\"", line_no_);
      }
    }
  }
  constexpr size_t kQuadraticLimit = 16;
  if (labels.size() <= kQuadraticLimit) {
    for (size_t i = 1; i < labels.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (labels[i].name == labels[j].name) {
          return util::Fail("line {}: duplicate label name {}", line_no_, Quote(labels[i].name));
        }
      }
    }
    return {};
  }
  names_.clear();
  for (const LabelPair& l : labels) names_.push_back(l.name);
  std::sort(names_.begin(), names_.end());
  const auto dup = std::adjacent_find(names_.begin(), names_.end());
  if (dup != names_.end()) {
    return util::Fail("line {}: duplicate label name {}", line_no_, Quote(*dup));
  }
  return {};
}

std::string_view Parser::Unescape(std::string_view escaped, bool quote_escape) {
  const size_t begin = scratch_.size();
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char ch = escaped[i];
    if (ch != '\\' || i + 1 == escaped.size()) {
      scratch_.push_back(ch);
      continue;
    }
    const char next = escaped[++i];
    if (next == '\\') {
      scratch_.push_back('\\');
    } else if (next == 'n') {
      scratch_.push_back('\n');
    } else if (next == '"' && quote_escape) {
      scratch_.push_back('"');
    } else {
      // Unknown escapes stay as written, as in Prometheus.
      scratch_.push_back('\\');
      scratch_.push_back(next);
    }
  }
  return std::string_view(scratch_.data() + begin, scratch_.size() - begin);
}

void Parser::ResolveFamily(ParsedSample& sample) {
  const std::string_view name = sample.metric_name;
  const std::string_view family = current_family_;
  if (!family.empty() && name.starts_with(family) &&
      (name.size() == family.size() || IsFamilySuffix(name.substr(family.size()), current_type_))) {
    sample.family = family;
    sample.type = current_type_;
  } else {
    sample.family = name;
    sample.type = MetricType::kUnknown;
  }
  if (!last_sample_family_set_ || sample.family != last_sample_family_) {
    last_sample_family_ = sample.family;
    last_sample_family_set_ = true;
    sample_families_.insert(sample.family);
  }
}

}  // namespace vigil::scrape
