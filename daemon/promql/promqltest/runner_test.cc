#include "daemon/promql/promqltest/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vigil::promqltest {
namespace {

namespace fs = std::filesystem;

class RunnerTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    fs::path dir =
        fs::path(::testing::TempDir()) / ("promqltest_runner" + std::to_string(getpid()));
    fs::create_directories(dir);
    fs::path p = dir / name;
    std::ofstream(p) << content;
    return p.string();
  }
};

TEST_F(RunnerTest, ClassifiesEachEval) {
  std::string path = Write("basic.test", R"(# comment
load 1m
    metric{job="a"} 0+10x10
    metric{job="b"} 1 _ stale 4
    hist {{schema:0 sum:1 count:1}}

eval instant at 5m metric{job="a"}
    metric{job="a"} 50

eval instant at 5m sum(metric)
    {} 999

eval range from 0 to 2m step 1m metric{job="b"}
    metric{job="b"} 1 1 _

eval_fail instant at 0 1 +

eval instant at 0 metric / on() metric
    expect fail msg: found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="metric", job="a"}, {__name__="metric", job="b"}];many-to-many matching not allowed: matching labels must be unique on one side

eval instant at 0 hist
    {} 1

eval instant at 0 info(metric)

eval_ordered instant at 5m sort_desc(metric)
    metric{job="b"} 4
    metric{job="a"} 50

eval instant at 5m "x"
    expect string "x"

clear

eval instant at 5m metric
)");
  FileReport report = RunTestFile(path, promql::Semantics::V3());
  ASSERT_EQ(report.error, "");
  ASSERT_EQ(report.cases.size(), 10u);
  auto expect_case = [&](size_t i, int line, Outcome outcome, const std::string& reason) {
    SCOPED_TRACE(i);
    EXPECT_EQ(report.cases[i].line, line);
    EXPECT_EQ(report.cases[i].outcome, outcome);
    EXPECT_EQ(report.cases[i].reason, reason);
  };
  expect_case(0, 7, Outcome::kPassed, "");
  expect_case(1, 10, Outcome::kFailed, "{}: want 999, got 54");
  expect_case(2, 13, Outcome::kPassed, "");
  expect_case(3, 16, Outcome::kPassed, "");
  expect_case(4, 18, Outcome::kPassed, "");
  expect_case(5, 21, Outcome::kSkipped, "native histograms");
  expect_case(6, 24, Outcome::kSkipped, "experimental function info()");
  expect_case(7, 26, Outcome::kFailed, "metric{job=\"b\"}: expected at position 0, got position 1");
  expect_case(8, 30, Outcome::kPassed, "");
  expect_case(9, 35, Outcome::kPassed, "");
  EXPECT_EQ(report.Count(Outcome::kPassed), 6);

  std::ostringstream out;
  std::vector<FileReport> reports{report};
  PrintReport(out, reports);
  std::string text = out.str();
  EXPECT_NE(text.find(path + ": 6 passed, 2 failed, 2 skipped\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("6 passed, 2 failed, 2 skipped\n")) << text;
}

TEST_F(RunnerTest, ReRunsInRangeModeAndWithAtModifier) {
  // Under 2.x semantics the sample at 0 is still visible at 5m; the extra
  // runs must agree with the instant result for the case to pass.
  std::string path = Write("rerun.test", R"(load 5m
    x 1 2

eval instant at 5m x
    x 2

eval instant at 10m x
    x 2

eval instant at 10m rate(x[10m])
    {} 0.0033333333333333335
)");
  FileReport v2 = RunTestFile(path, promql::Semantics::V2());
  ASSERT_EQ(v2.cases.size(), 3u);
  EXPECT_EQ(v2.cases[0].outcome, Outcome::kPassed) << v2.cases[0].reason;
  EXPECT_EQ(v2.cases[1].outcome, Outcome::kPassed) << v2.cases[1].reason;
  EXPECT_EQ(v2.cases[2].outcome, Outcome::kPassed) << v2.cases[2].reason;
  FileReport v3 = RunTestFile(path, promql::Semantics::V3());
  ASSERT_EQ(v3.cases.size(), 3u);
  EXPECT_EQ(v3.cases[1].outcome, Outcome::kFailed);
  EXPECT_EQ(v3.cases[1].reason, "expected 1 samples, got 0: (empty)");
}

TEST_F(RunnerTest, ReportsUnreadableFiles) {
  FileReport report = RunTestFile("/nonexistent/x.test", promql::Semantics::V3());
  EXPECT_EQ(report.error, "cannot open /nonexistent/x.test");
  EXPECT_TRUE(report.cases.empty());
}

}  // namespace
}  // namespace vigil::promqltest
