#include "exporters/common/idle_connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace vigil::exporters {
namespace {

using std::chrono::seconds;

struct FakeConnection {
  explicit FakeConnection(int id) : id(id) {}
  int id;
};

class IdleConnectionPoolTest : public ::testing::Test {
 protected:
  using Pool = IdleConnectionPool<FakeConnection>;

  // A pool of `capacity` with a 60s idle limit on the test's clock.
  std::unique_ptr<Pool> MakePool(size_t capacity) {
    return std::make_unique<Pool>(capacity, seconds(60), [this] {
      return Pool::Clock::time_point(seconds(now_seconds_.load()));
    });
  }

  std::atomic<int64_t> now_seconds_{1000};
};

TEST(IdleConnectionPoolTakeOrCreateTest, CreatesOnlyWhenNothingIsKept) {
  IdleConnectionPool<std::string> pool(4, seconds(60));
  std::shared_ptr<std::string> fresh = pool.TakeOrCreate("a");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(*fresh, "");
  *fresh = "kept";
  pool.Give("a", fresh);
  EXPECT_NE(pool.TakeOrCreate("b"), fresh);  // another key: a new one
  EXPECT_EQ(pool.TakeOrCreate("a"), fresh);
  EXPECT_EQ(pool.size(), 0u);
}

TEST_F(IdleConnectionPoolTest, EmptyPoolHasNothing) {
  auto pool = MakePool(4);
  EXPECT_EQ(pool->Take("a"), nullptr);
  pool->Give("a", nullptr);
  EXPECT_EQ(pool->size(), 0u);
  EXPECT_EQ(pool->Take("a"), nullptr);
}

TEST_F(IdleConnectionPoolTest, TakeGivesTheConnectionOfTheSameKeyOnce) {
  auto pool = MakePool(4);
  auto a = std::make_shared<FakeConnection>(1);
  pool->Give("a", a);
  pool->Give("b", std::make_shared<FakeConnection>(2));
  EXPECT_EQ(pool->Take("c"), nullptr);
  EXPECT_EQ(pool->Take("a"), a);
  EXPECT_EQ(pool->Take("a"), nullptr);
  EXPECT_EQ(pool->size(), 1u);
  auto b = pool->Take("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->id, 2);
  EXPECT_EQ(pool->size(), 0u);
}

TEST_F(IdleConnectionPoolTest, MostRecentlyGivenFirst) {
  auto pool = MakePool(4);
  pool->Give("a", std::make_shared<FakeConnection>(1));
  now_seconds_ += 1;
  pool->Give("a", std::make_shared<FakeConnection>(2));
  EXPECT_EQ(pool->Take("a")->id, 2);
  EXPECT_EQ(pool->Take("a")->id, 1);
}

TEST_F(IdleConnectionPoolTest, FullPoolClosesTheOldest) {
  auto pool = MakePool(2);
  auto first = std::make_shared<FakeConnection>(1);
  std::weak_ptr<FakeConnection> watch = first;
  pool->Give("a", std::move(first));
  pool->Give("b", std::make_shared<FakeConnection>(2));
  EXPECT_FALSE(watch.expired());
  pool->Give("c", std::make_shared<FakeConnection>(3));
  EXPECT_TRUE(watch.expired());  // destroyed, not merely forgotten
  EXPECT_EQ(pool->size(), 2u);
  EXPECT_EQ(pool->Take("a"), nullptr);
  EXPECT_EQ(pool->Take("b")->id, 2);
  EXPECT_EQ(pool->Take("c")->id, 3);
}

TEST_F(IdleConnectionPoolTest, ConnectionsIdleForMaxIdleAreClosed) {
  auto pool = MakePool(4);
  auto old = std::make_shared<FakeConnection>(1);
  std::weak_ptr<FakeConnection> watch = old;
  pool->Give("a", std::move(old));
  now_seconds_ += 30;
  pool->Give("b", std::make_shared<FakeConnection>(2));
  now_seconds_ += 29;  // a: 59s idle
  pool->Expire();
  EXPECT_FALSE(watch.expired());
  now_seconds_ += 1;  // a: 60s idle, b: 30s
  pool->Expire();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(pool->size(), 1u);
  now_seconds_ += 30;  // b: 60s idle; Take expires before it looks
  EXPECT_EQ(pool->Take("b"), nullptr);
  EXPECT_EQ(pool->size(), 0u);
}

TEST_F(IdleConnectionPoolTest, GiveExpiresToo) {
  auto pool = MakePool(4);
  pool->Give("a", std::make_shared<FakeConnection>(1));
  now_seconds_ += 60;
  pool->Give("b", std::make_shared<FakeConnection>(2));
  EXPECT_EQ(pool->size(), 1u);
  EXPECT_EQ(pool->Take("a"), nullptr);
}

TEST_F(IdleConnectionPoolTest, ConcurrentGiveAndTakeLoseNothing) {
  auto pool = MakePool(64);
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string key = "k" + std::to_string(t);
      auto connection = std::make_shared<FakeConnection>(t);
      for (int i = 0; i < kRounds; ++i) {
        pool->Give(key, std::move(connection));
        connection = pool->Take(key);
        if (connection == nullptr || connection->id != t) {
          mismatches.fetch_add(1);
          connection = std::make_shared<FakeConnection>(t);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(pool->size(), 0u);
}

}  // namespace
}  // namespace vigil::exporters
