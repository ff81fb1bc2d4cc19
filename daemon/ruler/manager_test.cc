// Rule manager: reload carrying state, state file, for-state restore.
#include "daemon/ruler/manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/model/sample.h"
#include "daemon/promql/parser.h"
#include "daemon/store/store.h"

namespace vigil::ruler {
namespace {

constexpr int64_t kMin = 60'000;
constexpr int64_t kT0 = 1'700'000'000'000;

class NullSink : public AlertSink {
 public:
  void Send(const std::vector<Alert>& alerts) override { sent += alerts.size(); }
  size_t sent = 0;
};

GroupSpec Group(const std::string& name, int64_t for_ms, const std::string& extra_rule = "") {
  GroupSpec g;
  g.name = name;
  g.file = "/etc/vigil/rules.yml";
  RuleSpec r;
  r.alert = "Down";
  r.expr_text = "up == 0";
  r.expr = std::shared_ptr<const promql::Expr>(promql::ParseExpr(r.expr_text).value());
  r.for_duration = util::Duration(for_ms);
  g.rules.push_back(r);
  if (!extra_rule.empty()) {
    RuleSpec rec;
    rec.record = extra_rule;
    rec.expr_text = "sum(up)";
    rec.expr = std::shared_ptr<const promql::Expr>(promql::ParseExpr(rec.expr_text).value());
    g.rules.push_back(rec);
  }
  return g;
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_ruler_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RuleManager> NewManager(prometheus::Registry& registry) {
    ManagerOptions options;
    options.state_dir = dir_.string();
    return std::make_unique<RuleManager>(io_, clock_, engine_, store_, store_, sink_, registry,
                                         options);
  }
  void Eval(RuleManager& m, int64_t ts) {
    clock_.SetMillis(ts);
    m.EvaluateNow(*m.groups()[0], ts);
  }
  ActiveAlert OnlyAlert(RuleManager& m) {
    auto alerts = m.groups()[0]->rules()[0].alerting->ActiveAlerts();
    EXPECT_EQ(alerts.size(), 1u);
    return alerts.empty() ? ActiveAlert{} : alerts[0];
  }
  void UpZeroUntil(int64_t until) {
    for (int64_t t = kT0; t <= until; t += kMin) ASSERT_TRUE(store_.Append(up_, t, 0).has_value());
  }

  // Runs a first process from kT0 to `down_at`, then a second one that
  // starts at `restart_at`, evaluates twice (restore happens after the
  // second evaluation) and returns the restored ActiveAt.
  int64_t RestoredActiveAt(int64_t for_ms, int64_t down_at, int64_t restart_at) {
    UpZeroUntil(restart_at + kMin);
    {
      prometheus::Registry registry;
      auto first = NewManager(registry);
      first->Apply({Group("g", for_ms)});
      first->Start();
      for (int64_t t = kT0; t <= down_at; t += kMin) Eval(*first, t);
      first->Stop();
    }
    prometheus::Registry registry;
    auto second = NewManager(registry);
    second->Apply({Group("g", for_ms)});
    second->Start();
    Eval(*second, restart_at);
    EXPECT_FALSE(second->groups()[0]->rules()[0].alerting->restored());
    Eval(*second, restart_at + kMin);
    EXPECT_TRUE(second->groups()[0]->rules()[0].alerting->restored());
    return OnlyAlert(*second).active_at;
  }

  std::filesystem::path dir_;
  boost::asio::io_context io_;
  util::FakeClock clock_;
  store::Store store_;
  promql::Engine engine_;
  NullSink sink_;
  const model::Labels up_{{"__name__", "up"}, {"job", "api"}};
};

TEST_F(ManagerTest, RestoreAddsOutageToActiveAt) {
  // for 30m, pending 10m before a 5m outage: 20m remain (>= grace 10m), so
  // ActiveAt moves forward by the time since the last save, measured when the
  // restore runs (after the second evaluation, restart + 1m).
  const int64_t down_at = kT0 + 10 * kMin;
  const int64_t restart = down_at + 5 * kMin;
  EXPECT_EQ(RestoredActiveAt(30 * kMin, down_at, restart), kT0 + (restart + kMin - down_at));
}

TEST_F(ManagerTest, RestoreWithLittleTimeLeftWaitsTheGracePeriod) {
  // for 15m, pending 10m: 5m remain < grace 10m, so it fires 10m after restore.
  const int64_t down_at = kT0 + 10 * kMin;
  const int64_t restart = down_at + 2 * kMin;
  const int64_t now = restart + kMin;  // restore runs after the second evaluation
  EXPECT_EQ(RestoredActiveAt(15 * kMin, down_at, restart), now + 10 * kMin - 15 * kMin);
}

TEST_F(ManagerTest, RestoreOfFiringAlertKeepsOldActiveAtSoItFiresAtOnce) {
  prometheus::Registry registry;
  const int64_t down_at = kT0 + 20 * kMin;  // for 10m: firing since kT0 + 10m
  const int64_t restart = down_at + 3 * kMin;
  EXPECT_EQ(RestoredActiveAt(10 * kMin, down_at, restart), kT0);
  auto m = NewManager(registry);
  m->Apply({Group("g", 10 * kMin)});
  // A fresh manager sees the file saved by the restored one: still firing state.
  auto saved = LoadState((dir_ / "alerts.json").string());
  ASSERT_TRUE(saved.has_value());
  auto& alerts = (*saved)["/etc/vigil/rules.yml;g"]["Down"];
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].active_at, kT0);
}

TEST_F(ManagerTest, RestoreIgnoresStateOlderThanOutageTolerance) {
  const int64_t down_at = kT0 + 10 * kMin;
  const int64_t restart = down_at + 61 * kMin;  // > 1h outage tolerance
  EXPECT_EQ(RestoredActiveAt(30 * kMin, down_at, restart), restart);
}

TEST_F(ManagerTest, RestoreSkipsRulesWithForBelowGracePeriod) {
  const int64_t down_at = kT0 + 3 * kMin;
  const int64_t restart = down_at + 2 * kMin;
  EXPECT_EQ(RestoredActiveAt(5 * kMin, down_at, restart), restart);
}

TEST_F(ManagerTest, ReloadKeepsUnchangedGroupAndCarriesStateOfChangedOne) {
  prometheus::Registry registry;
  auto m = NewManager(registry);
  UpZeroUntil(kT0 + 5 * kMin);
  m->Apply({Group("same", 10 * kMin), Group("changed", 10 * kMin)});
  m->Start();
  auto same = m->groups()[0];
  for (auto& g : m->groups()) {
    clock_.SetMillis(kT0);
    m->EvaluateNow(*g, kT0);
  }
  m->Apply({Group("same", 10 * kMin), Group("changed", 10 * kMin, "job:up:sum")});
  ASSERT_EQ(m->groups().size(), 2u);
  EXPECT_EQ(m->groups()[0], same);  // untouched
  auto changed = m->groups()[1];
  EXPECT_EQ(changed->rules().size(), 2u);
  auto alerts = changed->rules()[0].alerting->ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].active_at, kT0);
  EXPECT_EQ(alerts[0].state, AlertState::kPending);

  // The changed group keeps its self-metrics, now with two rules.
  std::map<std::string, double> rules_per_group;
  for (const auto& family : registry.Collect()) {
    if (family.name != "vigil_rule_group_rules") continue;
    for (const auto& metric : family.metric) {
      rules_per_group[metric.label[0].value] = metric.gauge.value;
    }
  }
  EXPECT_EQ(rules_per_group, (std::map<std::string, double>{{"/etc/vigil/rules.yml;changed", 2},
                                                            {"/etc/vigil/rules.yml;same", 1}}));

  // /metrics: ALERTS and ALERTS_FOR_STATE for both groups' pending alerts.
  auto families = m->alerts_collector().Collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "ALERTS");
  ASSERT_EQ(families[0].metric.size(), 2u);
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& l : families[0].metric[0].label) labels.emplace_back(l.name, l.value);
  EXPECT_EQ(labels, (std::vector<std::pair<std::string, std::string>>{
                        {"alertname", "Down"}, {"alertstate", "pending"}, {"job", "api"}}));
  EXPECT_EQ(families[1].name, "ALERTS_FOR_STATE");
  EXPECT_EQ(families[1].metric[0].gauge.value, kT0 / 1000.0);

  m->Apply({Group("same", 10 * kMin)});
  EXPECT_EQ(m->groups().size(), 1u);
  EXPECT_EQ(m->alerts_collector().Collect()[0].metric.size(), 1u);
  m->Stop();
}

TEST_F(ManagerTest, RemovedGroupSeriesGetStaleMarkersAfterTwoIntervals) {
  prometheus::Registry registry;
  auto m = NewManager(registry);
  UpZeroUntil(kT0);
  GroupSpec g = Group("gone", 0, "job:up:sum");
  g.interval = util::Duration(20);  // 2 intervals = 40ms of real time
  m->Apply({g});
  clock_.SetMillis(kT0);
  m->EvaluateNow(*m->groups()[0], kT0);
  clock_.SetMillis(kT0 + 1000);
  m->Apply({});
  std::vector<model::Matcher> sel{
      model::Matcher::Create(model::MatchType::kEqual, "__name__", "job:up:sum").value()};
  EXPECT_EQ(store_.Select(sel, 0, kT0 + kMin)[0].samples.size(), 1u);  // not yet
  io_.run_for(std::chrono::milliseconds(200));
  auto series = store_.Select(sel, 0, kT0 + kMin);
  ASSERT_EQ(series.size(), 1u);
  ASSERT_EQ(series[0].samples.size(), 2u);
  EXPECT_EQ(series[0].samples[1].t, kT0 + 1000);
  EXPECT_TRUE(model::IsStaleNaN(series[0].samples[1].v));
}

TEST_F(ManagerTest, GroupOffsetIsStableAndWithinInterval) {
  const auto a = RuleManager::GroupOffset("f.yml", "g", util::Duration(kMin));
  EXPECT_EQ(a, RuleManager::GroupOffset("f.yml", "g", util::Duration(kMin)));
  EXPECT_GE(a, 0);
  EXPECT_LT(a, kMin);
  EXPECT_NE(a, RuleManager::GroupOffset("f.yml", "h", util::Duration(kMin)));
}

TEST_F(ManagerTest, CorruptStateFileIsAnError) {
  const std::string path = (dir_ / "alerts.json").string();
  std::ofstream(path) << "{not json";
  auto loaded = LoadState(path);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_TRUE(loaded.error().message.starts_with(path + ": invalid alert state: "));
  EXPECT_TRUE(LoadState((dir_ / "missing.json").string()).value().empty());
}

}  // namespace
}  // namespace vigil::ruler

namespace vigil::ruler {
namespace {

// The timer loop itself, on real time: a 100ms group evaluates on its slots
// (k * interval + offset) until stopped, inline or on a worker pool.
class ManagerLoopTest : public ::testing::TestWithParam<bool> {};

TEST_P(ManagerLoopTest, EvaluatesOnAlignedSlotsUntilStopped) {
  boost::asio::io_context io;
  util::RealClock clock;
  store::Store store;
  promql::Engine engine;
  NullSink sink;
  prometheus::Registry registry;
  util::WorkerPool pool(1, 4);
  RuleManager m(io, clock, engine, store, store, sink, registry, ManagerOptions{},
                GetParam() ? &pool : nullptr);
  GroupSpec g = Group("fast", 0);
  g.interval = util::Duration(100);
  m.Apply({g});
  ASSERT_TRUE(store.Append(model::Labels{{"__name__", "up"}, {"job", "api"}}, clock.NowMillis(), 0)
                  .has_value());
  m.Start();
  io.run_for(std::chrono::milliseconds(550));
  m.Stop();
  io.run_for(std::chrono::milliseconds(50));

  const auto group = m.groups()[0];
  const int64_t offset = RuleManager::GroupOffset(group->file(), group->name(), group->interval());
  EXPECT_EQ((group->last_evaluation() - offset) % 100, 0);
  auto alerts = group->rules()[0].alerting->ActiveAlerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_GE(sink.sent, 1u);
  double evaluations = -1;
  for (const auto& family : registry.Collect()) {
    if (family.name == "vigil_rule_evaluations_total") evaluations = family.metric[0].counter.value;
  }
  EXPECT_GE(evaluations, 2);  // about 5 slots in 550ms; slack for a loaded machine
  EXPECT_LE(evaluations, 6);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, ManagerLoopTest, ::testing::Bool());

}  // namespace
}  // namespace vigil::ruler

namespace vigil::ruler {
namespace {

// Wraps a querier so that each Select takes 200ms.
class SlowQuerier final : public model::Querier {
 public:
  explicit SlowQuerier(const model::Querier& inner) : inner_(inner) {}
  std::vector<model::Series> Select(std::span<const model::Matcher> matchers, int64_t mint,
                                    int64_t maxt) const override {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto out = inner_.Select(matchers, mint, maxt);
    finished = true;
    return out;
  }
  mutable std::atomic<bool> entered{false};
  mutable std::atomic<bool> finished{false};

 private:
  const model::Querier& inner_;
};

TEST(ManagerLifetimeTest, DestructorWaitsForEvaluationOnWorkerPool) {
  boost::asio::io_context io;
  util::RealClock clock;
  store::Store store;
  SlowQuerier slow(store);
  promql::Engine engine;
  NullSink sink;
  prometheus::Registry registry;
  util::WorkerPool pool(1, 4);
  auto m = std::make_unique<RuleManager>(io, clock, engine, slow, store, sink, registry,
                                         ManagerOptions{}, &pool);
  GroupSpec g = Group("slow", 0);
  g.interval = util::Duration(50);
  m->Apply({g});
  m->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!slow.entered && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(slow.entered);
  m.reset();  // must block until the evaluation on the pool is over
  EXPECT_TRUE(slow.finished);
  io.run_for(std::chrono::milliseconds(100));  // the loop resumes and ends safely
}

TEST(ManagerLifetimeTest, OverrunningGroupSkipsAndCountsMissedSlots) {
  boost::asio::io_context io;
  util::RealClock clock;
  store::Store store;
  SlowQuerier slow(store);  // 200ms per evaluation, interval 50ms
  promql::Engine engine;
  NullSink sink;
  prometheus::Registry registry;
  RuleManager m(io, clock, engine, slow, store, sink, registry, ManagerOptions{});
  GroupSpec g = Group("overrun", 0);
  g.interval = util::Duration(50);
  m.Apply({g});
  m.Start();
  io.run_for(std::chrono::milliseconds(700));
  m.Stop();
  double evaluations = 0, missed = 0, iterations = 0;
  for (const auto& family : registry.Collect()) {
    if (family.metric.empty()) continue;
    const double v = family.metric[0].counter.value;
    if (family.name == "vigil_rule_evaluations_total") evaluations = v;
    if (family.name == "vigil_rule_group_iterations_missed_total") missed = v;
    if (family.name == "vigil_rule_group_iterations_total") iterations = v;
  }
  // Each evaluation overruns by about three slots, which are skipped, not caught up.
  EXPECT_GE(evaluations, 2);
  EXPECT_LE(evaluations, 4);
  EXPECT_GE(missed, 3 * (evaluations - 1));
  EXPECT_EQ(iterations, evaluations + missed);
}

}  // namespace
}  // namespace vigil::ruler
