#include "daemon/store/detail/postings.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::store::detail {
namespace {

using Refs = std::vector<SeriesRef>;

TEST(PostingsIndexTest, ListsStaySortedAndBatchRemovalCommits) {
  PostingsIndex index;
  const size_t empty_bytes = index.MemoryBytes();
  // Label ids: name 1 = "job" with values 10/11, name 2 = "instance" with 20/21.
  index.Add(1, std::vector<uint32_t>{1, 10, 2, 20});
  index.Add(2, std::vector<uint32_t>{1, 10, 2, 21});
  index.Add(3, std::vector<uint32_t>{1, 11});
  EXPECT_EQ(index.all(), (Refs{1, 2, 3}));
  EXPECT_EQ(*index.Get(1, 10), (Refs{1, 2}));
  EXPECT_EQ(*index.Get(1, 11), (Refs{3}));
  EXPECT_EQ(*index.Get(2, 21), (Refs{2}));
  EXPECT_EQ(index.Get(2, 99), nullptr);
  EXPECT_EQ(index.Values(7), nullptr);
  EXPECT_EQ(index.Values(2)->size(), 2u);
  EXPECT_GT(index.MemoryBytes(), empty_bytes);

  index.Remove(1, std::vector<uint32_t>{1, 10, 2, 20});
  EXPECT_EQ(*index.Get(1, 10), (Refs{1, 2}));  // not yet committed
  index.Remove(3, std::vector<uint32_t>{1, 11});
  index.Commit();
  EXPECT_EQ(index.all(), (Refs{2}));
  EXPECT_EQ(*index.Get(1, 10), (Refs{2}));
  EXPECT_EQ(index.Get(1, 11), nullptr);
  EXPECT_EQ(index.Get(2, 20), nullptr);
  EXPECT_EQ(index.names().size(), 2u);

  index.Remove(2, std::vector<uint32_t>{1, 10, 2, 21});
  index.Commit();
  EXPECT_TRUE(index.all().empty());
  EXPECT_TRUE(index.names().empty());
}

}  // namespace
}  // namespace vigil::store::detail
