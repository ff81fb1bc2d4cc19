#include "daemon/ruler/rule_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vigil::ruler {
namespace {

class RuleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_rule_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(RuleFileTest, LoadsGroupsWithDefaultsAndMergedLabels) {
  std::string path = Write("ok.yml", R"(groups:
  - name: g
    interval: 30s
    limit: 10
    labels: {team: infra, severity: low}
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.job }} down", empty: ""}
)");
  RuleFileResult r = LoadRuleFile(path);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  ASSERT_EQ(r.groups.size(), 1u);
  const GroupSpec& g = r.groups[0];
  EXPECT_EQ(g.name, "g");
  EXPECT_EQ(g.file, path);
  EXPECT_EQ(g.interval, util::Duration(30000));
  EXPECT_FALSE(g.query_offset.has_value());
  EXPECT_EQ(g.limit, 10u);
  ASSERT_EQ(g.rules.size(), 2u);
  EXPECT_EQ(g.rules[0].record, "job:up:sum");
  EXPECT_EQ(g.rules[0].expr->String(), "sum by (job) (up)");
  EXPECT_EQ(g.rules[1].alert, "Down");
  EXPECT_EQ(g.rules[1].for_duration, util::Duration(300000));
  EXPECT_EQ(g.rules[1].keep_firing_for, util::Duration(60000));
  EXPECT_EQ(g.rules[1].labels, (model::Labels{{"severity", "page"}, {"team", "infra"}}));
  EXPECT_EQ(g.rules[1].annotations.at("empty"), "");
}

TEST_F(RuleFileTest, ReportsEveryErrorInPromtoolFormat) {
  std::string path = Write("bad.yml", R"(groups:
  - name: g
    rules:
      - record: "bad name"
        expr: up
        for: 5m
      - alert: A
        expr: sum(up
      - alert: B
        record: b
        expr: up
      - alert: C
        expr: up
        labels: {"1x": y}
        annotations: {summary: "{{ $label.x }}"}
        bogus: 1
  - name: g
    rules: []
)");
  RuleFileOptions v2;  // legacy name checks
  v2.semantics = promql::Semantics::V2();
  RuleFileResult r = LoadRuleFile(path, v2);
  EXPECT_THAT(
      r.errors,
      ::testing::ElementsAre(
          path + ":16:9: unknown field \"bogus\" in rule",
          path + ": 4:17: group \"g\", rule 1, \"bad name\": invalid field 'for' in recording rule",
          path + ": 4:17: group \"g\", rule 1, \"bad name\": invalid recording rule name: bad name",
          path + ": 8:15: group \"g\", rule 2, \"A\": could not parse expression: 1:7: parse "
                 "error: unexpected end of input in aggregation, expected \",\" or \")\"",
          path + ": 10:17: 9:16: group \"g\", rule 3, \"B\": only one of 'record' and 'alert' "
                 "must be set",
          path + ": group \"g\", rule 4, \"C\": invalid label name: 1x",
          path + ": group \"g\", rule 4, \"C\": annotation \"summary\": template: __alert_C:1: "
                 "undefined variable \"$label\"",
          path + ": 17:5: groupname: \"g\" is repeated in the same file"));
  EXPECT_TRUE(r.groups.empty());
}

TEST_F(RuleFileTest, MaxLookbackCoversRangesOffsetsAndQueryOffset) {
  std::string path = Write("lookback.yml", R"(groups:
  - name: a
    rules:
      - record: r
        expr: rate(x[10m] offset 1h)
      - alert: A
        expr: up == 0
  - name: b
    query_offset: 2h
    rules:
      - record: s
        expr: y
)");
  RuleFileResult r = LoadRuleFile(path);
  ASSERT_TRUE(r.ok()) << r.errors[0];
  // 10m + 1h for rate(x[10m] offset 1h); 5m lookback + 2h query_offset for y.
  EXPECT_EQ(RulesMaxLookback(r.groups), util::Duration(std::chrono::minutes(125)));
  EXPECT_EQ(RulesMaxLookback({r.groups[0]}), util::Duration(std::chrono::minutes(70)));
}

TEST_F(RuleFileTest, GlobsLoadEachFileOnceInOrder) {
  Write("a.rules.yml", "groups: [{name: a, rules: [{record: a, expr: '1'}]}]\n");
  Write("b.rules.yml", "groups: [{name: b, rules: [{record: b, expr: '1'}]}]\n");
  RuleFileResult r = LoadRuleFiles({"*.rules.yml", "a.rules.yml", "none*.yml"}, dir_.string());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].name, "a");
  EXPECT_EQ(r.groups[1].name, "b");
}

// `{{else with}}` came with Go 1.23: Prometheus 3.x accepts it, promtool 2.42
// (Go 1.19) rejects it with this text.
TEST_F(RuleFileTest, ElseWithOnlyUnderV3) {
  std::string path = Write("else_with.yml", R"(groups:
  - name: g
    rules:
      - alert: A
        expr: up == 0
        annotations:
          summary: "{{ with $labels.a }}{{ . }}{{ else with $labels.b }}{{ . }}{{ end }}"
)");
  EXPECT_TRUE(LoadRuleFile(path).ok());
  RuleFileResult r = LoadRuleFile(path, {.semantics = promql::Semantics::V2()});
  EXPECT_THAT(r.errors,
              ::testing::ElementsAre(path + ": group \"g\", rule 1, \"A\": annotation \"summary\": "
                                            "template: __alert_A:1: unexpected <with> in else"));
}

TEST_F(RuleFileTest, LegacyNamesUnderV2) {
  std::string path =
      Write("utf8.yml", "groups: [{name: g, rules: [{record: 'a.b', expr: '1'}]}]\n");
  EXPECT_TRUE(LoadRuleFile(path).ok());
  RuleFileOptions v2;
  v2.semantics = promql::Semantics::V2();
  RuleFileResult r = LoadRuleFile(path, v2);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], ::testing::EndsWith("invalid recording rule name: a.b"));
}

}  // namespace
}  // namespace vigil::ruler
