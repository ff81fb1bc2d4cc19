#include "daemon/template/template.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace vigil::tmpl {
namespace {

using model::Labels;

constexpr double kInf = std::numeric_limits<double>::infinity();

QueryFunc Returns(std::vector<QueryResult> results) {
  return
      [results](const std::string&) -> util::Result<std::vector<QueryResult>> { return results; };
}

// Parses and executes `text` as template "test" (as Prometheus's
// template_test.go does); an error comes back as "ERROR: <message>".
std::string Expand(std::string_view text, const AlertTemplateData& data = {},
                   const QueryFunc& query = {}) {
  auto t = Template::Parse("test", text);
  if (!t) return "ERROR: " + t.error().message;
  auto out = t->Execute(data, query);
  if (!out) return "ERROR: " + out.error().message;
  return *out;
}

AlertTemplateData Data() {
  AlertTemplateData d;
  d.labels = Labels{{"instance", "host1:9100"},
                    {"job", "node"},
                    {"namespace", "prod"},
                    {"pod", "api-7"},
                    {"container", "app"}};
  d.value = 0.12345;
  d.external_labels = Labels{{"cluster", "eu1"}};
  d.external_url = "http://testhost:9090/path/prefix";
  return d;
}

std::string Alert(std::string_view text, const AlertTemplateData& data = Data(),
                  const QueryFunc& q = {}, bool* failed = nullptr) {
  return ExpandAlertTemplate("HighErrorRate", text, data, q, failed);
}

// ---------------------------------------------- Prometheus template_test.go --

TEST(PrometheusTemplateTest, PlainAndConstants) {
  EXPECT_EQ(Expand("plain text"), "plain text");
  EXPECT_EQ(Expand("{{ 1 }}"), "1");
  EXPECT_EQ(Expand("{{ \"<b>\" }}"), "<b>");
  EXPECT_EQ(Expand("{{ \"<b>\" | safeHtml }}"), "<b>");
}

TEST(PrometheusTemplateTest, NonAsciiSpaceIsRejected) {
  EXPECT_EQ(Expand("{{\xc2\xa0}}"),
            "ERROR: template: test:1: unrecognized character in action: U+00A0");
}

TEST(PrometheusTemplateTest, DefineTemplateWithArgs) {
  EXPECT_EQ(Expand("{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}"),
            "1 2");
}

TEST(PrometheusTemplateTest, QueryFunctions) {
  auto q = Returns({{Labels{{"__name__", "metric"}, {"instance", "a"}}, 11}});
  EXPECT_EQ(Expand("{{ query \"1.5\" | first | value }}", {}, Returns({{Labels{}, 1.5}})), "1.5");
  EXPECT_EQ(Expand("{{ query \"metric{instance='a'}\" | first | value }}", {}, q), "11");
  EXPECT_EQ(Expand("{{ query \"metric{instance='a'}\" | first | label \"instance\" }}", {}, q),
            "a");
  EXPECT_EQ(Expand("{{ query \"metric{instance='a'}\" | first | label \"foo\" }}", {}, q), "");
  EXPECT_EQ(Expand("{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}", {}, q), "");
  EXPECT_EQ(Expand("{{ query \"metric{__value__='a'}\" | first | strvalue }}", {},
                   Returns({{Labels{{"__name__", "metric"}, {"__value__", "a"}}, 11}})),
            "a");
}

TEST(PrometheusTemplateTest, RangeOverQuerySortedByLabel) {
  auto q = Returns({{Labels{{"__name__", "metric"}, {"instance", "b"}}, 21},
                    {Labels{{"__name__", "metric"}, {"instance", "a"}}, 11}});
  EXPECT_EQ(Expand("{{ range query \"metric\" | sortByLabel \"instance\" "
                   "}}{{.Labels.instance}}:{{.Value}}: {{end}}",
                   {}, q),
            "a:11: b:21: ");
}

TEST(PrometheusTemplateTest, StripPortAndDomain) {
  EXPECT_EQ(Expand("{{ \"foo.example.com\" | stripPort }}"), "foo.example.com");
  EXPECT_EQ(Expand("{{ \"foo.example.com:12345\" | stripPort }}"), "foo.example.com");
  EXPECT_EQ(Expand("{{ \"192.0.2.1\" | stripPort }}"), "192.0.2.1");
  EXPECT_EQ(Expand("{{ \"192.0.2.1:12345\" | stripPort }}"), "192.0.2.1");
  EXPECT_EQ(Expand("{{ \"2001:0DB8::1\" | stripPort }}"), "2001:0DB8::1");
  EXPECT_EQ(Expand("{{ \"[2001:0DB8::1]:12345\" | stripPort }}"), "2001:0DB8::1");
  EXPECT_EQ(Expand("{{ \"[2001:0DB8::1]::12345\" | stripPort }}"), "[2001:0DB8::1]::12345");
  EXPECT_EQ(Expand("{{ \"foo.example.com\" | stripDomain }}"), "foo");
  EXPECT_EQ(Expand("{{ \"foo.example.com:12345\" | stripDomain }}"), "foo:12345");
  EXPECT_EQ(Expand("{{ \"192.0.2.1\" | stripDomain }}"), "192.0.2.1");
  EXPECT_EQ(Expand("{{ \"192.0.2.1:12345\" | stripDomain }}"), "192.0.2.1:12345");
  EXPECT_EQ(Expand("{{ \"2001:0DB8::1\" | stripDomain }}"), "2001:0DB8::1");
  EXPECT_EQ(Expand("{{ \"[2001:0DB8::1]:12345\" | stripDomain }}"), "[2001:0DB8::1]:12345");
  EXPECT_EQ(Expand("{{ \"[2001:0DB8::1]::12345\" | stripDomain }}"), "[2001:0DB8::1]::12345");
}

TEST(PrometheusTemplateTest, MissingValue) {
  // The alert data is a struct: an unknown field is an error, a missing map key "".
  EXPECT_EQ(Expand("{{ .Labels.foo }}"), "");
  EXPECT_EQ(Expand("{{ (args).foo }}"), "<no value>");
}

TEST(PrometheusTemplateTest, ParseAndExecErrors) {
  EXPECT_EQ(Expand("{{"), "ERROR: template: test:1: unclosed action");
  EXPECT_EQ(Expand("{{ query \"missing\" | first }}", {}, Returns({})),
            "ERROR: template: test:1:21: executing \"test\" at <first>: error calling first: "
            "first() called on "
            "vector with no elements");
  EXPECT_EQ(Expand("{{ (query \"missing\").banana }}", {}, Returns({})),
            "ERROR: template: test:1:10: executing \"test\" at <\"missing\">: can't evaluate field "
            "banana in type "
            "template.queryResult");
  EXPECT_EQ(Expand("{{ humanize \"one\" }}"),
            "ERROR: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling "
            "humanize: "
            "strconv.ParseFloat: parsing \"one\": invalid syntax");
  EXPECT_EQ(Expand("{{ humanize1024 \"one\" }}"),
            "ERROR: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error "
            "calling humanize1024: "
            "strconv.ParseFloat: parsing \"one\": invalid syntax");
  EXPECT_EQ(
      Expand("{{ humanizeDuration \"one\" }}"),
      "ERROR: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling "
      "humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax");
  EXPECT_EQ(Expand("{{ \"one\" | humanizePercentage }}"),
            "ERROR: template: test:1:11: executing \"test\" at <humanizePercentage>: error calling "
            "humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax");
}

TEST(PrometheusTemplateTest, RegexFunctions) {
  EXPECT_EQ(Expand("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}"), "xa");
  EXPECT_EQ(Expand("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}"), "true false");
}

TEST(PrometheusTemplateTest, Humanize) {
  EXPECT_EQ(
      Expand("{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:{{ humanize .12 }}"),
      "0:1:1.235M:120m");
  EXPECT_EQ(Expand("{{ humanize \"0.0\" }}:{{ humanize \"1.0\" }}:{{ humanize \"1234567.0\" }}:{{ "
                   "humanize \".12\" }}"),
            "0:1:1.235M:120m");
  EXPECT_EQ(Expand("{{ humanize 0 }}:{{ humanize -1 }}:{{ humanize 1 }}:{{ humanize 1234567 }}:"
                   "{{ humanize 9223372036854775807 }}"),
            "0:-1:1:1.235M:9.223E");
  EXPECT_EQ(Expand("{{ humanize 0.00123 }}"), "1.23m");
}

TEST(PrometheusTemplateTest, Humanize1024) {
  EXPECT_EQ(Expand("{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 1048576.0 }}:{{ "
                   "humanize1024 .12 }}"),
            "0:1:1Mi:0.12");
  EXPECT_EQ(Expand("{{ humanize1024 0 }}:{{ humanize1024 -1 }}:{{ humanize1024 1 }}:{{ "
                   "humanize1024 1234567 }}:"
                   "{{ humanize1024 9223372036854775807 }}"),
            "0:-1:1:1.177Mi:8Ei");
}

TEST(PrometheusTemplateTest, HumanizeDuration) {
  EXPECT_EQ(
      Expand(
          "{{ humanizeDuration 0 }}:{{ humanizeDuration 1 }}:{{ humanizeDuration 60 }}:"
          "{{ humanizeDuration 3600 }}:{{ humanizeDuration 86400 }}:{{ humanizeDuration 90000 }}:"
          "{{ humanizeDuration -183845 }}:{{ humanizeDuration 899.99 }}"),
      "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s");
  EXPECT_EQ(
      Expand(
          "{{ humanizeDuration .1 }}:{{ humanizeDuration .0001 }}:{{ humanizeDuration .12345 }}:"
          "{{ humanizeDuration 60.1 }}:{{ humanizeDuration 60.5 }}:{{ humanizeDuration 1.2345 }}:"
          "{{ humanizeDuration 12.345 }}"),
      "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s");
  EXPECT_EQ(Expand("{{ humanizeDuration \".12345\" }}:{{ humanizeDuration \"86400\" }}:{{ "
                   "humanizeDuration 1234567 }}"),
            "123.5ms:1d 0h 0m 0s:14d 6h 56m 7s");
  EXPECT_EQ(Expand("{{ humanizeDuration 3661 }}"), "1h 1m 1s");
}

TEST(PrometheusTemplateTest, HumanizeInfAndNaN) {
  AlertTemplateData d;
  for (auto [v, want] :
       std::vector<std::pair<double, std::string>>{{kInf, "+Inf:+Inf:+Inf:+Inf"},
                                                   {-kInf, "-Inf:-Inf:-Inf:-Inf"},
                                                   {std::nan(""), "NaN:NaN:NaN:NaN"}}) {
    d.value = v;
    EXPECT_EQ(
        Expand("{{ humanize .Value }}:{{ humanize1024 .Value }}:{{ humanizeDuration .Value }}:"
               "{{humanizeTimestamp .Value}}",
               d),
        want);
  }
  EXPECT_EQ(
      Expand("{{ humanize \"+Inf\" }}:{{ humanize1024 \"-Inf\" }}:{{ humanizeDuration \"NaN\" }}"),
      "+Inf:-Inf:NaN");
}

TEST(PrometheusTemplateTest, HumanizePercentage) {
  EXPECT_EQ(Expand("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
                   "{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"),
            "-22.22%:0%:12.35%:123.5%");
  EXPECT_EQ(Expand("{{ 0 | humanizePercentage }}:{{ -1 | humanizePercentage }}:{{ 1234567 | "
                   "humanizePercentage }}:"
                   "{{ 9223372036854775807 | humanizePercentage }}"),
            "0%:-100%:1.235e+08%:9.223e+20%");
  EXPECT_EQ(Expand("{{ \"0.1234567\" | humanizePercentage }}"), "12.35%");
  EXPECT_EQ(Expand("{{ 0.1234 | humanizePercentage }}"), "12.34%");
}

TEST(PrometheusTemplateTest, HumanizeTimestamp) {
  EXPECT_EQ(
      Expand("{{ 0 | humanizeTimestamp }}:{{ -1 | humanizeTimestamp }}:{{ 1234567 | "
             "humanizeTimestamp }}:"
             "{{ 9223372036 | humanizeTimestamp }}"),
      "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:"
      "2262-04-11 23:47:16 +0000 UTC");
  EXPECT_EQ(Expand("{{ 1435065584.128 | humanizeTimestamp }}"),
            "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(Expand("{{ \"1435065584.128\" | humanizeTimestamp }}"),
            "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(Expand("{{ humanizeTimestamp -9223372036854775808 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <humanizeTimestamp "
            "-9223372036854775808>: error calling "
            "humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds "
            "timestamp since it "
            "overflows int64");
}

TEST(PrometheusTemplateTest, StringFunctions) {
  EXPECT_EQ(Expand("{{ \"aa bb CC\" | title }}"), "Aa Bb CC");
  EXPECT_EQ(Expand("{{ \"aa bb CC\" | toUpper }}"), "AA BB CC");
  EXPECT_EQ(Expand("{{ \"aA bB CC\" | toLower }}"), "aa bb cc");
  EXPECT_EQ(Expand("{{ \"z\u00fcrich \u0142\u00f3d\u017a stra\u00dfe \u03b1\u03c2 "
                   "\u043c\u0456\u0440\" | toUpper }}"),
            "Z\u00dcRICH \u0141\u00d3D\u0179 STRA\u00dfE \u0391\u03a3 \u041c\u0406\u0420");
  EXPECT_EQ(
      Expand("{{ \"Z\u00dcRICH \u0141\u00d3D\u0179 \u0391\u0392 \u041c\u0406\u0420\" | toLower }}"),
      "z\u00fcrich \u0142\u00f3d\u017a \u03b1\u03b2 \u043c\u0456\u0440");
  EXPECT_EQ(Expand("{{ graphLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=0");
  EXPECT_EQ(Expand("{{ tableLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=1");
  EXPECT_EQ(Expand("{{ graphLink \"rate(x{a=\\\"b\\\"}[5m]) > 1\" }}"),
            "/graph?g0.expr=rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29+%3E+1&g0.tab=0");
}

TEST(PrometheusTemplateTest, CaseMappingOfInvalidUtf8) {
  EXPECT_EQ(Expand("{{ \"a\\xff\u4e16\" | toUpper }}"), "A\uFFFD\u4e16");
}

TEST(PrometheusTemplateTest, ExternalURLAndPathPrefix) {
  AlertTemplateData d;
  d.external_url = "http://testhost:9090/path/prefix";
  EXPECT_EQ(Expand("{{ pathPrefix }}", d), "/path/prefix");
  EXPECT_EQ(Expand("{{ externalURL }}", d), "http://testhost:9090/path/prefix");
}

TEST(PrometheusTemplateTest, ParseDuration) {
  EXPECT_EQ(Expand("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}"), "3720.01");
  EXPECT_EQ(Expand("{{ parseDuration \"1x\" }}"),
            "ERROR: template: test:1:3: executing \"test\" at <parseDuration \"1x\">: error "
            "calling parseDuration: "
            "not a valid duration string: \"1x\"");
}

TEST(PrometheusTemplateTest, ToTime) {
  EXPECT_EQ(Expand("{{ (1435065584.128 | toTime).Format \"2006\" }}"), "2015");
  EXPECT_EQ(Expand("{{ (\"1435065584.128\" | toTime).Format \"2006\" }}"), "2015");
  EXPECT_EQ(Expand("{{ 1435065584.128 | toTime }}"), "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(Expand("{{ (toTime 1435065584.128).Format \"Mon Jan _2 15:04:05.000 MST 2006 -07:00 "
                   "Z07:00 3PM 002\" }}"),
            "Tue Jun 23 13:19:44.128 UTC 2015 +00:00 Z 1PM 174");
  EXPECT_EQ(
      Expand(
          "{{ (toTime 1657155181).Format \"January 2, 2006 03:04:05.999\" }}|{{ (toTime 1).Unix }}|"
          "{{ (toTime 1.5).UnixMilli }}|{{ (toTime 1435065584).UTC.Year }}"),
      "July 7, 2022 12:53:01|1|1500|2015");
  EXPECT_EQ(Expand("{{ (toTime 1).Format }}"),
            "ERROR: template: test:1:11: executing \"test\" at <1>: wrong number of args for "
            "Format: want 1 got 0");
  EXPECT_EQ(Expand("{{ \"NaN\" | toTime }}"),
            "ERROR: template: test:1:11: executing \"test\" at <toTime>: error calling toTime: "
            "value is NaN or Inf");
}

// ------------------------------------------------------ Go text/template --

TEST(GoTemplateTest, TrimMarkersAndComments) {
  EXPECT_EQ(Expand("a  {{- 1 -}}  b"), "a1b");
  EXPECT_EQ(Expand("a \n {{- /* c */ -}} \n b"), "ab");
  EXPECT_EQ(Expand("x{{/* a comment */}}y"), "xy");
  EXPECT_EQ(Expand("{{- 3 }}"), "3");
  EXPECT_EQ(Expand("{{-3}}"), "-3");
  EXPECT_EQ(Expand("{{/* x"), "ERROR: template: test:1: unclosed comment");
  EXPECT_EQ(Expand("{{/* x */ 1}}"),
            "ERROR: template: test:1: comment ends before closing delimiter");
}

TEST(GoTemplateTest, IfElseWithRange) {
  AlertTemplateData d = Data();
  EXPECT_EQ(Expand("{{ if .Labels.job }}yes{{ else }}no{{ end }}", d), "yes");
  EXPECT_EQ(Expand("{{ if .Labels.nope }}yes{{ else if .Labels.pod }}pod{{ else }}no{{ end }}", d),
            "pod");
  EXPECT_EQ(Expand("{{ with .Labels.pod }}<{{ . }}>{{ else }}none{{ end }}", d), "<api-7>");
  EXPECT_EQ(
      Expand("{{ with .Labels.nope }}<{{ . }}>{{ else with .Labels.job }}[{{.}}]{{ end }}", d),
      "[node]");
  EXPECT_EQ(Expand("{{ range $k, $v := .ExternalLabels }}{{ $k }}={{ $v }};{{ end }}", d),
            "cluster=eu1;");
  EXPECT_EQ(Expand("{{ range .Labels }}{{ . }},{{ end }}", d), "app,host1:9100,node,prod,api-7,");
  EXPECT_EQ(Expand("{{ range $i := 3 }}{{ $i }}{{ end }}"), "012");
  EXPECT_EQ(Expand("{{ range $i := 0 }}{{ $i }}{{ else }}empty{{ end }}"), "empty");
  EXPECT_EQ(Expand("{{ range $i, $e := 5 }}{{ end }}"),
            "ERROR: template: test:1:19: executing \"test\" at <5>: can't use 5 to iterate over "
            "more than one "
            "variable");
  EXPECT_EQ(Expand("{{ range $i := 10 }}{{ if eq $i 2 }}{{ continue }}{{ end }}{{ if eq $i 4 }}{{ "
                   "break }}{{ end }}"
                   "{{ $i }}{{ end }}"),
            "013");
  EXPECT_EQ(Expand("{{ break }}"), "ERROR: template: test:1: {{break}} outside {{range}}");
  EXPECT_EQ(Expand("{{ range 1.5 }}{{ end }}"),
            "ERROR: template: test:1:9: executing \"test\" at <1.5>: range can't iterate over 1.5");
}

TEST(GoTemplateTest, Variables) {
  AlertTemplateData d = Data();
  EXPECT_EQ(Expand("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}"), "2");
  EXPECT_EQ(Expand("{{ $x := .Labels }}{{ $x.job }}", d), "node");
  EXPECT_EQ(Expand("{{ with .Labels }}{{ $.Labels.pod }}{{ end }}", d), "api-7");
  EXPECT_EQ(Expand("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"),
            "ERROR: template: test:1: undefined variable \"$y\"");
  EXPECT_EQ(Expand("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"), "2");
}

TEST(GoTemplateTest, Comparisons) {
  AlertTemplateData d = Data();
  d.value = 0.7;
  EXPECT_EQ(Expand("{{ if gt .Value 0.5 }}high{{ end }}", d), "high");
  EXPECT_EQ(Expand("{{ eq .Labels.job \"node\" }} {{ eq 1 2 3 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 "
                   "}} {{ le 2 2 }} "
                   "{{ ge \"b\" \"a\" }}",
                   d),
            "true true true true true true");
  // Go's gotcha: an untyped 0 is an int, $value a float64.
  EXPECT_EQ(Expand("{{ if gt .Value 0 }}x{{ end }}", d),
            "ERROR: template: test:1:6: executing \"test\" at <gt .Value 0>: error calling gt: "
            "incompatible types "
            "for comparison");
  EXPECT_EQ(Expand("{{ lt true false }}"),
            "ERROR: template: test:1:3: executing \"test\" at <lt true false>: error calling lt: "
            "invalid type for "
            "comparison");
  EXPECT_EQ(Expand("{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ not 0 }} {{ and 1 2 }} {{ or 0 0 }}"),
            "0 x true 2 0");
  // and/or short-circuit: the failing call is never made.
  EXPECT_EQ(Expand("{{ or 1 (query \"x\" | first) }}", {}, Returns({})), "1");
}

TEST(GoTemplateTest, LenIndexPrint) {
  AlertTemplateData d = Data();
  EXPECT_EQ(Expand("{{ len .Labels }} {{ len \"abc\" }} {{ index .Labels \"pod\" }} {{ index "
                   ".Labels \"nope\" }}|",
                   d),
            "5 3 api-7 |");
  EXPECT_EQ(Expand("{{ index \"abc\" 1 }}"), "98");
  EXPECT_EQ(Expand("{{ index \"abc\" 5 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <index \"abc\" 5>: error calling "
            "index: index out of "
            "range: 5");
  EXPECT_EQ(Expand("{{ len 3 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <len 3>: error calling len: len of "
            "type int");
  EXPECT_EQ(Expand("{{ print 1 2 \"a\" 3 }}|{{ println \"x\" 1 }}|{{ printf \"%s-%d\" \"a\" 7 }}"),
            "1 2a3|x 1\n|a-7");
  EXPECT_EQ(Expand("{{ html \"<a href='x'>&\" }}"), "&lt;a href=&#39;x&#39;&gt;&amp;");
  EXPECT_EQ(Expand("{{ js \"it's <b>\" }}"), "it\\'s \\u003Cb\\u003E");
  EXPECT_EQ(Expand("{{ urlquery \"a b&c=d/é\" }}"), "a+b%26c%3Dd%2F%C3%A9");
}

TEST(GoTemplateTest, PrintsGoValues) {
  AlertTemplateData d;
  d.labels = Labels{{"instance", "x"}, {"job", "y"}};
  for (auto [v, want] :
       std::vector<std::pair<double, std::string>>{{1e6, "1e+06"},
                                                   {0.1, "0.1"},
                                                   {12.5, "12.5"},
                                                   {3, "3"},
                                                   {std::nan(""), "NaN"},
                                                   {kInf, "+Inf"},
                                                   {-kInf, "-Inf"},
                                                   {1.0 / 3, "0.3333333333333333"}}) {
    d.value = v;
    EXPECT_EQ(Expand("{{ .Value }}", d), want);
  }
  EXPECT_EQ(Expand("{{ .Labels }}", d), "map[instance:x job:y]");
  EXPECT_EQ(Expand("{{ query \"x\" | first }}", {}, Returns({{Labels{{"a", "b"}}, 2}})),
            "{map[a:b] 2}");
  EXPECT_EQ(Expand("{{ true }} {{ \"s\" }} {{ 1.50 }} {{ 0x10 }} {{ 'a' }} {{ 1e3 }} {{ -2 }}"),
            "true s 1.5 16 97 1000 -2");
}

TEST(GoTemplateTest, ParseErrorsReadAsGo) {
  EXPECT_EQ(Expand("{{ .Labels.x }"), "ERROR: template: test:1: unexpected \"}\" in operand");
  EXPECT_EQ(Expand("{{ end }}"), "ERROR: template: test:1: unexpected {{end}}");
  EXPECT_EQ(Expand("{{ if 1 }}x"), "ERROR: template: test:1: unexpected EOF");
  EXPECT_EQ(Expand("{{ if }}{{ end }}"), "ERROR: template: test:1: missing value for if");
  EXPECT_EQ(Expand("{{ }}"), "ERROR: template: test:1: missing value for command");
  EXPECT_EQ(Expand("{{ nosuch 1 }}"), "ERROR: template: test:1: function \"nosuch\" not defined");
  EXPECT_EQ(Expand("{{ $nope }}"), "ERROR: template: test:1: undefined variable \"$nope\"");
  EXPECT_EQ(Expand("{{ .Labels.a-b }}"), "ERROR: template: test:1: bad character U+002D '-'");
  EXPECT_EQ(Expand("a\n{{ \"x }}"), "ERROR: template: test:2: unterminated quoted string");
  EXPECT_EQ(Expand("{{ 1 | 2 }}"),
            "ERROR: template: test:1: non executable command in pipeline stage 2");
  EXPECT_EQ(Expand("{{ (1 }}"), "ERROR: template: test:1: unclosed left paren");
  EXPECT_EQ(Expand("{{ 1) }}"), "ERROR: template: test:1: unexpected right paren");
  EXPECT_EQ(Expand("{{ \"a\".x }}"),
            "ERROR: template: test:1: unexpected . after term \"\\\"a\\\"\"");
  EXPECT_EQ(Expand("{{ template \"nope\" }}"),
            "ERROR: template: test:1:12: executing \"test\" at <{{template \"nope\"}}>: template "
            "\"nope\" not "
            "defined");
  EXPECT_EQ(Expand("{{ 99999999999999999999 }}"),
            "ERROR: template: test:1: integer overflow: \"99999999999999999999\"");
  EXPECT_EQ(Expand("{{ else }}"), "ERROR: template: test:1: unexpected {{else}}");
  EXPECT_EQ(Expand("{{ if 1 }}{{ else }}{{ else }}{{ end }}"),
            "ERROR: template: test:1: expected end; found {{else}}");
  EXPECT_EQ(Expand("{{ 1 := 2 }}"), "ERROR: template: test:1: unexpected \":=\" in operand");
  EXPECT_EQ(Expand("{{ range $a, $b, $c := . }}{{ end }}"),
            "ERROR: template: test:1: too many declarations in range");
  EXPECT_EQ(Expand("{{ if 1 }}\n\n{{ x"), "ERROR: template: test:3: function \"x\" not defined");
  EXPECT_EQ(Expand("{{ 1\n\n"), "ERROR: template: test:3: unclosed action started at test:1");
  EXPECT_EQ(Expand("{{ 1\n\n+}}"), "ERROR: template: test:3: illegal number syntax: \"+\"");
  EXPECT_EQ(Expand("{{ 1\n\n3x }}"),
            "ERROR: template: test:3: bad number syntax: \"3x\" in action started at test:1");
  EXPECT_EQ(Expand("{{ \"\\q\" }}"), "ERROR: template: test:1: invalid syntax");
}

TEST(GoTemplateTest, DefinitionsAndLimits) {
  EXPECT_EQ(Expand("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}"),
            "ERROR: template: test:1: template: multiple definition of template \"a\"");
  EXPECT_EQ(Expand("{{define \"a\"}}{{end}}{{define \"a\"}}y{{end}}{{template \"a\"}}"), "y");
  EXPECT_EQ(Expand("{{define \"a\"}}[{{.}}]{{end}}{{template \"a\" \"v\"}}{{template \"a\"}}"),
            "[v][<no value>]");
  std::string deep;
  for (int i = 0; i < 101; ++i) deep += "{{if 1}}";
  EXPECT_EQ(Expand(deep), "ERROR: template: test:1: max expression depth exceeded");
  std::string ok;
  for (int i = 0; i < 50; ++i) ok += "{{if 1}}";
  ok += "x";
  for (int i = 0; i < 50; ++i) ok += "{{end}}";
  EXPECT_EQ(Expand(ok), "x");
}

TEST(GoTemplateTest, ExecErrorsReadAsGo) {
  AlertTemplateData d = Data();
  EXPECT_EQ(Expand("{{ .Nope }}", d),
            "ERROR: template: test:1:3: executing \"test\" at <.Nope>: can't evaluate field Nope "
            "in type struct { "
            "Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value "
            "interface {} }");
  EXPECT_EQ(Expand("{{ .Value | toUpper }}", d),
            "ERROR: template: test:1:12: executing \"test\" at <toUpper>: wrong type for value; "
            "expected string; "
            "got float64");
  EXPECT_EQ(Expand("{{ toUpper 1 }}"),
            "ERROR: template: test:1:11: executing \"test\" at <1>: expected string; found 1");
  EXPECT_EQ(Expand("{{ humanize 1 2 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <humanize>: wrong number of args for "
            "humanize: want 1 "
            "got 2");
  EXPECT_EQ(Expand("{{ nil }}"),
            "ERROR: template: test:1:3: executing \"test\" at <nil>: nil is not a command");
  EXPECT_EQ(Expand("{{ 1 2 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <1>: can't give argument to "
            "non-function 1");
  EXPECT_EQ(Expand("{{ query \"up\" }}", {},
                   [](const std::string&) -> util::Result<std::vector<QueryResult>> {
                     return util::Fail("query timed out");
                   }),
            "ERROR: template: test:1:3: executing \"test\" at <query \"up\">: error calling query: "
            "query timed out");
  EXPECT_EQ(Expand("{{ humanize true }}"),
            "ERROR: template: test:1:3: executing \"test\" at <humanize true>: error calling "
            "humanize: can't "
            "convert bool to float");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(\" \"\" \"x\" }}"),
            "ERROR: template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"\" \"x\">: "
            "error calling reReplaceAll: "
            "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`");
  EXPECT_EQ(Expand("{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}"),
            "ERROR: template: test:1:28: executing \"r\" at <{{template \"r\"}}>: exceeded maximum "
            "template depth "
            "(100)");
  EXPECT_EQ(
      Expand("{{ .Value.x }}|{{ $x := .Value }}{{ $x.x }}", d),
      "ERROR: template: test:1:9: executing \"test\" at <.Value.x>: can't evaluate field x in type "
      "interface {}");
  EXPECT_EQ(Expand("{{ $x := .Value }}{{ $x.x }}", d),
            "ERROR: template: test:1:23: executing \"test\" at <$x.x>: can't evaluate field x in "
            "type float64");
  EXPECT_EQ(Expand("a\n  {{ .Labels.job.x }}", d),
            "ERROR: template: test:2:12: executing \"test\" at <.Labels.job.x>: can't evaluate "
            "field x in type "
            "string");
}

TEST(GoTemplateTest, PrintfVerbsUsedInRules) {
  AlertTemplateData d;
  d.value = 1234.5678;
  EXPECT_EQ(
      Expand("{{ printf \"%.2f\" .Value }}|{{ printf \"%.0f\" .Value }}|{{ printf \"%d\" .Value }}|"
             "{{ printf \"%v\" .Value }}|{{ printf \"%g\" .Value }}|{{ printf \"%e\" .Value }}|"
             "{{ printf \"%10.1f\" .Value }}|{{ printf \"%q\" \"x\" }}|{{ printf \"%x\" 255 }}|"
             "{{ printf \"%s\" .Value }}",
             d),
      "1234.57|1235|%!d(float64=1234.5678)|1234.5678|1234.5678|1.234568e+03|    1234.6|\"x\"|ff|"
      "%!s(float64=1234.5678)");
}

TEST(GoTemplateTest, ReReplaceAllGoSemantics) {
  EXPECT_EQ(Expand("{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}"), "-b-c-");
  EXPECT_EQ(
      Expand("{{ reReplaceAll \"(?P<host>[^:]+):(\\\\d+)\" \"${host} port $2\" \"web:8080\" }}"),
      "web port 8080");
  EXPECT_EQ(Expand("{{ reReplaceAll \":.*\" \"\" \"host1:9100\" }}"), "host1");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(a)\" \"$1x\" \"a\" }}"), "");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(a)\" \"$$1\" \"a\" }}"), "$1");
}

TEST(GoTemplateTest, TitleWords) {
  EXPECT_EQ(Expand("{{ title \"foo-bar baz_qux it's\" }}"), "Foo-Bar Baz_qux It's");
}

// Go's slice builtin; texts as promtool 2.42 prints them (tests/realworld).
TEST(GoTemplateTest, SliceBuiltin) {
  EXPECT_EQ(Expand("{{ slice \"abcdef\" 1 3 }}|{{ slice \"abcdef\" 2 }}|{{ slice \"abcdef\" }}"),
            "bc|cdef|abcdef");
  QueryFunc q = Returns({{Labels{{"id", "a"}}, 1}, {Labels{{"id", "b"}}, 2}, {Labels{{"id", "c"}}, 3}});
  EXPECT_EQ(Expand("{{ range slice (query \"x\") 1 }}{{ .Labels.id }}{{ end }}|"
                   "{{ len (slice (query \"x\") 0 1 2) }}|{{ slice (query \"x\") 3 | len }}",
                   {}, q),
            "bc|1|0");
  EXPECT_EQ(Expand("{{ slice \"abc\" 2 1 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <slice \"abc\" 2 1>: error calling "
            "slice: invalid slice index: 2 > 1");
  EXPECT_EQ(Expand("{{ slice \"abc\" 0 1 2 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <slice \"abc\" 0 1 2>: error calling "
            "slice: cannot 3-index slice a string");
  EXPECT_EQ(Expand("{{ slice \"abc\" 4 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <slice \"abc\" 4>: error calling "
            "slice: index out of range: 4");
  EXPECT_EQ(Expand("{{ slice .Labels 1 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <slice .Labels 1>: error calling "
            "slice: can't slice item of type map[string]string");
  EXPECT_EQ(Expand("{{ slice nil }}"),
            "ERROR: template: test:1:3: executing \"test\" at <slice nil>: error calling slice: "
            "slice of untyped nil");
}

// A nil argument reaches the builtins (reflect.Value parameters) as Go's
// invalid value; texts as promtool 2.42 prints them (tests/realworld).
TEST(GoTemplateTest, NilArgumentsOfBuiltins) {
  EXPECT_EQ(Expand("{{ index nil 1 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <index nil 1>: error calling index: "
            "index of untyped nil");
  EXPECT_EQ(Expand("{{ lt nil 1 }}"),
            "ERROR: template: test:1:3: executing \"test\" at <lt nil 1>: error calling lt: "
            "invalid type for comparison");
  EXPECT_EQ(Expand("{{ not nil }}|{{ eq nil 1 }}|{{ ne 1 nil }}|{{ eq nil nil }}|{{ and nil 1 }}|"
                   "{{ or nil 1 }}|{{ html nil }}"),
            "true|false|true|true|<no value>|1|&lt;no value&gt;");
}

// %x/%X of floats (strconv's 'x' format); texts as promtool 2.42 prints them.
TEST(GoTemplateTest, HexFloatVerbs) {
  EXPECT_EQ(Expand("{{ printf \"%x|%X|%.2x|%x|%x|%x|%10.3x|%-12x|%+x\" 3.5 3.5 0.333333333 0.0 "
                   "-2.0 5e-324 1e300 1.5 1.0 }}"),
            "0x1.cp+01|0X1.CP+01|0x1.55p-02|0x0p+00|-0x1p+01|0x1p-1074|0x1.7e4p+996|0x1.8p+00   |"
            "+0x1p+00");
  // Precision rounds half to even, carrying into the exponent.
  // Zero padding goes before the "0x", as Go's fmt does.
  EXPECT_EQ(Expand("{{ printf \"%.0x|%.1x|%x|%x|%12x|%012x|%+012x\" 1.5 1.96875 1e-5 -0.0 2.0 2.0 "
                   "2.0 }}"),
            "0x1p+01|0x1.0p+01|0x1.4f8b588e368f1p-17|-0x0p+00|     0x1p+01|000000x1p+01|"
            "+00000x1p+01");
}

// {{block}} = {{define}} + {{template}}; errors as promtool 2.42 prints them.
TEST(GoTemplateTest, Block) {
  AlertTemplateData d;
  d.labels = Labels{{"id", "x"}};
  EXPECT_EQ(Expand("{{ block \"b\" . }}[{{ .Labels.id }}]{{ end }}|{{ template \"b\" . }}", d),
            "[x]|[x]");
  EXPECT_EQ(Expand("{{ block \"b\" }}x{{ end }}"),
            "ERROR: template: test:1: missing value for block clause");
  EXPECT_EQ(Expand("{{ define \"b\" }}X{{ end }}{{ block \"b\" . }}Y{{ end }}"),
            "ERROR: template: test:1: template: multiple definition of template \"b\"");
  EXPECT_EQ(Expand("{{ block \"b\" . }}x{{ else }}y{{ end }}"),
            "ERROR: template: test:1: unexpected {{else}} in block clause");
  // The body is a template of its own: no outer variables, not inside a range.
  EXPECT_EQ(Expand("{{ $x := 1 }}{{ block \"b\" . }}{{ $x }}{{ end }}"),
            "ERROR: template: test:1: undefined variable \"$x\"");
  EXPECT_EQ(Expand("{{ range .Labels }}{{ block \"b\" . }}{{ break }}{{ end }}{{ end }}"),
            "ERROR: template: test:1: {{break}} outside {{range}}");
}

// `{{else with}}` is Go 1.23 syntax: Prometheus 2.42 (Go 1.19) rejects it.
TEST(GoTemplateTest, ElseWithIsNotPrometheus2Syntax) {
  const std::string text = "{{ with 0 }}a{{ else with 2 }}{{ . }}{{ end }}";
  auto v2 = Template::Parse("test", text, Dialect::kPrometheus2);
  ASSERT_FALSE(v2);
  EXPECT_EQ(v2.error().message, "template: test:1: unexpected <with> in else");
  EXPECT_EQ(Expand(text), "2");
  AlertTemplateData data;
  data.dialect = Dialect::kPrometheus2;
  EXPECT_EQ(ExpandAlertTemplate("r", "{{ if 1 }}{{ else with 2 }}{{ end }}", data, {}),
            "<error expanding template: error parsing template __alert_r: template: __alert_r:1: "
            "unexpected <with> in else>");
  // `else if` is older and stays valid.
  auto else_if =
      Template::Parse("test", "{{ if 0 }}a{{ else if 1 }}b{{ end }}", Dialect::kPrometheus2);
  EXPECT_TRUE(else_if);
}

// Ranging over an integer is Go 1.22 (Prometheus 3.x); the alert data's Value
// is float64 in 2.x. Texts as promtool 2.42 prints them (tests/realworld).
TEST(GoTemplateTest, Prometheus2RangeAndDataType) {
  AlertTemplateData v2;
  v2.dialect = Dialect::kPrometheus2;
  EXPECT_EQ(Expand("{{ range 3 }}{{ . }}{{ end }}", v2),
            "ERROR: template: test:1:9: executing \"test\" at <3>: range can't iterate over 3");
  EXPECT_EQ(Expand("{{ range $i, $e := 2 }}{{ $i }}{{ end }}", v2),
            "ERROR: template: test:1:19: executing \"test\" at <2>: range can't iterate over 2");
  EXPECT_EQ(Expand("{{ range 3 }}{{ . }}{{ end }}"), "012");
  EXPECT_EQ(Expand("{{ printf \"%T\" . }}", v2),
            "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL "
            "string; Value float64 }");
  EXPECT_EQ(Expand("{{ printf \"%T\" . }}"),
            "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL "
            "string; Value interface {} }");
}

// Prometheus 2.x's title is Go's strings.Title; the cases below are promtool
// 2.42's output (tests/realworld). 3.x's cases.Title keeps "O'neil", "X.y".
TEST(GoTemplateTest, TitleUnderPrometheus2IsGoStringsTitle) {
  AlertTemplateData v2;
  v2.dialect = Dialect::kPrometheus2;
  EXPECT_EQ(Expand("{{ title \"hello-world foo_bar o'neil x.y 3rd\" }}", v2),
            "Hello-World Foo_bar O'Neil X.Y 3rd");
  EXPECT_EQ(Expand("{{ title \"hello-world foo_bar o'neil x.y 3rd\" }}"),
            "Hello-World Foo_bar O'neil X.y 3rd");
  // Non-ASCII letters continue a word; a Unicode space separates; the first
  // letter of a word is upper-cased with Go's simple mapping.
  EXPECT_EQ(Expand("{{ title \"élan\u00a0über,çà 9ab a:b\" }}", v2), "Élan\xC2\xA0"
            "Über,Çà 9ab A:B");
  // An invalid byte is U+FFFD, which is not a separator.
  EXPECT_EQ(Expand("{{ title \"\xff"
                   "ab cd\" }}",
                   v2), "\xEF\xBF\xBD"
            "ab Cd");
}

// ------------------------------------------------------ alert templates --

TEST(AlertTemplateTest, DefinitionsAreInScope) {
  AlertTemplateData d = Data();
  EXPECT_EQ(
      Alert("{{ $labels.instance }} {{ $value }} {{ $externalLabels.cluster }} {{ $externalURL }}",
            d),
      "host1:9100 0.12345 eu1 http://testhost:9090/path/prefix");
  EXPECT_EQ(Alert("{{ .Labels.instance }} {{ .Value }}", d), "host1:9100 0.12345");
  EXPECT_EQ(Alert("{{ $labels.missing }}|", d), "|");
}

TEST(AlertTemplateTest, AwesomePrometheusAlerts) {
  AlertTemplateData d;
  d.labels = Labels{{"instance", "redis:6379"}, {"job", "redis"}};
  d.value = 0;
  EXPECT_EQ(Alert("Redis instance is down\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}", d),
            "Redis instance is down\n  VALUE = 0\n  LABELS = map[instance:redis:6379 job:redis]");
  d.value = 93.456;
  EXPECT_EQ(Alert("Disk is almost full (< 10% left)\n  VALUE = {{ $value }}", d),
            "Disk is almost full (< 10% left)\n  VALUE = 93.456");
  EXPECT_EQ(Alert("Host out of memory (instance {{ $labels.instance }})", d),
            "Host out of memory (instance redis:6379)");
}

TEST(AlertTemplateTest, KubePrometheus) {
  AlertTemplateData d = Data();
  d.value = 1.23456;
  EXPECT_EQ(Alert("Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is "
                  "restarting {{ printf "
                  "\"%.2f\" $value }} times / 10 minutes.",
                  d),
            "Pod prod/api-7 (app) is restarting 1.23 times / 10 minutes.");
  d.value = 0.0345;
  EXPECT_EQ(Alert("{{ $value | humanizePercentage }} of the {{ $labels.job }}/{{ $labels.instance "
                  "}} targets are "
                  "down.",
                  d),
            "3.45% of the node/host1:9100 targets are down.");
  d.value = 4 * 86400 + 3600;
  EXPECT_EQ(Alert("Client certificate expires in {{ $value | humanizeDuration }}.", d),
            "Client certificate expires in 4d 1h 0m 0s.");
  EXPECT_EQ(Alert("{{ with query \"sum(up)\" }}{{ . | first | value | humanize }}{{ end }}", d,
                  Returns({{{}, 1234567}})),
            "1.235M");
  EXPECT_EQ(
      Alert("{{ with query \"sum(up)\" }}{{ . | first | value | humanize }}{{ else }}none{{ end }}",
            d, Returns({})),
      "none");
  EXPECT_EQ(Alert("{{ range query \"up == 0\" }}{{ .Labels.instance }} {{ end }}", d,
                  Returns({{Labels{{"instance", "a"}}, 0}, {Labels{{"instance", "b"}}, 0}})),
            "a b ");
  EXPECT_EQ(Alert("{{ index $labels \"le\" }}|", d), "|");
}

TEST(AlertTemplateTest, MixinIdioms) {
  AlertTemplateData d = Data();
  d.value = 87.654;
  EXPECT_EQ(Alert("Filesystem on {{ $labels.instance }} has {{ printf \"%.2f\" $value }}% "
                  "available space left."
                  "{{ with $labels.cluster -}} on cluster {{ . }} {{- end }}",
                  d),
            "Filesystem on host1:9100 has 87.65% available space left.");
  d.labels = Labels{{"cluster", "eu1"}, {"instance", "host1:9100"}, {"severity", "critical"}};
  EXPECT_EQ(Alert("{{ with $labels.cluster -}} on cluster {{ . }} {{- end }}!", d),
            "on cluster eu1!");
  EXPECT_EQ(
      Alert(
          "{{ $labels.instance | reReplaceAll \"(.+):.+\" \"$1\" }} {{ toUpper $labels.severity }} "
          "{{ if eq $labels.severity \"critical\" }}page{{ else }}ticket{{ end }} {{ printf "
          "\"%.4g\" $value }} "
          "{{ $value | printf \"%.1f\" }}",
          d),
      "host1 CRITICAL page 87.65 87.7");
  d.value = 3.5e9;
  EXPECT_EQ(Alert("{{ $value | humanize }}B {{ $value | humanize1024 }}B {{ $value }}", d),
            "3.5GB 3.26GiB 3.5e+09");
}

TEST(AlertTemplateTest, ErrorsAreShownAndFlagged) {
  bool failed = false;
  AlertTemplateData d = Data();
  EXPECT_EQ(Alert("{{ $labels.x }", d, {}, &failed),
            "<error expanding template: error parsing template __alert_HighErrorRate: template: "
            "__alert_HighErrorRate:1: unexpected \"}\" in operand>");
  EXPECT_TRUE(failed);
  // Column numbers count the prepended definitions (112 bytes), as in Prometheus.
  EXPECT_EQ(Alert("{{ $value | toUpper }}", d, {}, &failed),
            "<error expanding template: error executing template __alert_HighErrorRate: template: "
            "__alert_HighErrorRate:1:124: executing \"__alert_HighErrorRate\" at <toUpper>: wrong "
            "type for value; "
            "expected string; got float64>");
  EXPECT_TRUE(failed);
  EXPECT_EQ(Alert("ok {{ $value }}", d, {}, &failed), "ok 0.12345");
  EXPECT_FALSE(failed);
  EXPECT_EQ(kAlertTemplateDefs.size(), 112u);
}

TEST(AlertTemplateTest, ParseCheck) {
  EXPECT_TRUE(ParseCheck("Rule", "{{ $labels.instance }} {{ $value | humanize }}").has_value());
  auto r = ParseCheck("Rule", "{{ $labels.instance }");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "template: __alert_Rule:1: unexpected \"}\" in operand");
  EXPECT_EQ(ParseCheck("Rule", "{{ humanise $value }}").error().message,
            "template: __alert_Rule:1: function \"humanise\" not defined");
}

TEST(AlertTemplateTest, ConcurrentExecuteOfOneTemplate) {
  auto t = Template::Parse("t", "{{ .Labels.job }}-{{ .Value }}");
  ASSERT_TRUE(t.has_value());
  std::vector<std::thread> threads;
  std::vector<std::string> out(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      AlertTemplateData d;
      d.labels = Labels{{"job", std::to_string(i)}};
      d.value = i;
      for (int k = 0; k < 200; ++k) out[static_cast<size_t>(i)] = *t->Execute(d, {});
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out[static_cast<size_t>(i)], std::to_string(i) + "-" + std::to_string(i));
}

}  // namespace
}  // namespace vigil::tmpl
