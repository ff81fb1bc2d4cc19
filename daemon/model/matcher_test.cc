#include "daemon/model/matcher.h"

#include <gtest/gtest.h>

#include "daemon/model/sample.h"

namespace vigil::model {
namespace {

TEST(Matcher, RegexIsFullyAnchored) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "status", "5..").value();
  EXPECT_TRUE(m.Matches("500"));
  EXPECT_FALSE(m.Matches("5000"));
  EXPECT_FALSE(m.Matches("x500"));
  auto alt = Matcher::Create(MatchType::kRegexMatch, "a", "x|y").value();
  EXPECT_TRUE(alt.Matches("y"));
  EXPECT_FALSE(alt.Matches("xy"));
}

TEST(Matcher, DotNewlineFollowsSemantics) {
  auto v3 = Matcher::Create(MatchType::kRegexMatch, "a", "a.b").value();
  auto v2 = Matcher::Create(MatchType::kRegexMatch, "a", "a.b", {.dot_matches_newline = false})
                .value();
  EXPECT_TRUE(v3.Matches("a\nb"));
  EXPECT_FALSE(v2.Matches("a\nb"));
}

TEST(Matcher, NegationsAndEmpty) {
  auto ne = Matcher::Create(MatchType::kNotEqual, "a", "x").value();
  EXPECT_TRUE(ne.Matches(""));
  EXPECT_FALSE(ne.Matches("x"));
  auto nre = Matcher::Create(MatchType::kRegexNoMatch, "a", ".+").value();
  EXPECT_TRUE(nre.MatchesEmpty());
  EXPECT_FALSE(nre.Matches("q"));
  EXPECT_EQ(nre.ToString(), "a!~\".+\"");
}

TEST(Matcher, BadRegexIsAnError) {
  auto bad = Matcher::Create(MatchType::kRegexMatch, "a", "(");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("invalid regular expression"), std::string::npos);
}

TEST(Sample, StaleMarkerIsADistinctNaN) {
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::numeric_limits<double>::quiet_NaN()));
}

}  // namespace
}  // namespace vigil::model
