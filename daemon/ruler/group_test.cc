// Alert state machine and group evaluation, against a real store and engine.
#include "daemon/ruler/group.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cmath>
#include <mutex>

#include "daemon/model/sample.h"
#include "daemon/promql/parser.h"
#include "daemon/ruler/metrics.h"
#include "daemon/store/store.h"

namespace vigil::ruler {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'700'000'000'000;  // a whole second

class RecordingSink : public AlertSink {
 public:
  void Send(const std::vector<Alert>& alerts) override {
    for (const auto& a : alerts) sent.push_back(a);
  }
  std::vector<Alert> sent;
};

RuleSpec Alerting(std::string name, std::string expr, int64_t for_ms = 0, model::Labels labels = {},
                  std::map<std::string, std::string> annotations = {}) {
  RuleSpec r;
  r.alert = std::move(name);
  r.expr_text = std::move(expr);
  r.expr = std::shared_ptr<const promql::Expr>(promql::ParseExpr(r.expr_text).value());
  r.for_duration = util::Duration(for_ms);
  r.labels = std::move(labels);
  r.annotations = std::move(annotations);
  return r;
}

RuleSpec Recording(std::string name, std::string expr) {
  RuleSpec r;
  r.record = std::move(name);
  r.expr_text = std::move(expr);
  r.expr = std::shared_ptr<const promql::Expr>(promql::ParseExpr(r.expr_text).value());
  return r;
}

class GroupTest : public ::testing::Test {
 protected:
  RuleGroup MakeGroup(std::vector<RuleSpec> rules, uint64_t limit = 0) {
    GroupSpec spec;
    spec.name = "g";
    spec.file = "rules.yml";
    spec.limit = limit;
    spec.rules = std::move(rules);
    GroupOptions options;
    options.template_context.external_url = "http://vigil:9090";
    return RuleGroup(std::move(spec), std::move(options));
  }
  void Set(const model::Labels& labels, int64_t t, double v) {
    ASSERT_TRUE(store_.Append(labels, t, v).has_value());
  }
  void Eval(RuleGroup& group, int64_t t) { group.Eval(t, deps_); }
  // The single alert of the group's first rule.
  ActiveAlert OnlyAlert(RuleGroup& group) {
    auto alerts = group.rules()[0].alerting->ActiveAlerts();
    EXPECT_EQ(alerts.size(), 1u);
    return alerts.empty() ? ActiveAlert{} : alerts[0];
  }
  std::vector<model::Series> Select(const std::string& name, int64_t mint, int64_t maxt) {
    std::vector<model::Matcher> m;
    m.push_back(model::Matcher::Create(model::MatchType::kEqual, "__name__", name).value());
    return store_.Select(m, mint, maxt);
  }

  store::Store store_;
  promql::Engine engine_;
  RecordingSink sink_;
  prometheus::Registry registry_;
  RulerMetrics metrics_{registry_};
  EvalDeps deps_{engine_, store_, store_, &sink_, &metrics_};
  const model::Labels up_{{"__name__", "up"}, {"job", "api"}};
};

TEST_F(GroupTest, PendingBecomesFiringAfterForAndIsSentWithEndsAt) {
  RuleGroup group = MakeGroup({Alerting("Down", "up == 0", 5 * kMin, {{"severity", "page"}})});
  for (int i = 0; i <= 5; ++i) Set(up_, kT0 + i * kMin, 0);
  Eval(group, kT0);
  ActiveAlert a = OnlyAlert(group);
  EXPECT_EQ(a.state, AlertState::kPending);
  EXPECT_EQ(a.active_at, kT0);
  EXPECT_EQ(a.labels, (model::Labels{{"alertname", "Down"}, {"job", "api"}, {"severity", "page"}}));
  EXPECT_TRUE(sink_.sent.empty());  // pending alerts are never sent

  Eval(group, kT0 + 4 * kMin);
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kPending);
  Eval(group, kT0 + 5 * kMin);
  a = OnlyAlert(group);
  EXPECT_EQ(a.state, AlertState::kFiring);
  EXPECT_EQ(a.fired_at, kT0 + 5 * kMin);
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(sink_.sent[0].starts_at, kT0 + 5 * kMin);           // FiredAt, not ActiveAt
  EXPECT_EQ(sink_.sent[0].ends_at, kT0 + 5 * kMin + 4 * kMin);  // 4 × max(1m, 1m)
  EXPECT_EQ(sink_.sent[0].generator_url, "http://vigil:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
  EXPECT_EQ(sink_.sent[0].state, AlertState::kFiring);

  // ALERTS and ALERTS_FOR_STATE are written only once the rule is restored.
  EXPECT_TRUE(Select("ALERTS", 0, kT0 + 10 * kMin).empty());
}

TEST_F(GroupTest, AlertsSeriesWhenRestored) {
  RuleGroup group = MakeGroup({Alerting("Down", "up == 0", 1 * kMin)});
  group.rules()[0].alerting->SetRestored(true);
  Set(up_, kT0 + 500, 0);
  Eval(group, kT0 + 1500);  // ActiveAt written in whole seconds
  auto alerts = Select("ALERTS", 0, kT0 + kMin);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].labels, (model::Labels{{"__name__", "ALERTS"},
                                             {"alertname", "Down"},
                                             {"alertstate", "pending"},
                                             {"job", "api"}}));
  auto for_state = Select("ALERTS_FOR_STATE", 0, kT0 + kMin);
  ASSERT_EQ(for_state.size(), 1u);
  EXPECT_FALSE(for_state[0].labels.Has("alertstate"));
  ASSERT_EQ(for_state[0].samples.size(), 1u);
  EXPECT_EQ(for_state[0].samples[0].v, 1'700'000'001.0);
}

TEST_F(GroupTest, ResendEveryDelayStrictlyAndResolvedKeptFifteenMinutes) {
  RuleGroup group = MakeGroup({Alerting("Down", "up == 0")});
  for (int i = 0; i <= 3; ++i) Set(up_, kT0 + i * kMin, 0);
  Set(up_, kT0 + 4 * kMin, 1);
  Eval(group, kT0);             // fires at once with for 0: sent
  Eval(group, kT0 + kMin);      // LastSentAt + 1m < ts is false: not sent
  Eval(group, kT0 + 2 * kMin);  // sent
  Eval(group, kT0 + 3 * kMin);  // not sent
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(sink_.sent[1].ends_at, kT0 + 2 * kMin + 4 * kMin);

  Eval(group, kT0 + 4 * kMin);  // resolved: sent at once with endsAt = ResolvedAt
  ActiveAlert a = OnlyAlert(group);
  EXPECT_EQ(a.state, AlertState::kInactive);
  EXPECT_EQ(a.resolved_at, kT0 + 4 * kMin);
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(sink_.sent[2].state, AlertState::kInactive);
  EXPECT_EQ(sink_.sent[2].ends_at, kT0 + 4 * kMin);
  EXPECT_EQ(sink_.sent[2].starts_at, kT0);

  Eval(group, kT0 + 19 * kMin);  // 15m after resolution: still kept (and re-sent)
  EXPECT_EQ(group.rules()[0].alerting->ActiveAlerts().size(), 1u);
  EXPECT_EQ(sink_.sent.size(), 4u);
  Eval(group, kT0 + 19 * kMin + 1);  // more than 15m: deleted
  EXPECT_TRUE(group.rules()[0].alerting->ActiveAlerts().empty());
}

TEST_F(GroupTest, PendingAlertIsDroppedWhenItDisappears) {
  RuleGroup group = MakeGroup({Alerting("Down", "up == 0", 5 * kMin)});
  Set(up_, kT0, 0);
  Set(up_, kT0 + kMin, 1);
  Eval(group, kT0);
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kPending);
  Eval(group, kT0 + kMin);
  EXPECT_TRUE(group.rules()[0].alerting->ActiveAlerts().empty());
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(GroupTest, KeepFiringForHoldsTheAlert) {
  RuleSpec spec = Alerting("Down", "up == 0");
  spec.keep_firing_for = util::Duration(2 * kMin);
  RuleGroup group = MakeGroup({spec});
  Set(up_, kT0, 0);
  for (int i = 1; i <= 3; ++i) Set(up_, kT0 + i * kMin, 1);
  Eval(group, kT0);
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kFiring);
  Eval(group, kT0 + kMin);
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kFiring);
  EXPECT_EQ(OnlyAlert(group).keep_firing_since, kT0 + kMin);
  Eval(group, kT0 + 2 * kMin);  // 1m < 2m
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kFiring);
  Eval(group, kT0 + 3 * kMin);  // 2m < 2m is false
  EXPECT_EQ(OnlyAlert(group).state, AlertState::kInactive);
  EXPECT_EQ(OnlyAlert(group).resolved_at, kT0 + 3 * kMin);
}

TEST_F(GroupTest, DuplicateLabelsetAfterAlertLabelsIsAnErrorAndKeepsState) {
  RuleGroup group = MakeGroup({Alerting("Dup", "{__name__=~\"a|b\"}")});
  Set(model::Labels{{"__name__", "a"}, {"x", "1"}}, kT0, 1);
  Set(model::Labels{{"__name__", "b"}, {"x", "1"}}, kT0, 1);
  Eval(group, kT0);
  RuleStatus st = group.rules()[0].status();
  EXPECT_EQ(st.health, RuleHealth::kErr);
  EXPECT_EQ(st.last_error,
            "vector contains metrics with the same labelset after applying alert labels");
  EXPECT_TRUE(group.rules()[0].alerting->ActiveAlerts().empty());
}

TEST_F(GroupTest, LimitClearsAlertsAndErrors) {
  RuleGroup group = MakeGroup({Alerting("Down", "up == 0")}, /*limit=*/1);
  Set(up_, kT0, 0);
  Set(model::Labels{{"__name__", "up"}, {"job", "db"}}, kT0, 0);
  Eval(group, kT0);
  RuleStatus st = group.rules()[0].status();
  EXPECT_EQ(st.health, RuleHealth::kErr);
  EXPECT_EQ(st.last_error, "exceeded limit of 1 with 2 alerts");
  EXPECT_TRUE(group.rules()[0].alerting->ActiveAlerts().empty());
  EXPECT_TRUE(sink_.sent.empty());
}

TEST_F(GroupTest, RecordingOutputVisibleToNextRuleSameTimestamp) {
  RuleGroup group = MakeGroup(
      {Recording("job:up:sum", "sum by (job) (up)"), Alerting("NoneUp", "job:up:sum == 0")});
  Set(up_, kT0, 0);
  Eval(group, kT0);
  auto alerts = group.rules()[1].alerting->ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].labels, (model::Labels{{"alertname", "NoneUp"}, {"job", "api"}}));
  auto recorded = Select("job:up:sum", 0, kT0 + 10 * kMin);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].samples.size(), 1u);

  // up disappears (older than the lookback): the recorded series gets a stale marker.
  Eval(group, kT0 + 10 * kMin);
  recorded = Select("job:up:sum", 0, kT0 + 10 * kMin);
  ASSERT_EQ(recorded.size(), 1u);
  ASSERT_EQ(recorded[0].samples.size(), 2u);
  EXPECT_EQ(recorded[0].samples[1].t, kT0 + 10 * kMin);
  EXPECT_TRUE(model::IsStaleNaN(recorded[0].samples[1].v));
}

TEST_F(GroupTest, TemplatesAreExpandedAndErrorsCounted) {
  RuleGroup group = MakeGroup({Alerting(
      "Down", "up == 0", 0, {{"team", "{{ $labels.job }}-oncall"}},
      {{"summary", "{{ $labels.job }} is {{ $value }}"}, {"bad", "{{ query \"up(\" }}"}})});
  Set(up_, kT0, 0);
  Eval(group, kT0);
  ActiveAlert a = OnlyAlert(group);
  EXPECT_EQ(a.labels.Get("team"), "api-oncall");
  EXPECT_EQ(a.annotations["summary"], "api is 0");
  EXPECT_THAT(a.annotations["bad"], ::testing::StartsWith("<error expanding template: "));
  bool found = false;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "vigil_template_errors_total") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].counter.value, 1);
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(GroupTest, ForRaisedByReloadSendsFiringBackToPending) {
  RuleGroup first = MakeGroup({Alerting("Down", "up == 0", 0)});
  for (int i = 0; i <= 2; ++i) Set(up_, kT0 + i * kMin, 0);
  Eval(first, kT0);
  EXPECT_EQ(OnlyAlert(first).state, AlertState::kFiring);
  RuleGroup second = MakeGroup({Alerting("Down", "up == 0", 5 * kMin)});
  second.rules()[0].alerting->SetActiveAlerts(first.rules()[0].alerting->ActiveAlerts());
  Eval(second, kT0 + kMin);
  ActiveAlert a = OnlyAlert(second);
  EXPECT_EQ(a.state, AlertState::kPending);
  EXPECT_EQ(a.fired_at, kUnset);
  EXPECT_EQ(a.active_at, kT0);
}

TEST_F(GroupTest, QueryOffsetShiftsQueriesAndOutputButNotAlertTiming) {
  GroupSpec spec;
  spec.name = "g";
  spec.file = "rules.yml";
  spec.rules = {Recording("up:copy", "up"), Alerting("Down", "up == 0", kMin)};
  GroupOptions options;
  options.query_offset = util::Duration(30'000);
  RuleGroup group(std::move(spec), std::move(options));
  group.rules()[1].alerting->SetRestored(true);
  Set(up_, kT0, 0);  // visible at ts - 30s only from kT0 + 30s on
  Eval(group, kT0 + 30'000);
  auto copy = Select("up:copy", 0, kT0 + 10 * kMin);
  ASSERT_EQ(copy.size(), 1u);
  EXPECT_EQ(copy[0].samples[0].t, kT0);  // written at ts - offset
  ActiveAlert a = group.rules()[1].alerting->ActiveAlerts().at(0);
  EXPECT_EQ(a.active_at, kT0 + 30'000);  // timing uses ts
  Eval(group, kT0 + 30'000 + kMin);
  EXPECT_EQ(group.rules()[1].alerting->ActiveAlerts().at(0).state, AlertState::kFiring);
  auto alerts = Select("ALERTS", 0, kT0 + 10 * kMin);
  ASSERT_EQ(alerts.size(), 2u);  // pending then firing, both at ts - offset
  EXPECT_EQ(alerts[0].samples[0].t, kT0 + kMin);
  EXPECT_EQ(alerts[1].samples[0].t, kT0);
}

TEST_F(GroupTest, RecordingRuleErrors) {
  Set(model::Labels{{"__name__", "a"}, {"x", "1"}}, kT0, 1);
  Set(model::Labels{{"__name__", "b"}, {"x", "1"}}, kT0, 2);
  RuleGroup dup = MakeGroup({Recording("r", "{__name__=~\"a|b\"}")});
  Eval(dup, kT0);
  EXPECT_EQ(dup.rules()[0].status().last_error,
            "vector contains metrics with the same labelset after applying rule labels");
  RuleGroup limited = MakeGroup(
      {Recording("r",
                 "label_replace({__name__=~\"a|b\"}, \"src\", \"$1\", \"__name__\", \"(.*)\")")},
      /*limit=*/1);
  Eval(limited, kT0);
  EXPECT_EQ(limited.rules()[0].status().last_error, "exceeded limit of 1 with 2 series");
  RuleGroup vector = MakeGroup({Recording("r",
                                          "vector(1) + on() group_left() "
                                          "{__name__=\"nothing\"}"),
                                Recording("s", "\"text\"")});
  Eval(vector, kT0);
  EXPECT_EQ(vector.rules()[0].status().health, RuleHealth::kOk);
  EXPECT_EQ(vector.rules()[1].status().last_error, "rule result is not a vector or scalar");
}

}  // namespace
}  // namespace vigil::ruler
