// The shipped rules (rules/*.rules.yml) pass their unit tests (rules/tests/)
// under both PromQL semantics and pass `check rules`. The same files are run
// by the real promtool in CTest (see CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/ruler/ruletest/rule_tests.h"

namespace vigil::ruletest {
namespace {

const std::filesystem::path kRules = std::filesystem::path(VIGIL_SOURCE_DIR) / "rules";

std::vector<std::string> Files(const std::filesystem::path& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedRules, EveryRuleFileHasATestFile) {
  std::vector<std::string> rules = Files(kRules, ".rules.yml");
  ASSERT_EQ(rules.size(), 6u);
  for (const auto& r : rules) {
    std::string stem = std::filesystem::path(r).filename().string();
    stem = stem.substr(0, stem.size() - std::string(".rules.yml").size());
    EXPECT_TRUE(std::filesystem::exists(kRules / "tests" / (stem + "_test.yml"))) << stem;
  }
}

TEST(ShippedRules, CheckRulesAcceptsEveryFile) {
  for (const auto& semantics : {promql::Semantics::V2(), promql::Semantics::V3()}) {
    std::ostringstream out, err;
    EXPECT_EQ(CheckRules(Files(kRules, ".rules.yml"), semantics, out, err), 0) << err.str();
    EXPECT_EQ(err.str(), "");
  }
}

TEST(ShippedRules, UnitTestsPassUnderV2) {
  TestRulesOptions options;
  options.semantics = promql::Semantics::V2();
  std::ostringstream out, err;
  EXPECT_EQ(TestRules(Files(kRules / "tests", "_test.yml"), options, out, err), 0) << err.str();
  EXPECT_EQ(err.str(), "");
}

TEST(ShippedRules, UnitTestsPassUnderV3) {
  std::ostringstream out, err;
  EXPECT_EQ(TestRules(Files(kRules / "tests", "_test.yml"), {}, out, err), 0) << err.str();
  EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace vigil::ruletest
