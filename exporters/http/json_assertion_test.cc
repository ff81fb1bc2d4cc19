#include "exporters/http/json_assertion.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil::http {
namespace {

const nlohmann::json kDocument = nlohmann::json::parse(R"({
  "status": "ok",
  "checks": {"db": {"latency_ms": 12, "up": true}, "cache": null},
  "items": [{"name": "a", "tags": ["x", "y", "z"]}, {"name": "b"}],
  "key with.dots": {"v": 1.5},
  "version": "1.10"
})");

bool Holds(std::string_view text) {
  auto assertion = JsonAssertion::Parse(text);
  EXPECT_TRUE(assertion.has_value()) << (assertion ? "" : assertion.error().message);
  return assertion && assertion->Holds(kDocument);
}

std::string ParseError(std::string_view text) {
  auto assertion = JsonAssertion::Parse(text);
  return assertion ? "parsed" : assertion.error().message;
}

TEST(JsonAssertionTest, ParsesPathOperatorAndLiteral) {
  auto a = JsonAssertion::Parse(R"(items[0].tags[2] != "q")");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->text(), R"(items[0].tags[2] != "q")");
  EXPECT_EQ(a->op(), JsonAssertion::Op::kNe);
  std::vector<JsonAssertion::Step> expected = {std::string("items"), size_t{0}, std::string("tags"),
                                               size_t{2}};
  EXPECT_EQ(a->path(), expected);
}

TEST(JsonAssertionTest, ComparesStringsNumbersBoolsAndNull) {
  EXPECT_TRUE(Holds(R"(status == "ok")"));
  EXPECT_FALSE(Holds(R"(status == "degraded")"));
  EXPECT_TRUE(Holds(R"(status != "degraded")"));
  EXPECT_TRUE(Holds("checks.db.latency_ms < 200"));
  EXPECT_FALSE(Holds("checks.db.latency_ms > 200"));
  EXPECT_TRUE(Holds("checks.db.latency_ms == 12.0"));
  EXPECT_TRUE(Holds("checks.db.latency_ms <= 12"));
  EXPECT_TRUE(Holds("checks.db.latency_ms >= 12"));
  EXPECT_FALSE(Holds("checks.db.latency_ms < 12"));
  EXPECT_TRUE(Holds("checks.db.up == true"));
  EXPECT_FALSE(Holds("checks.db.up == false"));
  EXPECT_TRUE(Holds("checks.cache == null"));
  EXPECT_TRUE(Holds(R"(items[0].tags[2] == "z")"));
  EXPECT_TRUE(Holds(R"(items[1].name == "b")"));
  EXPECT_TRUE(Holds(R"(["key with.dots"].v > 1)"));
  EXPECT_TRUE(Holds(R"(version < "1.9")"));  // strings compare as text
}

TEST(JsonAssertionTest, MismatchedTypesAreNeverOrdered) {
  EXPECT_FALSE(Holds(R"(checks.db.latency_ms == "12")"));
  EXPECT_TRUE(Holds(R"(checks.db.latency_ms != "12")"));
  EXPECT_FALSE(Holds(R"(checks.db.latency_ms < "200")"));
  EXPECT_FALSE(Holds("status > 1"));
  EXPECT_FALSE(Holds("checks.db.up >= true"));
}

TEST(JsonAssertionTest, MissingPathOnlySatisfiesNotEqual) {
  EXPECT_FALSE(Holds(R"(checks.queue.depth == 0)"));
  EXPECT_FALSE(Holds(R"(checks.queue.depth < 10)"));
  EXPECT_TRUE(Holds(R"(checks.queue.depth != 0)"));
  EXPECT_FALSE(Holds(R"(items[5].name == "a")"));
  EXPECT_FALSE(Holds(R"(status.inner == "a")"));
  EXPECT_FALSE(Holds(R"(checks[0] == 1)"));
}

TEST(JsonAssertionTest, DescribeShowsTheValueAtThePath) {
  auto a = JsonAssertion::Parse("checks.db");
  EXPECT_FALSE(a.has_value());
  auto b = JsonAssertion::Parse("checks.db.latency_ms < 1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->Describe(kDocument), "12");
  auto c = JsonAssertion::Parse("nope == 1");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Describe(kDocument), "nothing");
}

TEST(JsonAssertionTest, ReportsParseErrorsWithColumn) {
  EXPECT_EQ(ParseError(""), "invalid JSON assertion \"\": expected a key at column 1");
  EXPECT_EQ(ParseError("status"),
            "invalid JSON assertion \"status\": expected one of == != < <= > >= at column 7");
  EXPECT_EQ(ParseError("status =="),
            "invalid JSON assertion \"status ==\": expected a literal at column 10");
  EXPECT_EQ(ParseError("status = \"ok\""),
            "invalid JSON assertion \"status = \"ok\"\": expected one of == != < <= > >= at "
            "column 8");
  EXPECT_EQ(ParseError("status == ok"),
            "invalid JSON assertion \"status == ok\": expected a string, number, true, false or "
            "null at column 11");
  EXPECT_EQ(ParseError("status == \"ok"),
            "invalid JSON assertion \"status == \"ok\": expected a literal at column 11");
  EXPECT_EQ(ParseError("a. == 1"),
            "invalid JSON assertion \"a. == 1\": expected a key at column 3");
  EXPECT_EQ(ParseError("a[x] == 1"),
            "invalid JSON assertion \"a[x] == 1\": expected an index or a quoted key at column 3");
  EXPECT_EQ(ParseError("a[1 == 1"),
            "invalid JSON assertion \"a[1 == 1\": expected ']' at column 4");
  EXPECT_EQ(ParseError("a == 1 extra"),
            "invalid JSON assertion \"a == 1 extra\": unexpected text at column 8");
  EXPECT_EQ(ParseError("a == [1]"),
            "invalid JSON assertion \"a == [1]\": expected a string, number, true, false or null "
            "at column 6");
}

}  // namespace
}  // namespace vigil::http
