#include "daemon/scheduler/probe_scheduler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "daemon/model/sample.h"
#include "exporters/common/families.h"

namespace vigil::scheduler {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct Appended {
  model::Labels labels;
  int64_t t;
  double v;
};

class RecordingAppender final : public model::Appender {
 public:
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override {
    samples.push_back({labels, t, v});
    return {};
  }
  std::vector<Appended> samples;
};

// A prober that takes `delay` and fails when the target string says "down".
class FakeProber final : public exporters::TargetProber {
 public:
  FakeProber(asio::io_context& io, std::string target, milliseconds delay, int& in_flight,
             int& max_in_flight)
      : io_(io), target_(std::move(target)), delay_(delay), in_flight_(in_flight),
        max_in_flight_(max_in_flight) {}
  asio::awaitable<exporters::ProbeResult> Probe(milliseconds) override {
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    asio::steady_timer timer(io_, delay_);
    co_await timer.async_wait(asio::use_awaitable);
    --in_flight_;
    exporters::ProbeResult result;
    result.success = target_ != "down";
    if (!result.success) result.failure_reason = "connect";
    result.families.push_back(exporters::GaugeFamily("fake_value", "A value.", 42));
    co_return result;
  }

 private:
  asio::io_context& io_;
  std::string target_;
  milliseconds delay_;
  int& in_flight_;
  int& max_in_flight_;
};

class FakeKind final : public exporters::ProbeKind {
 public:
  FakeKind(asio::io_context& io, milliseconds delay) : io_(io), delay_(delay) {}
  std::string name() const override { return "fake"; }
  std::shared_ptr<const config::ProberOptions> ParseOptions(const YAML::Node&,
                                                            config::YamlErrorSink&) const override {
    return std::make_shared<config::ProberOptions>();
  }
  util::Result<std::unique_ptr<exporters::TargetProber>> NewTarget(
      const config::ModuleConfig&, const std::string& target) override {
    if (target == "bad") return util::Fail("cannot parse target \"bad\"");
    ++created;
    return std::make_unique<FakeProber>(io_, target, delay_, in_flight, max_in_flight);
  }
  int created = 0;
  int in_flight = 0;
  int max_in_flight = 0;

 private:
  asio::io_context& io_;
  milliseconds delay_;
};

config::Config MakeConfig(std::vector<std::pair<std::string, std::string>> probes,
                          milliseconds interval) {
  config::Config cfg;
  config::ModuleConfig module;
  module.name = "m";
  module.prober = "fake";
  module.options = std::make_shared<config::ProberOptions>();  // new per load, as on reload
  module.definition = "prober: fake\n";
  cfg.modules["m"] = module;
  for (auto& [name, target] : probes) {
    config::ProbeConfig p;
    p.name = name;
    p.module = "m";
    p.target = target;
    p.interval = interval;
    p.labels = model::Labels{{"team", "sre"}};
    cfg.probes.push_back(p);
  }
  return cfg;
}

void RunFor(asio::io_context& io, milliseconds d) {
  io.restart();
  io.run_for(d);
}

TEST(DelayToFirstTick, StableAndWithinTheInterval) {
  auto a = DelayToFirstTick("api", milliseconds(15000), 1'000'000);
  EXPECT_GE(a.count(), 0);
  EXPECT_LT(a.count(), 15000);
  // The tick lands on the same phase whenever we start.
  EXPECT_EQ((1'000'000 + a.count()) % 15000,
            (1'007'000 + DelayToFirstTick("api", milliseconds(15000), 1'007'000).count()) % 15000);
  EXPECT_NE(DelayToFirstTick("api", milliseconds(15000), 0),
            DelayToFirstTick("web", milliseconds(15000), 0));
}

TEST(AlignToTickGrid, RoundsUpToTheGridOfTheInterval) {
  using std::chrono::steady_clock;
  auto at = [](int64_t us) { return steady_clock::time_point(std::chrono::microseconds(us)); };
  // 25 ms grid for intervals of 25 ms and more.
  EXPECT_EQ(AlignToTickGrid(at(1'000'000), milliseconds(15000)), at(1'000'000));
  EXPECT_EQ(AlignToTickGrid(at(1'000'001), milliseconds(15000)), at(1'025'000));
  EXPECT_EQ(AlignToTickGrid(at(1'024'999), milliseconds(25)), at(1'025'000));
  // Targets whose schedules fall into one slot share the expiry.
  EXPECT_EQ(AlignToTickGrid(at(2'000'300), milliseconds(5000)),
            AlignToTickGrid(at(2'024'900), milliseconds(5000)));
  EXPECT_NE(AlignToTickGrid(at(2'000'300), milliseconds(5000)),
            AlignToTickGrid(at(2'025'300), milliseconds(5000)));
  // Shorter intervals use their own length as the grid.
  EXPECT_EQ(AlignToTickGrid(at(1'000'001), milliseconds(4)), at(1'004'000));
  EXPECT_EQ(AlignToTickGrid(at(1'004'000), milliseconds(4)), at(1'004'000));
  EXPECT_EQ(AlignToTickGrid(at(1'009'999), milliseconds(10)), at(1'010'000));
}

TEST(ProbeScheduler, ProbesOnScheduleAndRecordsResults) {
  asio::io_context io;
  exporters::ProbeKindRegistry kinds;
  auto kind = std::make_unique<FakeKind>(io, milliseconds(1));
  FakeKind* fake = kind.get();
  kinds.Register(std::move(kind));
  RecordingAppender appender;
  util::RealClock clock;
  ProbeScheduler scheduler(io, kinds, appender, clock);
  auto problems = scheduler.Apply(MakeConfig({{"up", "ok"}, {"down", "down"}, {"broken", "bad"}},
                                             milliseconds(50)));
  ASSERT_EQ(problems, std::vector<std::string>{"probe \"broken\": cannot parse target \"bad\""});
  EXPECT_FALSE(scheduler.FirstRoundDone());
  RunFor(io, milliseconds(400));
  EXPECT_TRUE(scheduler.FirstRoundDone());

  auto status = scheduler.Status();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].name, "down");
  EXPECT_FALSE(status[0].success);
  EXPECT_EQ(status[0].last_failure_reason, "connect");
  EXPECT_GE(status[0].failures, 3u);  // 8 ticks in 400 ms; fewer on a loaded machine
  EXPECT_LE(status[0].failures, 9u);
  EXPECT_EQ(status[1].name, "up");
  EXPECT_TRUE(status[1].success);
  EXPECT_GE(status[1].successes, 3u);

  bool saw_success_sample = false;
  for (const auto& s : appender.samples) {
    if (s.labels.MetricName() == "probe_success" && s.labels.Get("target") == "up") {
      saw_success_sample = true;
      EXPECT_EQ(s.v, 1);
      EXPECT_EQ(s.labels.Get("instance"), "ok");
      EXPECT_EQ(s.labels.Get("module"), "m");
      EXPECT_EQ(s.labels.Get("team"), "sre");
    }
  }
  EXPECT_TRUE(saw_success_sample);

  bool exported_failure = false;
  for (const auto& family : scheduler.Collect()) {
    if (family.name != "vigil_probe_failure_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& label : m.label) {
        exported_failure = exported_failure || (label.name == "reason" && label.value == "connect");
      }
    }
  }
  EXPECT_TRUE(exported_failure);
  // Every probe started on a tick whose lateness was recorded.
  EXPECT_GE(scheduler.lateness().count(), status[0].failures + status[1].successes);

  // Removing a target writes stale markers for its series and stops it.
  size_t before = appender.samples.size();
  scheduler.Apply(MakeConfig({{"up", "ok"}}, milliseconds(50)));
  size_t stale = 0;
  for (size_t i = before; i < appender.samples.size(); ++i) {
    if (model::IsStaleNaN(appender.samples[i].v)) {
      EXPECT_EQ(appender.samples[i].labels.Get("target"), "down");
      ++stale;
    }
  }
  EXPECT_EQ(stale, 3u);  // fake_value, probe_success, probe_duration_seconds
  EXPECT_EQ(fake->created, 2);  // "up" was kept, not recreated
  scheduler.Stop();
}

TEST(ProbeScheduler, NeverOverlapsProbesOfOneTarget) {
  asio::io_context io;
  exporters::ProbeKindRegistry kinds;
  auto kind = std::make_unique<FakeKind>(io, milliseconds(120));  // slower than the interval
  FakeKind* fake = kind.get();
  kinds.Register(std::move(kind));
  RecordingAppender appender;
  util::RealClock clock;
  ProbeScheduler scheduler(io, kinds, appender, clock);
  scheduler.Apply(MakeConfig({{"slow", "ok"}}, milliseconds(50)));
  RunFor(io, milliseconds(600));
  EXPECT_EQ(fake->max_in_flight, 1);
  auto status = scheduler.Status();
  EXPECT_GE(status[0].missed, 4u);
  EXPECT_GE(status[0].successes, 3u);
  scheduler.Stop();
}

// Hands out a ref per label set and records how each sample came in.
class RefAppender final : public model::Appender {
 public:
  struct Call {
    model::SeriesRef ref;  // what the caller passed
    model::Labels labels;
    double v;
  };
  util::Result<void> Append(const model::Labels& labels, int64_t t, double v) override {
    return AppendRef(0, labels, t, v).map([](model::SeriesRef) {});
  }
  util::Result<model::SeriesRef> AppendRef(model::SeriesRef ref, const model::Labels& labels,
                                           int64_t, double v) override {
    calls.push_back({ref, labels, v});
    auto [it, inserted] = refs.try_emplace(labels.ToString(), refs.size() + 1);
    return it->second;
  }
  std::map<std::string, model::SeriesRef> refs;  // by labels
  std::vector<Call> calls;
};

// Its first probe also reports fake_tls{version="TLS 1.3"}; later ones do not.
class ChangingProber final : public exporters::TargetProber {
 public:
  asio::awaitable<exporters::ProbeResult> Probe(milliseconds) override {
    exporters::ProbeResult result;
    result.success = true;
    result.families.push_back(exporters::GaugeFamily("fake_value", "A value.", 40 + probes_));
    if (probes_ == 0) {
      auto tls = exporters::GaugeFamily("fake_tls", "TLS version.", 1);
      tls.metric[0].label.push_back({"version", "TLS 1.3"});
      result.families.push_back(std::move(tls));
    }
    ++probes_;
    co_return result;
  }

 private:
  int probes_ = 0;
};

class ChangingKind final : public exporters::ProbeKind {
 public:
  std::string name() const override { return "fake"; }
  std::shared_ptr<const config::ProberOptions> ParseOptions(const YAML::Node&,
                                                            config::YamlErrorSink&) const override {
    return std::make_shared<config::ProberOptions>();
  }
  util::Result<std::unique_ptr<exporters::TargetProber>> NewTarget(const config::ModuleConfig&,
                                                                   const std::string&) override {
    return std::make_unique<ChangingProber>();
  }
};

TEST(ProbeScheduler, AppendsByRefAndMarksVanishedSeriesStale) {
  asio::io_context io;
  exporters::ProbeKindRegistry kinds;
  kinds.Register(std::make_unique<ChangingKind>());
  RefAppender appender;
  util::RealClock clock;
  ProbeScheduler scheduler(io, kinds, appender, clock);
  scheduler.Apply(MakeConfig({{"web", "ok"}}, milliseconds(40)));
  while (scheduler.Status()[0].successes < 3) {
    io.restart();
    io.run_one_for(milliseconds(1000));
  }
  scheduler.Stop();

  const std::string value = R"(fake_value{instance="ok", module="m", target="web", team="sre"})";
  const std::string tls =
      R"(fake_tls{instance="ok", module="m", target="web", team="sre", version="TLS 1.3"})";
  const std::string success =
      R"(probe_success{instance="ok", module="m", target="web", team="sre"})";
  const std::string duration =
      R"(probe_duration_seconds{instance="ok", module="m", target="web", team="sre"})";
  std::vector<std::string> got;
  for (const auto& call : appender.calls) {
    std::string text = call.labels.ToString();
    if (text == duration) continue;  // its value varies
    got.push_back(fmt::format("{} ref={} v={}", text, call.ref,
                              model::IsStaleNaN(call.v) ? "stale" : fmt::format("{}", call.v)));
  }
  ASSERT_GE(got.size(), 8u);
  got.resize(8);
  // Probe 1 has no refs yet; probe 2 passes the refs it got back and marks the
  // series it no longer writes stale (by its ref too); probe 3 as probe 2.
  EXPECT_EQ(got, (std::vector<std::string>{value + " ref=0 v=40", tls + " ref=0 v=1",
                                           success + " ref=0 v=1", value + " ref=1 v=41",
                                           success + " ref=3 v=1", tls + " ref=2 v=stale",
                                           value + " ref=1 v=42", success + " ref=3 v=1"}));
}

}  // namespace
}  // namespace vigil::scheduler
