#include "daemon/template/detail/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vigil::tmpl::detail {
namespace {

TEST(FormatFloatTest, ShortestLikeGoStrconv) {
  EXPECT_EQ(FormatFloat(1e6, 'g', -1), "1e+06");
  EXPECT_EQ(FormatFloat(123456, 'g', -1), "123456");
  EXPECT_EQ(FormatFloat(0.1, 'g', -1), "0.1");
  EXPECT_EQ(FormatFloat(12.5, 'g', -1), "12.5");
  EXPECT_EQ(FormatFloat(0.0001, 'g', -1), "0.0001");
  EXPECT_EQ(FormatFloat(0.00001, 'g', -1), "1e-05");
  EXPECT_EQ(FormatFloat(1234567, 'g', -1), "1.234567e+06");
  EXPECT_EQ(FormatFloat(0, 'g', -1), "0");
  EXPECT_EQ(FormatFloat(-0.0, 'g', -1), "-0");
  EXPECT_EQ(FormatFloat(-9.223372036854776e18, 'g', -1), "-9.223372036854776e+18");
  EXPECT_EQ(FormatFloat(std::nan(""), 'g', -1), "NaN");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::infinity(), 'g', -1), "+Inf");
  EXPECT_EQ(FormatFloat(-std::numeric_limits<double>::infinity(), 'g', -1), "-Inf");
  EXPECT_EQ(FormatFloat(1.5, 'e', -1), "1.5e+00");
  EXPECT_EQ(FormatFloat(1e21, 'f', -1), "1000000000000000000000");
}

TEST(FormatFloatTest, Precision) {
  EXPECT_EQ(FormatFloat(1.2345, 'g', 4), "1.234");
  EXPECT_EQ(FormatFloat(12.345, 'g', 4), "12.35");
  EXPECT_EQ(FormatFloat(100, 'g', 4), "100");
  EXPECT_EQ(FormatFloat(123456, 'g', 4), "1.235e+05");
  EXPECT_EQ(FormatFloat(3720.01, 'f', 2), "3720.01");
  EXPECT_EQ(FormatFloat(2.5, 'f', 0), "2");
}

TEST(SprintfTest, GoVerbs) {
  EXPECT_EQ(Sprintf("%.2f", {Value::Float(3.14159)}), "3.14");
  EXPECT_EQ(Sprintf("%d", {Value::Int(42)}), "42");
  EXPECT_EQ(Sprintf("%5d|%-5d|%05d", {Value::Int(42), Value::Int(42), Value::Int(-42)}),
            "   42|42   |-0042");
  EXPECT_EQ(Sprintf("%s", {Value::String("x")}), "x");
  EXPECT_EQ(Sprintf("%q", {Value::String("a\"b\n")}), "\"a\\\"b\\n\"");
  EXPECT_EQ(Sprintf("%v %v", {Value::Float(1e6), Value::Bool(true)}), "1e+06 true");
  EXPECT_EQ(Sprintf("%g", {Value::Float(0.5)}), "0.5");
  EXPECT_EQ(Sprintf("%e", {Value::Float(1234.5678)}), "1.234568e+03");
  EXPECT_EQ(Sprintf("%x %X", {Value::Int(255), Value::String("hi")}), "ff 6869");
  EXPECT_EQ(
      Sprintf("%8.3f|%-8.2f|%+.1f", {Value::Float(3.14159), Value::Float(2.5), Value::Float(1)}),
      "   3.142|2.50    |+1.0");
  EXPECT_EQ(Sprintf("%.3s", {Value::String("abcdef")}), "abc");
  EXPECT_EQ(Sprintf("100%%", {}), "100%");
  EXPECT_EQ(Sprintf("%T %T", {Value::Float(1), Value()}), "float64 <nil>");
}

TEST(SprintfTest, GoErrorsInOutput) {
  EXPECT_EQ(Sprintf("%d", {Value::Float(1.5)}), "%!d(float64=1.5)");
  EXPECT_EQ(Sprintf("%f", {Value::Int(3)}), "%!f(int=3)");
  EXPECT_EQ(Sprintf("%s", {Value::Float(2)}), "%!s(float64=2)");
  EXPECT_EQ(Sprintf("%d %d", {Value::Int(1)}), "1 %!d(MISSING)");
  EXPECT_EQ(Sprintf("%d", {Value::Int(1), Value::String("x")}), "1%!(EXTRA string=x)");
  EXPECT_EQ(Sprintf("%", {}), "%!(NOVERB)");
  EXPECT_EQ(Sprintf("%s", {Value()}), "%!s(<nil>)");
  EXPECT_EQ(Sprintf("%v", {Value()}), "<nil>");
  EXPECT_EQ(Sprintf("%z", {Value::Int(1)}), "%!z(int=1)");
}

TEST(SprintTest, SpacesBetweenNonStrings) {
  EXPECT_EQ(Sprint({Value::Int(1), Value::Int(2), Value::String("a"), Value::Int(3)}), "1 2a3");
  EXPECT_EQ(Sprintln({Value::String("a"), Value::Int(1)}), "a 1\n");
  EXPECT_EQ(Sprint({Value::Map({{"job", "y"}, {"instance", "x"}})}), "map[instance:x job:y]");
  EXPECT_EQ(Sprint({Value::Map({})}), "map[]");
}

TEST(FormatTimeTest, GoTimeString) {
  EXPECT_EQ(FormatTime(0), "1970-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(FormatTime(-1000), "1969-12-31 23:59:59 +0000 UTC");
  EXPECT_EQ(FormatTime(1435065584128), "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(FormatTime(1435065584100), "2015-06-23 13:19:44.1 +0000 UTC");
  EXPECT_EQ(FormatTime(-500), "1969-12-31 23:59:59.5 +0000 UTC");
}

TEST(QuoteTest, GoStrconvQuote) {
  EXPECT_EQ(Quote("abc"), "\"abc\"");
  EXPECT_EQ(Quote("a\tb\\c"), "\"a\\tb\\\\c\"");
  EXPECT_EQ(Quote("\x01\x7f"), "\"\\x01\\x7f\"");
  EXPECT_EQ(Quote("h\xc3\xa9"), "\"h\xc3\xa9\"");
  EXPECT_EQ(Quote("\xff"), "\"\\xff\"");
}

}  // namespace
}  // namespace vigil::tmpl::detail
