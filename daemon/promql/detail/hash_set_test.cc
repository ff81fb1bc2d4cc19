#include "daemon/promql/detail/hash_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

namespace vigil::promql::detail {
namespace {

TEST(HashSetTest, InsertReportsNewValuesIncludingZero) {
  HashSet set;
  EXPECT_FALSE(set.Contains(0));
  EXPECT_TRUE(set.Insert(0));
  EXPECT_FALSE(set.Insert(0));
  EXPECT_TRUE(set.Contains(0));
  EXPECT_TRUE(set.Insert(42));
  EXPECT_FALSE(set.Insert(42));
  EXPECT_TRUE(set.Contains(42));
  EXPECT_FALSE(set.Contains(43));
  // Values that differ only in their high bits.
  EXPECT_TRUE(set.Insert(uint64_t{1} << 63));
  EXPECT_TRUE(set.Insert(uint64_t{1} << 62));
  EXPECT_TRUE(set.Contains(uint64_t{1} << 63));
  EXPECT_FALSE(set.Contains(uint64_t{3} << 61));
}

TEST(HashSetTest, AgreesWithUnorderedSetWhileGrowing) {
  std::mt19937_64 rng(7);
  HashSet set;  // starts small: grows many times
  std::unordered_set<uint64_t> reference;
  for (int i = 0; i < 50'000; ++i) {
    // Few distinct high bits and many repeats, to collide and probe.
    const uint64_t v = (rng() % 20'000) << (i % 2 == 0 ? 0 : 40);
    EXPECT_EQ(set.Insert(v), reference.insert(v).second) << v;
  }
  for (uint64_t v = 0; v < 30'000; ++v) {
    EXPECT_EQ(set.Contains(v), reference.contains(v)) << v;
    EXPECT_EQ(set.Contains(v << 40), reference.contains(v << 40)) << v;
  }
}

TEST(HashSetTest, HasDuplicateFindsRepeatsAnywhere) {
  std::vector<uint64_t> none;
  EXPECT_FALSE(HasDuplicate(none));
  std::vector<uint64_t> one{5};
  EXPECT_FALSE(HasDuplicate(one));
  std::mt19937_64 rng(3);
  std::vector<uint64_t> distinct;
  for (int i = 0; i < 20'000; ++i) distinct.push_back(rng());
  std::vector<uint64_t> copy = distinct;
  EXPECT_FALSE(HasDuplicate(copy));
  EXPECT_TRUE(std::is_sorted(copy.begin(), copy.end()));
  // A repeat far from its twin, and values sharing all but their top byte.
  std::vector<uint64_t> repeated = distinct;
  repeated.push_back(distinct[7]);
  EXPECT_TRUE(HasDuplicate(repeated));
  std::vector<uint64_t> top_byte{uint64_t{1} << 56, uint64_t{2} << 56, uint64_t{1} << 56};
  EXPECT_TRUE(HasDuplicate(top_byte));
  std::vector<uint64_t> all_equal(1000, 42);
  EXPECT_TRUE(HasDuplicate(all_equal));
}

}  // namespace
}  // namespace vigil::promql::detail
