#include "exporters/scrape/parser.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

namespace vigil::scrape {
namespace {

using ::testing::ElementsAre;

std::string RenderLabels(std::span<const LabelPair> labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out += ',';
    out += fmt::format("{}={:?}", labels[i].name, labels[i].value);
  }
  return out + "}";
}

// Renders every callback as one line so tests compare exact output:
//   name{l="v"} value [@ts_ms] [# {ex} value [@ts]] [(type family)]
//   HELP name "text" | TYPE name type | UNIT name "unit"
class RecordingSink : public SampleSink {
 public:
  util::Result<void> OnSample(const ParsedSample& s) override {
    std::string line(s.metric_name);
    if (!s.labels.empty()) line += RenderLabels(s.labels);
    line += fmt::format(" {}", s.value);
    if (s.timestamp_ms) line += fmt::format(" @{}", *s.timestamp_ms);
    if (s.exemplar != nullptr) {
      line += fmt::format(" # {} {}", RenderLabels(s.exemplar->labels), s.exemplar->value);
      if (s.exemplar->timestamp_ms) line += fmt::format(" @{}", *s.exemplar->timestamp_ms);
    }
    if (s.type != MetricType::kUnknown || s.family != s.metric_name) {
      line += fmt::format(" ({} {})", MetricTypeName(s.type), s.family);
    }
    events.push_back(std::move(line));
    series.emplace_back(s.series);
    return {};
  }
  util::Result<void> OnMetadata(const ParsedMetadata& m) override {
    switch (m.kind) {
      case MetadataKind::kHelp:
        events.push_back(fmt::format("HELP {} {:?}", m.metric_name, m.text));
        break;
      case MetadataKind::kType:
        events.push_back(fmt::format("TYPE {} {}", m.metric_name, MetricTypeName(m.type)));
        break;
      case MetadataKind::kUnit:
        events.push_back(fmt::format("UNIT {} {:?}", m.metric_name, m.text));
        break;
    }
    return {};
  }
  std::vector<std::string> events;
  std::vector<std::string> series;
};

std::vector<std::string> ParseOk(std::string_view body, Format format) {
  RecordingSink sink;
  auto result = Parse(body, format, sink);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return sink.events;
}

std::string ParseError(std::string_view body, Format format) {
  RecordingSink sink;
  auto result = Parse(body, format, sink);
  if (result) return "parsed without error";
  return result.error().message;
}

constexpr Format kText = Format::kPrometheusText;
constexpr Format kOM = Format::kOpenMetrics;

TEST(DetectFormat, ChoosesByMediaType) {
  EXPECT_EQ(DetectFormat("application/openmetrics-text;version=1.0.0;charset=utf-8"), kOM);
  EXPECT_EQ(DetectFormat("application/openmetrics-text; version=0.0.1"), kOM);
  EXPECT_EQ(DetectFormat(" Application/OpenMetrics-Text "), kOM);
  EXPECT_EQ(DetectFormat("text/plain; version=0.0.4; charset=utf-8"), kText);
  EXPECT_EQ(DetectFormat(""), kText);
  EXPECT_EQ(DetectFormat("application/openmetrics-textual"), kText);
}

// prometheus/model/textparse/promparse_test.go, TestPromParse input.
TEST(TextFormat, PrometheusTestdata) {
  const std::string body =
      "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n"
      "# \tTYPE go_gc_duration_seconds summary\n"
      "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n"
      "go_gc_duration_seconds{quantile=\"0.25\",} 7.424100000000001e-05\n"
      "go_gc_duration_seconds{quantile=\"0.5\",a=\"b\"} 8.3835e-05\n"
      "go_gc_duration_seconds{quantile=\"0.8\", a=\"b\"} 8.3835e-05\n"
      "go_gc_duration_seconds{ quantile=\"0.9\", a=\"b\"} 8.3835e-05\n"
      "# Hrandom comment starting with prefix of HELP\n"
      "#\n"
      "wind_speed{A=\"2\",c=\"3\"} 12345\n"
      "# comment with escaped \\n newline\n"
      "# comment with escaped \\ escape character\n"
      "# HELP nohelp1\n"
      "# HELP nohelp2 \n"
      "go_gc_duration_seconds{ quantile=\"1.0\", a=\"b\" } 8.3835e-05\n"
      "go_gc_duration_seconds { quantile=\"1.0\", a=\"b\" } 8.3835e-05\n"
      "go_gc_duration_seconds { quantile= \"1.0\", a= \"b\", } 8.3835e-05\n"
      "go_gc_duration_seconds { quantile = \"1.0\", a = \"b\" } 8.3835e-05\n"
      "go_gc_duration_seconds_count 99\n"
      "some:aggregate:rate5m{a_b=\"c\"}\t1\n"
      "# HELP go_goroutines Number of goroutines that currently exist.\n"
      "# TYPE go_goroutines gauge\n"
      "go_goroutines 33  \t123123\n"
      "_metric_starting_with_underscore 1\n"
      "testmetric{_label_starting_with_underscore=\"foo\"} 1\n"
      "testmetric{label=\"\\\"bar\\\"\"} 1\n"
      "testmetric{le=\"10\"} 1";
  RecordingSink sink;
  auto stats = Parse(body, kText, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(*stats, (ParseStats{.lines = 27, .samples = 17, .metadata = 6, .exemplars = 0}));
  EXPECT_THAT(
      sink.events,
      ElementsAre(
          "HELP go_gc_duration_seconds \"A summary of the GC invocation durations.\"",
          "TYPE go_gc_duration_seconds summary",
          "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05 (summary go_gc_duration_seconds)",
          "go_gc_duration_seconds{quantile=\"0.25\"} 7.424100000000001e-05 (summary "
          "go_gc_duration_seconds)",
          "go_gc_duration_seconds{quantile=\"0.5\",a=\"b\"} 8.3835e-05 (summary "
          "go_gc_duration_seconds)",
          "go_gc_duration_seconds{quantile=\"0.8\",a=\"b\"} 8.3835e-05 (summary "
          "go_gc_duration_seconds)",
          "go_gc_duration_seconds{quantile=\"0.9\",a=\"b\"} 8.3835e-05 (summary "
          "go_gc_duration_seconds)",
          "wind_speed{A=\"2\",c=\"3\"} 12345", "HELP nohelp1 \"\"", "HELP nohelp2 \"\"",
          "go_gc_duration_seconds{quantile=\"1.0\",a=\"b\"} 8.3835e-05",
          "go_gc_duration_seconds{quantile=\"1.0\",a=\"b\"} 8.3835e-05",
          "go_gc_duration_seconds{quantile=\"1.0\",a=\"b\"} 8.3835e-05",
          "go_gc_duration_seconds{quantile=\"1.0\",a=\"b\"} 8.3835e-05",
          "go_gc_duration_seconds_count 99", "some:aggregate:rate5m{a_b=\"c\"} 1",
          "HELP go_goroutines \"Number of goroutines that currently exist.\"",
          "TYPE go_goroutines gauge", "go_goroutines 33 @123123 (gauge go_goroutines)",
          "_metric_starting_with_underscore 1",
          "testmetric{_label_starting_with_underscore=\"foo\"} 1",
          "testmetric{label=\"\\\"bar\\\"\"} 1", "testmetric{le=\"10\"} 1"));
  // The raw series text is the cache key: spacing and escapes as written.
  EXPECT_EQ(sink.series[1], "go_gc_duration_seconds{quantile=\"0.25\",}");
  EXPECT_EQ(sink.series[8], "go_gc_duration_seconds { quantile= \"1.0\", a= \"b\", }");
  EXPECT_EQ(sink.series[10], "go_gc_duration_seconds_count");
  EXPECT_EQ(sink.series[15], "testmetric{label=\"\\\"bar\\\"\"}");
}

TEST(TextFormat, AllMetricTypes) {
  EXPECT_THAT(
      ParseOk("# TYPE c_total counter\n"
              "c_total{path=\"/\"} 7\n"
              "# TYPE g gauge\n"
              "g -3.5\n"
              "# TYPE h histogram\n"
              "h_bucket{le=\"0.5\"} 1\n"
              "h_bucket{le=\"+Inf\"} 2\n"
              "h_sum 0.75\n"
              "h_count 2\n"
              "# TYPE s summary\n"
              "s{quantile=\"0.99\"} 0.2\n"
              "s_sum 1\n"
              "s_count 5\n"
              "# TYPE u untyped\n"
              "u 1\n"
              "u_other 2\n",
              kText),
      ElementsAre("TYPE c_total counter", "c_total{path=\"/\"} 7 (counter c_total)", "TYPE g gauge",
                  "g -3.5 (gauge g)", "TYPE h histogram", "h_bucket{le=\"0.5\"} 1 (histogram h)",
                  "h_bucket{le=\"+Inf\"} 2 (histogram h)", "h_sum 0.75 (histogram h)",
                  "h_count 2 (histogram h)", "TYPE s summary",
                  "s{quantile=\"0.99\"} 0.2 (summary s)", "s_sum 1 (summary s)",
                  "s_count 5 (summary s)", "TYPE u untyped", "u 1 (untyped u)", "u_other 2"));
}

TEST(TextFormat, ValuesFollowGoFloatSyntax) {
  EXPECT_THAT(ParseOk("a NaN\nb +Inf\nc -Inf\nd 1e-3\ne -0\nf 1E+05\ng .5\nh 5.\n"
                      "i inf\nj -infinity\nk nan\nl 0012\nm 1.7976931348623157e308\n"
                      "n 1e-400\n",
                      kText),
              ElementsAre("a nan", "b inf", "c -inf", "d 0.001", "e -0", "f 100000", "g 0.5", "h 5",
                          "i inf", "j -inf", "k nan", "l 12", "m 1.7976931348623157e+308", "n 0"));
}

TEST(TextFormat, NegativeZeroKeepsItsSign) {
  struct Sink : SampleSink {
    util::Result<void> OnSample(const ParsedSample& s) override {
      value = s.value;
      return {};
    }
    double value = 1;
  } sink;
  ASSERT_TRUE(Parse("a -0\n", kText, sink));
  EXPECT_TRUE(std::signbit(sink.value));
  EXPECT_EQ(sink.value, 0.0);
}

TEST(TextFormat, Timestamps) {
  EXPECT_THAT(ParseOk("a 1 1700000000000\nb 2 -1500\nc 3 +42\nd 4 0\n", kText),
              ElementsAre("a 1 @1700000000000", "b 2 @-1500", "c 3 @42", "d 4 @0"));
}

TEST(TextFormat, EscapesInLabelValuesAndHelp) {
  EXPECT_THAT(
      ParseOk("# HELP m Line one\\nline \\\\two \\\" \\t\n"
              "m{a=\"back\\\\slash\",b=\"\\\"quoted\\\"\",c=\"new\\nline\",d=\"\\t\",e=\"\"} 1\n",
              kText),
      ElementsAre("HELP m \"Line one\\nline \\\\two \\\\\\\" \\\\t\"",
                  "m{a=\"back\\\\slash\",b=\"\\\"quoted\\\"\",c=\"new\\nline\",d=\"\\\\t\","
                  "e=\"\"} 1"));
}

TEST(TextFormat, WhitespaceCommentsAndEmptyLabelSets) {
  EXPECT_THAT(ParseOk("\n   \n\t# just a comment\n  a{} 1\nb { } 2\t\n"
                      "c{x=\"y\",} 3   \n#HELPER is a comment\n# EOF\nd 4",
                      kText),
              ElementsAre("a 1", "b 2", "c{x=\"y\"} 3", "d 4"));
}

TEST(TextFormat, UnicodeLabelValues) {
  EXPECT_THAT(ParseOk("a{city=\"Zürich\",emoji=\"\xF0\x9F\x98\x80\"} 1\n", kText),
              ElementsAre("a{city=\"Zürich\",emoji=\"\xF0\x9F\x98\x80\"} 1"));
}

TEST(TextFormat, DuplicateSeriesAreAllDelivered) {
  // Like Prometheus's parser: the scrape loop, not the parser, deals with them.
  EXPECT_THAT(ParseOk("a{x=\"1\"} 1\na{x=\"1\"} 2\n", kText),
              ElementsAre("a{x=\"1\"} 1", "a{x=\"1\"} 2"));
}

TEST(TextFormat, ManyLabelsWithEscapesStayValid) {
  std::string body = "m{";
  std::vector<std::string> expected_labels;
  for (int i = 0; i < 40; ++i) {
    body += fmt::format("l{}=\"v\\\\{}\\n\",", i, i);
    expected_labels.push_back(fmt::format("l{}=\"v\\\\{}\\n\"", i, i));
  }
  body += "} 1\n";
  EXPECT_THAT(ParseOk(body, kText),
              ElementsAre(fmt::format("m{{{}}} 1", fmt::join(expected_labels, ","))));
}

// Answers KnownSeries from a fixed set and records every question.
class KnownSeriesSink : public RecordingSink {
 public:
  explicit KnownSeriesSink(std::vector<std::string> known) : known_(std::move(known)) {}
  bool KnownSeries(std::string_view s) override {
    asked.emplace_back(s);
    return std::find(known_.begin(), known_.end(), s) != known_.end();
  }
  std::vector<std::string> asked;

 private:
  std::vector<std::string> known_;
};

TEST(KnownSeries, KnownLabelSetsAreNeitherParsedNorChecked) {
  // `}` and `\"` inside values, blanks before `{` (text format), a duplicate
  // label name: the known texts come without labels, the others are parsed
  // (and the duplicate is still rejected).
  KnownSeriesSink sink({R"(a {x="}\"}"})", R"(b{x="1",x="2"})"});
  const std::string body = "a {x=\"}\\\"}\"} 1\nc{y=\"2\"} 2 7\nd 3\nb{x=\"1\",x=\"2\"} 4\n";
  ASSERT_TRUE(Parse(body, kText, sink).has_value());
  EXPECT_THAT(sink.events, ElementsAre("a 1", "c{y=\"2\"} 2 @7", "d 3", "b 4"));
  EXPECT_THAT(sink.series, ElementsAre(R"(a {x="}\"}"})", R"(c{y="2"})", "d", R"(b{x="1",x="2"})"));
  // Asked only for lines with a label set, with the text up to its `}`.
  EXPECT_THAT(sink.asked, ElementsAre(R"(a {x="}\"}"})", R"(c{y="2"})", R"(b{x="1",x="2"})"));

  KnownSeriesSink unknown({});
  auto result = Parse("b{x=\"1\",x=\"2\"} 4\n", kText, unknown);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "line 1: duplicate label name \"x\"");
}

TEST(KnownSeries, ValueAndTimestampAreStillChecked) {
  KnownSeriesSink sink({R"(a{x="1"})"});
  auto result = Parse("a{x=\"1\"} 1\na{x=\"1\"} oops\n", kText, sink);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "line 2: invalid value \"oops\"");
  // No `}` outside quotes: not asked, and parsed (and rejected) as usual.
  KnownSeriesSink open({R"(a{x="1"})"});
  result = Parse("a{x=\"1\" 1\n", kText, open);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "line 1: expected \",\" or \"}\" after label value, got \"1\"");
  EXPECT_THAT(open.asked, ::testing::IsEmpty());
}

struct ErrorCase {
  std::string body;
  std::string error;
};

// Names the failing case by its body in test output.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << ::testing::PrintToString(c.body); }

class TextFormatErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(TextFormatErrors, ReportsLineAndReason) {
  EXPECT_EQ(ParseError(GetParam().body, kText), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, TextFormatErrors,
    ::testing::Values(
        ErrorCase{"a 1\na{b=\"c\"\n",
                  "line 2: expected \",\" or \"}\" after label value, got end of line"},
        ErrorCase{"a{=\"c\"} 1", "line 1: expected label name, got \"=\""},
        ErrorCase{"a{b\"c\"} 1", "line 1: expected \"=\" after label name, got \"\\\"\""},
        ErrorCase{"a{b=c} 1", "line 1: expected quoted label value, got \"c\""},
        ErrorCase{"a{b=\"c} 1\n", "line 1: unterminated label value"},
        ErrorCase{"a{b=\"c\\", "line 1: unterminated label value"},
        ErrorCase{"a{b=\"c\" d=\"e\"} 1",
                  "line 1: expected \",\" or \"}\" after label value, got \"d\""},
        ErrorCase{"a{,} 1", "line 1: expected label name, got \",\""},
        ErrorCase{"a{b=\"c\",,} 1", "line 1: expected label name, got \",\""},
        ErrorCase{"\n\na 1 2 3\n", "line 3: expected next entry after timestamp, got \"3\""},
        ErrorCase{"a abc", "line 1: invalid value \"abc\""},
        ErrorCase{"a 0x1p3", "line 1: invalid value \"0x1p3\""},
        ErrorCase{"a 1_000", "line 1: invalid value \"1_000\""},
        ErrorCase{"a +NaN", "line 1: invalid value \"+NaN\""},
        ErrorCase{"a 1e400", "line 1: invalid value \"1e400\""},
        ErrorCase{"a 1 1.5", "line 1: invalid timestamp \"1.5\""},
        ErrorCase{"a 1 9223372036854775808", "line 1: invalid timestamp \"9223372036854775808\""},
        ErrorCase{"a", "line 1: expected value after metric, got end of line"},
        ErrorCase{"a{b=\"c\"}1", "line 1: expected value after metric, got \"1\""},
        ErrorCase{"a-b 1", "line 1: expected value after metric, got \"-\""},
        ErrorCase{"0a 1", "line 1: expected metric name, got \"0a\""},
        ErrorCase{"{b=\"c\"} 1", "line 1: expected metric name, got \"{\""},
        ErrorCase{"a{b=\"c\",b=\"d\"} 1", "line 1: duplicate label name \"b\""},
        ErrorCase{"a{__name__=\"b\"} 1", "line 1: duplicate label name \"__name__\""},
        ErrorCase{"a{b=\"\xff\"} 1", "line 1: invalid UTF-8 label value \"\\xff\""},
        ErrorCase{"a{b=\"\xC0\xAF\"} 1", "line 1: invalid UTF-8 label value \"\\xc0\\xaf\""},
        ErrorCase{"# TYPE a counter\n# TYPE a gauge\n",
                  "line 2: second TYPE line for metric name \"a\", or TYPE reported after samples"},
        ErrorCase{"a 1\n# TYPE a counter\n",
                  "line 2: second TYPE line for metric name \"a\", or TYPE reported after samples"},
        ErrorCase{"# TYPE h histogram\nh_sum 1\n# TYPE h summary\n",
                  "line 3: second TYPE line for metric name \"h\", or TYPE reported after samples"},
        ErrorCase{"# HELP a x\n# HELP a y\n", "line 2: second HELP line for metric name \"a\""},
        ErrorCase{"# TYPE a gaugehistogram", "line 1: invalid metric type \"gaugehistogram\""},
        ErrorCase{"# TYPE a Counter", "line 1: invalid metric type \"Counter\""},
        ErrorCase{"# TYPE a", "line 1: expected metric type after metric name, got end of line"},
        ErrorCase{"# HELP 1a x", "line 1: invalid metric name \"1a\" in HELP line"},
        ErrorCase{"# TYPE a-b counter", "line 1: invalid metric name \"a-b\" in TYPE line"}));

TEST(OpenMetrics, AllMetricTypesWithUnitsExemplarsAndCreated) {
  const std::string body =
      "# TYPE foo counter\n"
      "# HELP foo Counter with \\\"quotes\\\"\n"
      "foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n"
      "foo_created 1520872607.123\n"
      "foo_total{a=\"b\"} 17.0 1520879607.789 # {id=\"counter-test\"} 5 1520879607.7\n"
      "# TYPE g_bytes gauge\n"
      "# UNIT g_bytes bytes\n"
      "g_bytes 1e3\n"
      "# TYPE hh histogram\n"
      "hh_bucket{le=\"1\"} 0\n"
      "hh_bucket{le=\"+Inf\"} 1 # {id=\"histogram-bucket-test\",xx=\"yy\"} 4 123.123\n"
      "hh_count 1\n"
      "hh_sum 0.5\n"
      "hh_created 1520872607\n"
      "# TYPE ggh gaugehistogram\n"
      "ggh_bucket{le=\"+Inf\"} 1 # {id=\"gaugehistogram-bucket-test\"} 4\n"
      "ggh_gcount 1\n"
      "ggh_gsum 2\n"
      "# TYPE smr_seconds summary\n"
      "smr_seconds{quantile=\"0.5\"} 0.1\n"
      "smr_seconds_count 2.0\n"
      "smr_seconds_sum 42.0\n"
      "# TYPE ii info\n"
      "ii_info{foo=\"bar\"} 1\n"
      "# TYPE ss stateset\n"
      "ss{ss=\"foo\"} 1\n"
      "ss{ss=\"bar\"} 0\n"
      "# TYPE un unknown\n"
      "un 1 -1.5\n"
      "_metric_starting_with_underscore 1\n"
      "# EOF\n";
  RecordingSink sink;
  auto stats = Parse(body, kOM, sink);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(*stats, (ParseStats{.lines = 31, .samples = 20, .metadata = 10, .exemplars = 4}));
  EXPECT_THAT(
      sink.events,
      ElementsAre(
          "TYPE foo counter", "HELP foo \"Counter with \\\"quotes\\\"\"",
          "foo_total 17 @1520879607789 # {id=\"counter-test\"} 5 (counter foo)",
          "foo_created 1520872607.123 (counter foo)",
          "foo_total{a=\"b\"} 17 @1520879607789 # {id=\"counter-test\"} 5 @1520879607700 "
          "(counter foo)",
          "TYPE g_bytes gauge", "UNIT g_bytes \"bytes\"", "g_bytes 1000 (gauge g_bytes)",
          "TYPE hh histogram", "hh_bucket{le=\"1\"} 0 (histogram hh)",
          "hh_bucket{le=\"+Inf\"} 1 # {id=\"histogram-bucket-test\",xx=\"yy\"} 4 @123123 "
          "(histogram hh)",
          "hh_count 1 (histogram hh)", "hh_sum 0.5 (histogram hh)",
          "hh_created 1520872607 (histogram hh)", "TYPE ggh gaugehistogram",
          "ggh_bucket{le=\"+Inf\"} 1 # {id=\"gaugehistogram-bucket-test\"} 4 (gaugehistogram "
          "ggh)",
          "ggh_gcount 1 (gaugehistogram ggh)", "ggh_gsum 2 (gaugehistogram ggh)",
          "TYPE smr_seconds summary", "smr_seconds{quantile=\"0.5\"} 0.1 (summary smr_seconds)",
          "smr_seconds_count 2 (summary smr_seconds)", "smr_seconds_sum 42 (summary smr_seconds)",
          "TYPE ii info", "ii_info{foo=\"bar\"} 1 (info ii)", "TYPE ss stateset",
          "ss{ss=\"foo\"} 1 (stateset ss)", "ss{ss=\"bar\"} 0 (stateset ss)", "TYPE un unknown",
          "un 1 @-1500", "_metric_starting_with_underscore 1"));
}

// prometheus/model/textparse/openmetricsparse_test.go: metadata edge cases.
TEST(OpenMetrics, PrometheusMetadataTestdata) {
  EXPECT_THAT(
      ParseOk("# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n"
              "# TYPE go_gc_duration_seconds summary\n"
              "# UNIT go_gc_duration_seconds seconds\n"
              "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05\n"
              "# HELP nohelp1 \n"
              "# HELP help2 escape \\ \\n \\\\ \\\" \\x chars\n"
              "# UNIT nounit \n"
              "go_goroutines 33 123.123\n"
              "testmetric{label=\"\\\"bar\\\"\"} 1\n"
              "# EOF",
              kOM),
      ElementsAre("HELP go_gc_duration_seconds \"A summary of the GC invocation "
                  "durations.\"",
                  "TYPE go_gc_duration_seconds summary", "UNIT go_gc_duration_seconds \"seconds\"",
                  "go_gc_duration_seconds{quantile=\"0\"} 4.9351e-05 (summary "
                  "go_gc_duration_seconds)",
                  "HELP nohelp1 \"\"", "HELP help2 \"escape \\\\ \\n \\\\ \\\" \\\\x chars\"",
                  "UNIT nounit \"\"", "go_goroutines 33 @123123",
                  "testmetric{label=\"\\\"bar\\\"\"} 1"));
}

TEST(OpenMetrics, EofWithoutNewlineAndEmptyBody) {
  EXPECT_THAT(ParseOk("a 1\n# EOF", kOM), ElementsAre("a 1"));
  EXPECT_THAT(ParseOk("# EOF\n", kOM), ElementsAre());
}

TEST(OpenMetrics, SinkErrorStopsTheParse) {
  struct FailingSink : SampleSink {
    util::Result<void> OnSample(const ParsedSample&) override {
      if (++calls == 2) return util::Fail("enough");
      return {};
    }
    int calls = 0;
  } sink;
  auto result = Parse("a 1\nb 2\nc 3\n# EOF\n", kOM, sink);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "enough");
  EXPECT_EQ(sink.calls, 2);
}

class OpenMetricsErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(OpenMetricsErrors, ReportsLineAndReason) {
  EXPECT_EQ(ParseError(GetParam().body, kOM), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, OpenMetricsErrors,
    ::testing::Values(
        ErrorCase{"", "line 1: data does not end with # EOF"},
        ErrorCase{"a 1\n", "line 2: data does not end with # EOF"},
        ErrorCase{"a 1\n# EOF\na 2\n", "line 3: unexpected data after # EOF"},
        ErrorCase{"# EOF\n\n", "line 2: unexpected data after # EOF"},
        ErrorCase{"# EOF \n", "line 1: expected end of line after # EOF, got \" \""},
        ErrorCase{"a  1\n# EOF\n", "line 1: expected value after metric, got \" \""},
        ErrorCase{"a\t1\n# EOF\n", "line 1: expected value after metric, got \"\\t\""},
        ErrorCase{"a 1\n\n# EOF\n", "line 2: unexpected empty line"},
        ErrorCase{" a 1\n# EOF\n", "line 1: expected metric name, got \" \""},
        ErrorCase{"# foo\n# EOF\n",
                  "line 1: expected HELP, TYPE, UNIT or EOF after \"# \", got \"foo\""},
        ErrorCase{"#TYPE a counter\n# EOF\n", "line 1: expected \" \" after \"#\", got \"TYPE\""},
        ErrorCase{"a{b = \"c\"} 1\n# EOF\n", "line 1: expected \"=\" after label name, got \" \""},
        ErrorCase{"a{ b=\"c\"} 1\n# EOF\n", "line 1: expected label name, got \" \""},
        ErrorCase{"a 1 abc\n# EOF\n", "line 1: invalid timestamp \"abc\""},
        ErrorCase{"a 1 NaN\n# EOF\n", "line 1: invalid timestamp \"NaN\""},
        ErrorCase{"a 1 \n# EOF\n", "line 1: expected timestamp or # symbol, got end of line"},
        ErrorCase{"a 1 1 1\n# EOF\n", "line 1: expected next entry after timestamp, got \"1\""},
        ErrorCase{"a 1 # {id=\"x\"}\n# EOF\n",
                  "line 1: expected value after exemplar labels, got end of line"},
        ErrorCase{"a 1 #{id=\"x\"} 1\n# EOF\n",
                  "line 1: expected exemplar labels after \"#\", got \"{\""},
        ErrorCase{"a 1 # id 1\n# EOF\n",
                  "line 1: expected exemplar labels after \"#\", got \"id\""},
        ErrorCase{"a 1 # {id=\"x\"} x\n# EOF\n", "line 1: invalid exemplar value \"x\""},
        ErrorCase{"a 1 # {id=\"x\"} 1 y\n# EOF\n", "line 1: invalid exemplar timestamp \"y\""},
        ErrorCase{"a 1 # {id=\"x\"} 1 1 x\n# EOF\n",
                  "line 1: expected end of line after exemplar, got \" \""},
        ErrorCase{"a 1 # {id=\"x\",id=\"y\"} 1\n# EOF\n", "line 1: duplicate label name \"id\""},
        ErrorCase{"# TYPE a untyped\n# EOF\n", "line 1: invalid metric type \"untyped\""},
        ErrorCase{"# UNIT a_seconds bytes\n# EOF\n",
                  "line 1: unit \"bytes\" not a suffix of metric \"a_seconds\""},
        ErrorCase{"# UNIT a_seconds seconds\n# UNIT a_seconds seconds\n# EOF\n",
                  "line 2: second UNIT line for metric name \"a_seconds\""},
        ErrorCase{"# TYPE foo counter\nfoo_total 1\n# TYPE foo counter\n# EOF\n",
                  "line 3: second TYPE line for metric name \"foo\", or TYPE reported after "
                  "samples"},
        ErrorCase{"# HELP a\tx\n# EOF\n", "line 1: expected \" \" after metric name, got \"\\t\""},
        ErrorCase{"# HELP a:b.c x\n# EOF\n",
                  "line 1: invalid metric name \"a:b.c\" in HELP line"}));

}  // namespace
}  // namespace vigil::scrape
