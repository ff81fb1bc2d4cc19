#include "daemon/web/gzip.h"

#include <gtest/gtest.h>

namespace vigil::web {
namespace {

TEST(Gzip, RoundTripsWithGzipMagic) {
  std::string text(10000, 'x');
  auto gz = GzipCompress(text);
  ASSERT_TRUE(gz.has_value());
  ASSERT_GE(gz->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  EXPECT_LT(gz->size(), 200u);
  EXPECT_EQ(GzipDecompress(*gz).value(), text);
  EXPECT_FALSE(GzipDecompress("not gzip").has_value());
}

TEST(AcceptsGzip, ParsesAcceptEncoding) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip(""));
}

}  // namespace
}  // namespace vigil::web
