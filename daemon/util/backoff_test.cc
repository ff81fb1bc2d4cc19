#include "daemon/util/backoff.h"

#include <gtest/gtest.h>

namespace vigil::util {
namespace {

TEST(Backoff, GrowsWithJitterAndStaysUnderTheCap) {
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 42);
  auto first = backoff.Next();
  EXPECT_GE(first.count(), 50);
  EXPECT_LE(first.count(), 100);
  auto second = backoff.Next();
  EXPECT_GE(second.count(), 100);
  EXPECT_LE(second.count(), 200);
  for (int i = 0; i < 3; ++i) backoff.Next();  // ceilings 400, 800, then capped
  for (int i = 0; i < 40; ++i) {
    auto d = backoff.Next();
    EXPECT_GE(d.count(), 500);
    EXPECT_LE(d.count(), 1000);
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 100);
}

}  // namespace
}  // namespace vigil::util
