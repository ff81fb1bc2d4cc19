#include "daemon/config/units.h"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

TEST(ByteSizeTest, ParsesPrometheusUnitsAsPowersOf1024) {
  EXPECT_EQ(ParseByteSize("0").value(), 0u);
  EXPECT_EQ(ParseByteSize("512B").value(), 512u);
  EXPECT_EQ(ParseByteSize("1KB").value(), 1024u);
  EXPECT_EQ(ParseByteSize("1KiB").value(), 1024u);
  EXPECT_EQ(ParseByteSize("10MB").value(), 10u * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("10MiB").value(), 10u * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("1GiB").value(), 1024ull * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("2TB").value(), 2ull << 40);
  EXPECT_EQ(ParseByteSize("1PB").value(), 1ull << 50);
  EXPECT_EQ(ParseByteSize("1EiB").value(), 1ull << 60);
  EXPECT_EQ(ParseByteSize("1.5GB").value(), 3ull << 29);
  EXPECT_EQ(ParseByteSize("1MB512KB").value(), 1024u * 1024 + 512 * 1024);
}

TEST(ByteSizeTest, RejectsBadInput) {
  for (const char* bad : {"", "10", "10XB", "MB", "1.MBx", "10 MB", "-1MB", "1mb", "1K"}) {
    auto parsed = ParseByteSize(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().message, fmt::format("not a valid byte size: \"{}\"", bad));
  }
  EXPECT_EQ(ParseByteSize("16EiB").error().message, "byte size out of range: \"16EiB\"");
}

TEST(ByteSizeTest, FormatRoundTrips) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(1000), "1000B");
  EXPECT_EQ(FormatByteSize(10u * 1024 * 1024), "10MiB");
  EXPECT_EQ(FormatByteSize(1536), "1536B");
  EXPECT_EQ(FormatByteSize(3072), "3KiB");
  EXPECT_EQ(FormatByteSize(1ull << 62), "4EiB");
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{1536}, uint64_t{5} << 30}) {
    EXPECT_EQ(ParseByteSize(FormatByteSize(v)).value(), v);
  }
}

}  // namespace
}  // namespace vigil::config
