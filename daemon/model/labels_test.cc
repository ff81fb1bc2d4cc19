#include "daemon/model/labels.h"

#include <gtest/gtest.h>

namespace vigil::model {
namespace {

TEST(Labels, SortsDedupsAndDropsEmptyValues) {
  Labels l{{"b", "2"}, {"__name__", "up"}, {"a", "1"}, {"empty", ""}, {"a", "3"}};
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l.items()[0].name, "__name__");
  EXPECT_EQ(l.Get("a"), "3");
  EXPECT_EQ(l.Get("missing"), "");
  EXPECT_FALSE(l.Has("empty"));
  EXPECT_EQ(l.ToString(), "up{a=\"3\", b=\"2\"}");
}

TEST(Labels, HashIsOrderIndependentAndDistinguishesPairs) {
  Labels a{{"x", "1"}, {"y", "2"}};
  Labels b{{"y", "2"}, {"x", "1"}};
  Labels c{{"x", "12"}};
  Labels d{{"x", "1"}, {"2", ""}};
  EXPECT_EQ(a.Hash(), b.Hash());
  EXPECT_NE(a.Hash(), c.Hash());
  EXPECT_NE((Labels{{"x", "1y"}}.Hash()), (Labels{{"x1", "y"}}.Hash()));
  EXPECT_EQ(d, (Labels{{"x", "1"}}));
}

TEST(Labels, KeepDropAndGroupingHashes) {
  Labels l{{"__name__", "m"}, {"job", "api"}, {"instance", "a"}};
  EXPECT_EQ(l.Keep({"job"}).ToString(), "{job=\"api\"}");
  EXPECT_EQ(l.WithoutMetricName().ToString(), "{instance=\"a\", job=\"api\"}");
  Labels other{{"__name__", "n"}, {"job", "api"}, {"instance", "b"}};
  EXPECT_EQ(l.HashForLabels({"job"}), other.HashForLabels({"job"}));
  EXPECT_EQ(l.HashWithoutLabels({"instance"}), other.HashWithoutLabels({"instance"}));
  EXPECT_NE(l.HashWithoutLabels({}), other.HashWithoutLabels({}));
}

TEST(LabelsBuilder, SetAndDelete) {
  Labels base{{"a", "1"}, {"b", "2"}};
  Labels out = LabelsBuilder(base).Set("c", "3").Set("a", "").Set("b", "x").Build();
  EXPECT_EQ(out, (Labels{{"b", "x"}, {"c", "3"}}));
}

}  // namespace
}  // namespace vigil::model
