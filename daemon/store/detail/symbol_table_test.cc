#include "daemon/store/detail/symbol_table.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::store::detail {
namespace {

TEST(SymbolTableTest, InternsEachStringOnce) {
  SymbolTable symbols;
  const uint32_t job = symbols.Intern("job");
  const uint32_t api = symbols.Intern("api");
  EXPECT_NE(job, api);
  EXPECT_EQ(symbols.Intern("job"), job);
  EXPECT_EQ(symbols.size(), 2u);
  EXPECT_EQ(symbols.Get(job), "job");
  EXPECT_EQ(symbols.Get(api), "api");
  EXPECT_EQ(symbols.Find("api"), api);
  EXPECT_EQ(symbols.Find("nope"), std::nullopt);
}

TEST(SymbolTableTest, FreesOnLastReleaseAndReusesIds) {
  SymbolTable symbols;
  const size_t empty_bytes = symbols.MemoryBytes();
  const std::string long_value(100, 'x');
  const uint32_t id = symbols.Intern(long_value);
  symbols.Intern(long_value);
  EXPECT_GT(symbols.MemoryBytes(), empty_bytes + 100);
  symbols.Release(id);
  EXPECT_EQ(symbols.Find(long_value), id);  // one reference left
  symbols.Release(id);
  EXPECT_EQ(symbols.Find(long_value), std::nullopt);
  EXPECT_EQ(symbols.size(), 0u);
  const uint32_t reused = symbols.Intern("short");
  EXPECT_EQ(reused, id);
  EXPECT_EQ(symbols.Get(reused), "short");
  EXPECT_EQ(symbols.Find("short"), id);
}

TEST(SymbolTableTest, ViewsStayValidWhileTableGrows) {
  SymbolTable symbols;
  const uint32_t first = symbols.Intern("a");  // short: stored inside the slot
  const std::string_view view = symbols.Get(first);
  for (int i = 0; i < 10'000; ++i) symbols.Intern("value-" + std::to_string(i));
  EXPECT_EQ(view.data(), symbols.Get(first).data());
  EXPECT_EQ(symbols.Find("a"), first);
  EXPECT_EQ(symbols.Find("value-9999"), symbols.Intern("value-9999"));
}

TEST(SymbolTableTest, RanksFollowLexicalOrderAcrossChurn) {
  SymbolTable symbols;
  const uint32_t b = symbols.Intern("b");
  const uint32_t d = symbols.Intern("d");
  const uint32_t a = symbols.Intern("a");
  EXPECT_FALSE(symbols.ranks_current());
  symbols.UpdateRanks();
  EXPECT_TRUE(symbols.ranks_current());
  EXPECT_EQ(symbols.Rank(a), 0u);
  EXPECT_EQ(symbols.Rank(b), 1u);
  EXPECT_EQ(symbols.Rank(d), 2u);
  // "b" freed, its id reused by "e"; "c" new.
  symbols.Release(b);
  const uint32_t e = symbols.Intern("e");
  EXPECT_EQ(e, b);
  const uint32_t c = symbols.Intern("c");
  symbols.Intern("c");  // a second reference changes nothing
  EXPECT_FALSE(symbols.ranks_current());
  symbols.UpdateRanks();
  EXPECT_EQ(symbols.Rank(a), 0u);
  EXPECT_EQ(symbols.Rank(c), 1u);
  EXPECT_EQ(symbols.Rank(d), 2u);
  EXPECT_EQ(symbols.Rank(e), 3u);
  // Freeing leaves a gap; the order of the others holds without an update.
  symbols.Release(a);
  EXPECT_TRUE(symbols.ranks_current());
  EXPECT_EQ(symbols.Rank(c), 1u);
  EXPECT_EQ(symbols.Rank(d), 2u);
  EXPECT_EQ(symbols.Rank(e), 3u);
  // The next update drops the freed id: "a" is gone, "bb" new.
  const uint32_t bb = symbols.Intern("bb");
  EXPECT_EQ(bb, a);
  EXPECT_EQ(symbols.unranked_count(), 1u);
  symbols.UpdateRanks();
  EXPECT_EQ(symbols.unranked_count(), 0u);
  EXPECT_EQ(symbols.Rank(bb), 0u);
  EXPECT_EQ(symbols.Rank(c), 1u);
  EXPECT_EQ(symbols.Rank(d), 2u);
  EXPECT_EQ(symbols.Rank(e), 3u);
}

}  // namespace
}  // namespace vigil::store::detail
