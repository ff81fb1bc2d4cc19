#include "daemon/promql/parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace vigil::promql {
namespace {

std::string Reprint(std::string_view input, const ParseOptions& options = {}) {
  auto e = ParseExpr(input, options);
  if (!e) return "error: " + e.error().message;
  return (*e)->String();
}

std::string Error(std::string_view input, const ParseOptions& options = {}) {
  auto e = ParseExpr(input, options);
  if (e) return "parsed: " + (*e)->String();
  return e.error().message;
}

TEST(ParserTest, ReprintsCanonically) {
  EXPECT_EQ(Reprint("sum by(job)(rate(x[5m]))"), "sum by (job) (rate(x[5m]))");
  EXPECT_EQ(Reprint("SUM(rate(x[5m])) BY (job)"), "sum by (job) (rate(x[5m]))");
  EXPECT_EQ(Reprint("sum without(a,b)(x)"), "sum without (a, b) (x)");
  EXPECT_EQ(Reprint("topk(3, x)"), "topk(3, x)");
  EXPECT_EQ(Reprint("count_values(\"v\", x)"), "count_values(\"v\", x)");
  EXPECT_EQ(Reprint("a / on(job) group_left(instance) b"), "a / on (job) group_left (instance) b");
  EXPECT_EQ(Reprint("a > ignoring(x) b"), "a > ignoring (x) b");
  EXPECT_EQ(Reprint("a == bool b"), "a == bool b");
  EXPECT_EQ(Reprint("a and on() b"), "a and on () b");
  EXPECT_EQ(Reprint("x{b=\"2\",a=~\"1.*\"}"), "x{a=~\"1.*\",b=\"2\"}");
  EXPECT_EQ(Reprint("{__name__=\"x\"}"), "{__name__=\"x\"}");
  EXPECT_EQ(Reprint("x offset 5m"), "x offset 5m");
  EXPECT_EQ(Reprint("x offset -1h30m"), "x offset -1h30m");
  EXPECT_EQ(Reprint("x[5m] @ 100 offset 1m"), "x[5m] @ 100.000 offset 1m");
  EXPECT_EQ(Reprint("x @ start()"), "x @ start()");
  EXPECT_EQ(Reprint("rate(x[5m])[30m:1m] @ end()"), "rate(x[5m])[30m:1m] @ end()");
  EXPECT_EQ(Reprint("max_over_time(x[10m:])"), "max_over_time(x[10m:])");
  EXPECT_EQ(Reprint("-(1 + 2) * 3"), "-(1 + 2) * 3");
  EXPECT_EQ(Reprint("\"a\\nb\""), "\"a\\nb\"");
  EXPECT_EQ(Reprint("\"\\xc5\\u00e9\\x01\""), "\"\\xc5\u00e9\\x01\"");
  EXPECT_EQ(Reprint("1e6"), "1e+06");
  EXPECT_EQ(Reprint("123456"), "123456");
  EXPECT_EQ(Reprint("0.0001"), "0.0001");
  EXPECT_EQ(Reprint("0.00001"), "1e-05");
  EXPECT_EQ(Reprint("0x10"), "16");
  EXPECT_EQ(Reprint("-Inf"), "-Inf");
  EXPECT_EQ(Reprint("sum({\"and\"})"), "sum({\"and\"})");
  // Outside brackets a colon starts a metric name, as in Prometheus's lexer
  // (found by the fuzzer: `{":"}` re-printed as `:` must parse again).
  EXPECT_EQ(Reprint("{\":\"}"), ":");
  EXPECT_EQ(Reprint(":"), ":");
  EXPECT_EQ(Reprint(":job:rate5m + 1"), ":job:rate5m + 1");
  EXPECT_EQ(Reprint("x[5m:1m]"), "x[5m:1m]");
}

TEST(ParserTest, PrecedenceAndAssociativity) {
  auto e = ParseExpr("1 + 2 * 3 ^ 2 ^ 2");
  ASSERT_TRUE(e);
  const auto& add = static_cast<const BinaryExpr&>(**e);
  EXPECT_EQ(add.op, BinaryOp::kAdd);
  const auto& mul = static_cast<const BinaryExpr&>(*add.rhs);
  EXPECT_EQ(mul.op, BinaryOp::kMul);
  const auto& pow1 = static_cast<const BinaryExpr&>(*mul.rhs);
  EXPECT_EQ(pow1.op, BinaryOp::kPow);
  EXPECT_EQ(pow1.lhs->kind, ExprKind::kNumber);  // right-associative: 3 ^ (2 ^ 2)
  EXPECT_EQ(pow1.rhs->kind, ExprKind::kBinary);

  auto set = ParseExpr("a or b and c unless d");
  ASSERT_TRUE(set);
  const auto& orop = static_cast<const BinaryExpr&>(**set);
  EXPECT_EQ(orop.op, BinaryOp::kOr);
  EXPECT_EQ(static_cast<const BinaryExpr&>(*orop.rhs).op, BinaryOp::kUnless);

  // Unary minus binds like `*`: looser than `^`.
  auto neg = ParseExpr("-2 ^ 2");
  ASSERT_TRUE(neg);
  EXPECT_EQ((*neg)->kind, ExprKind::kUnary);
}

TEST(ParserTest, Literals) {
  auto check = [](std::string_view in, double want) {
    auto e = ParseExpr(in);
    ASSERT_TRUE(e) << in;
    ASSERT_EQ((*e)->kind, ExprKind::kNumber) << in;
    double got = static_cast<const NumberLiteral&>(**e).value;
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << in;
    } else {
      EXPECT_EQ(got, want) << in;
    }
  };
  check(".2", 0.2);
  check("2.", 2);
  check("12.34e-6", 12.34e-6);
  check("0x1F", 31);
  check("inF", INFINITY);
  check("-inf", -INFINITY);
  check("nan", NAN);
  check("5m", 300);  // 3.x: a duration is a number of seconds

  auto s = ParseExpr(R"('a\'b' )");
  ASSERT_TRUE(s);
  EXPECT_EQ(static_cast<const StringLiteral&>(**s).value, "a'b");
  auto raw = ParseExpr(R"(`a\nb`)");
  ASSERT_TRUE(raw);
  EXPECT_EQ(static_cast<const StringLiteral&>(**raw).value, "a\\nb");
  auto esc = ParseExpr(R"("\x41\u00e9\101\t")");
  ASSERT_TRUE(esc);
  EXPECT_EQ(static_cast<const StringLiteral&>(**esc).value,
            "A\xc3\xa9"
            "A\t");
}

TEST(ParserTest, ErrorsCarryPositionAndPrometheusWording) {
  EXPECT_EQ(Error("rate(x)"),
            "1:6: parse error: expected type range vector in call to function \"rate\", got "
            "instant vector");
  EXPECT_EQ(Error("foo(x)"), "1:1: parse error: unknown function with name \"foo\"");
  EXPECT_EQ(Error("1 == 1"),
            "1:1: parse error: comparisons between scalars must use BOOL modifier");
  EXPECT_EQ(Error("{}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher");
  EXPECT_EQ(Error("{a=~\".*\"}"),
            "1:1: parse error: vector selector must contain at least one non-empty matcher");
  EXPECT_EQ(Error("x and 1"),
            "1:1: parse error: set operator \"and\" not allowed in binary scalar expression");
  EXPECT_EQ(Error("1 + bool 2"),
            "1:1: parse error: bool modifier can only be used on comparison operators");
  EXPECT_EQ(Error("sum(x"),
            "1:6: parse error: unexpected end of input in aggregation, expected \",\" or \")\"");
  EXPECT_EQ(Error("x{a=\"b\""), "1:8: parse error: unexpected end of input inside braces");
  EXPECT_EQ(Error("(1 + 2)[5m]"), "1:8: parse error: ranges only allowed for vector selectors");
  EXPECT_EQ(Error("1 offset 5m"),
            "1:3: parse error: offset modifier must be preceded by an instant vector selector or "
            "range vector selector or a subquery");
  EXPECT_EQ(Error("x offset 5m offset 1m"),
            "1:13: parse error: offset may not be set multiple times");
  EXPECT_EQ(Error("topk(x)"),
            "1:1: parse error: wrong number of arguments for aggregate expression provided, "
            "expected 2, got 1");
  EXPECT_EQ(Error("label_join(x)"),
            "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1");
  EXPECT_EQ(Error("round(x, 1, 2)"),
            "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3");
  EXPECT_EQ(Error("x{a=~\"(\"}"),
            "1:3: parse error: invalid regular expression \"(\": missing ): ^(?:()$");
  EXPECT_EQ(Error("1 +\n  )"), "2:3: parse error: unexpected right parenthesis \")\"");
  EXPECT_EQ(Error(""), "1:1: parse error: no expression found in input");
  EXPECT_EQ(Error("x[5:44444444444444444444]"),
            "1:5: parse error: duration out of range: \"44444444444444444444\"");
  EXPECT_EQ(Error("\"abc"), "1:1: parse error: unterminated quoted string");
  EXPECT_EQ(Error("a + on(x) group_left(x) b"),
            "1:1: parse error: label \"x\" must not occur in ON and GROUP clause at once");
  EXPECT_EQ(Error("x[5m][5m:1m]"),
            "1:1: parse error: subquery is only allowed on instant vector, got range vector in "
            "\"x[5m]\" instead");
}

TEST(ParserTest, VersionDifferences) {
  ParseOptions v2{Semantics::V2()};
  EXPECT_EQ(Reprint("holt_winters(x[5m], 0.5, 0.5)", v2), "holt_winters(x[5m], 0.5, 0.5)");
  EXPECT_EQ(Error("holt_winters(x[5m], 0.5, 0.5)"),
            "1:1: parse error: unknown function with name \"holt_winters\"");
  EXPECT_EQ(Reprint("double_exponential_smoothing(x[5m], 0.5, 0.5)"),
            "double_exponential_smoothing(x[5m], 0.5, 0.5)");
  EXPECT_EQ(Error("x @ 100s", v2),
            "1:5: parse error: unexpected duration \"100s\" in @ modifier, expected timestamp");
  EXPECT_EQ(Reprint("x @ 100s"), "x @ 100.000");

  // `.` matches a newline only in 3.x.
  auto v3_sel = ParseExpr("x{a=~\"a.b\"}");
  auto v2_sel = ParseExpr("x{a=~\"a.b\"}", v2);
  ASSERT_TRUE(v3_sel && v2_sel);
  const auto& m3 = static_cast<const VectorSelector&>(**v3_sel).matchers[1];
  const auto& m2 = static_cast<const VectorSelector&>(**v2_sel).matchers[1];
  EXPECT_TRUE(m3.Matches("a\nb"));
  EXPECT_FALSE(m2.Matches("a\nb"));
}

TEST(ParserTest, SelectorsAndPositions) {
  auto e = ParseExpr("  foo{a=\"b\", c!~\"d\",}[5m] offset 1m");
  ASSERT_TRUE(e);
  ASSERT_EQ((*e)->kind, ExprKind::kMatrixSelector);
  const auto& ms = static_cast<const MatrixSelector&>(**e);
  EXPECT_EQ(ms.range_ms, 300000);
  EXPECT_EQ(ms.selector->offset_ms, 60000);
  EXPECT_EQ(ms.selector->name, "foo");
  ASSERT_EQ(ms.selector->matchers.size(), 3u);
  EXPECT_EQ(ms.selector->matchers[0].name(), "__name__");
  EXPECT_EQ(ms.pos.start, 2);
  EXPECT_EQ(ms.pos.end, 35);

  EXPECT_EQ(Error("{\"\", \"x\"}"), "1:6: parse error: metric name must not be set twice");
  EXPECT_EQ(Error("x{\"y\"}"), "1:3: parse error: metric name must not be set twice");
  EXPECT_EQ(Reprint("{\"\", a=\"b\"}"), "{__name__=\"\",a=\"b\"}");
  auto quoted = ParseExpr("{\"my.metric\", \"a.b\"=\"c\"}");
  ASSERT_TRUE(quoted);
  EXPECT_EQ((*quoted)->String(), "{\"my.metric\", \"a.b\"=\"c\"}");
}

TEST(ParserTest, SeriesLabels) {
  auto l = ParseSeriesLabels("http_requests{job=\"api\", instance=\"0\"}");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->ToString(), "http_requests{instance=\"0\", job=\"api\"}");
  auto empty = ParseSeriesLabels("{}");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(ParseSeriesLabels("x{a=~\"b\"}"));
}

}  // namespace
}  // namespace vigil::promql
