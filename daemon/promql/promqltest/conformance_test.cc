// Runs every Prometheus conformance file and fails when a case listed in the
// checked-in expected-pass list (file:line per eval) does not pass. With
// VIGIL_PROMQLTEST_UPDATE=1 the lists are rewritten from the current run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "daemon/promql/promqltest/runner.h"

namespace vigil::promqltest {
namespace {

namespace fs = std::filesystem;

const std::string kShared = std::string(VIGIL_SOURCE_DIR) + "/../shared/conformance";
const std::string kLists = std::string(VIGIL_SOURCE_DIR) + "/daemon/promql/promqltest";

std::vector<FileReport> RunDir(const std::string& dir, const promql::Semantics& semantics) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<FileReport> reports;
  for (const auto& f : files) reports.push_back(RunTestFile(f, semantics));
  return reports;
}

// "dir/file.test:line" keys of passing cases, relative to the shared dir.
std::set<std::string> Passing(const std::vector<FileReport>& reports) {
  std::set<std::string> out;
  for (const auto& r : reports) {
    std::string rel = fs::path(r.path).parent_path().filename().string() + "/" +
                      fs::path(r.path).filename().string();
    for (const auto& c : r.cases) {
      if (c.outcome == Outcome::kPassed) out.insert(rel + ":" + std::to_string(c.line));
    }
  }
  return out;
}

void CheckAgainstList(const std::string& dir, const promql::Semantics& semantics,
                      const std::string& list) {
  if (!fs::exists(dir)) GTEST_SKIP() << "conformance files not found at " << dir;
  std::vector<FileReport> reports = RunDir(dir, semantics);
  const char* verbose = std::getenv("VIGIL_PROMQLTEST_VERBOSE");
  PrintReport(std::cout, reports, verbose != nullptr && std::string(verbose) == "1");
  std::set<std::string> passing = Passing(reports);
  std::string list_path = kLists + "/" + list;
  const char* update = std::getenv("VIGIL_PROMQLTEST_UPDATE");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(list_path);
    for (const auto& key : passing) out << key << "\n";
    return;
  }
  std::ifstream in(list_path);
  ASSERT_TRUE(in) << "missing expected-pass list " << list_path;
  std::string line;
  int expected = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++expected;
    EXPECT_TRUE(passing.contains(line)) << "expected to pass but did not: " << line;
  }
  EXPECT_GT(expected, 0);
}

TEST(ConformanceTest, PromqlV242UnderV2Semantics) {
  CheckAgainstList(kShared + "/promql-v2.42", promql::Semantics::V2(), "expected_pass_v2.txt");
}

TEST(ConformanceTest, PromqlMainUnderV3Semantics) {
  CheckAgainstList(kShared + "/promql", promql::Semantics::V3(), "expected_pass_v3.txt");
}

}  // namespace
}  // namespace vigil::promqltest
