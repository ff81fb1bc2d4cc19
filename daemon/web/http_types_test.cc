#include "daemon/web/http_types.h"

#include <gtest/gtest.h>

namespace vigil::web {
namespace {

TEST(ParseQuery, DecodesPairsInOrder) {
  auto q = ParseQuery("module=http_2xx&target=http%3A%2F%2F127.0.0.1%3A80%2Fh&x=a+b&flag&&y=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"module", "http_2xx"}));
  EXPECT_EQ(q[1].second, "http://127.0.0.1:80/h");
  EXPECT_EQ(q[2].second, "a b");
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[4].second, "%zz");
}

TEST(UrlDecode, PlusOnlyInForms) {
  EXPECT_EQ(UrlDecode("/a+b%20c", false), "/a+b c");
  EXPECT_EQ(UrlDecode("%4", false), "%4");
}

}  // namespace
}  // namespace vigil::web
