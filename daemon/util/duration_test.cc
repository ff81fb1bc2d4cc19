#include "daemon/util/duration.h"

#include <gtest/gtest.h>

namespace vigil::util {
namespace {

TEST(ParseDuration, AcceptsPrometheusSyntax) {
  EXPECT_EQ(ParseDuration("5m").value(), std::chrono::minutes(5));
  EXPECT_EQ(ParseDuration("1h30m").value(), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("250ms").value(), Duration(250));
  EXPECT_EQ(ParseDuration("1d2h").value(), std::chrono::hours(26));
  EXPECT_EQ(ParseDuration("1y").value(), std::chrono::hours(365 * 24));
  EXPECT_EQ(ParseDuration("2w").value(), std::chrono::hours(14 * 24));
  EXPECT_EQ(ParseDuration("1m30s500ms").value(), Duration(90500));
  EXPECT_EQ(ParseDuration("0").value(), Duration(0));
  EXPECT_EQ(ParseDuration("0s").value(), Duration(0));
}

TEST(ParseDuration, RejectsBadInput) {
  for (const char* bad : {"", "5", "m", "5x", "30m1h", "1m1m", "1.5h", "-5m", " 5m", "5m ",
                          "1h30", "5M", "99999999999999999999y"}) {
    auto parsed = ParseDuration(bad);
    EXPECT_FALSE(parsed.has_value()) << "accepted \"" << bad << "\"";
  }
  EXPECT_EQ(ParseDuration("30m1h").error().message, "not a valid duration string: \"30m1h\"");
}

TEST(FormatDuration, PrintsLikePrometheus) {
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(std::chrono::hours(24 * 8)), "1w1d");
}

}  // namespace
}  // namespace vigil::util
