#include "daemon/scheduler/probe_scheduler.h"

#include <algorithm>

#include <fmt/format.h>

#include "daemon/model/sample.h"
#include "exporters/common/families.h"
#include "daemon/util/log.h"

namespace vigil::scheduler {

namespace asio = boost::asio;
namespace log = util::log;

namespace {

// One series a target's probes write: the sample it comes from (family name
// with suffix, the metric's labels, the bucket/quantile bound), its labels in
// the store and the ref the store handed out for them.
struct SeriesSlot {
  std::string name;
  std::vector<prometheus::ClientMetric::Label> metric_labels;
  std::string bound_value;
  model::Labels labels;
  model::SeriesRef ref = 0;

  bool Matches(const exporters::SampleView& sample) const {
    std::string_view family = sample.family->name;
    return name.size() == family.size() + sample.suffix.size() && name.starts_with(family) &&
           name.ends_with(sample.suffix) && bound_value == sample.bound_value &&
           metric_labels == sample.metric->label;
  }
};

}  // namespace

struct ProbeScheduler::Target {
  config::ProbeConfig probe;
  config::ModuleConfig module;
  model::Labels labels;  // target, instance, module and the probe's own labels
  std::unique_ptr<exporters::TargetProber> prober;
  std::shared_ptr<Ticker> ticker;

  bool probed = false;
  exporters::ProbeResult last;
  std::string last_failure_reason;
  int64_t last_probe_ms = 0;
  double last_duration_seconds = 0;
  uint64_t successes = 0;
  std::map<std::string, uint64_t> failures;  // by reason
  // The series the latest probe wrote, in sample order: a probe writes the same
  // samples in the same order again and again, so the next one finds each
  // series' labels and store ref at the same index without building them.
  std::vector<SeriesSlot> series;

  bool SameDefinition(const config::ProbeConfig& p, const config::ModuleConfig& m) const {
    return p.module == probe.module && p.target == probe.target && p.interval == probe.interval &&
           p.labels == probe.labels && m.definition == module.definition;
  }
};

namespace {

double DurationValue(const exporters::ProbeResult& result) {
  for (const auto& family : result.families) {
    if (family.name == "probe_duration_seconds" && !family.metric.empty()) {
      return family.metric[0].gauge.value;
    }
  }
  return 0;
}

prometheus::MetricFamily EmptyCounter(std::string name, std::string help) {
  auto family = exporters::SingleValueFamily(std::move(name), std::move(help),
                                             prometheus::MetricType::Counter, 0);
  family.metric.clear();
  return family;
}

void AddCounter(prometheus::MetricFamily& family,
                std::vector<prometheus::ClientMetric::Label> labels, double value) {
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

asio::awaitable<exporters::ProbeResult> RunProbe(exporters::TargetProber& prober,
                                                 std::chrono::milliseconds timeout) {
  auto started = std::chrono::steady_clock::now();
  exporters::ProbeResult result = co_await prober.Probe(timeout);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result.success) result.failure_reason.clear();
  if (!result.success && result.failure_reason.empty()) result.failure_reason = "other";
  result.families.push_back(exporters::GaugeFamily("probe_success",
                                        "Displays whether or not the probe was a success",
                                        result.success ? 1 : 0));
  result.families.push_back(exporters::GaugeFamily("probe_duration_seconds",
                                        "Returns how long the probe took to complete in seconds",
                                        seconds));
  co_return result;
}

ProbeScheduler::ProbeScheduler(asio::io_context& io, exporters::ProbeKindRegistry& kinds,
                               model::Appender& appender, const util::Clock& clock)
    : io_(io), kinds_(kinds), appender_(appender), clock_(clock) {}

ProbeScheduler::~ProbeScheduler() { Stop(); }

std::vector<std::string> ProbeScheduler::Apply(const config::Config& config) {
  std::vector<std::string> problems;
  std::map<std::string, std::shared_ptr<Target>> next;
  for (const auto& probe : config.probes) {
    auto module_it = config.modules.find(probe.module);
    if (module_it == config.modules.end()) continue;  // the config loader rejects this
    const config::ModuleConfig& module = module_it->second;
    if (auto it = targets_.find(probe.name);
        it != targets_.end() && it->second->SameDefinition(probe, module)) {
      next[probe.name] = it->second;
      targets_.erase(it);
      continue;
    }
    exporters::ProbeKind* kind = kinds_.Find(module.prober);
    if (kind == nullptr) {
      problems.push_back(fmt::format("probe \"{}\": unknown prober \"{}\"", probe.name,
                                     module.prober));
      continue;
    }
    auto prober = kind->NewTarget(module, probe.target);
    if (!prober) {
      problems.push_back(fmt::format("probe \"{}\": {}", probe.name, prober.error().message));
      continue;
    }
    auto target = std::make_shared<Target>();
    target->probe = probe;
    target->module = module;
    target->prober = std::move(*prober);
    model::LabelsBuilder labels(probe.labels);
    labels.Set("target", probe.name).Set("instance", probe.target).Set("module", probe.module);
    target->labels = labels.Build();
    // The ticker holds the target weakly: a removed target ends with its ticker.
    target->ticker = std::make_shared<Ticker>(
        io_, clock_, probe.name, probe.interval,
        [this, weak = std::weak_ptr<Target>(target)](int64_t ts) -> asio::awaitable<void> {
          if (auto t = weak.lock()) co_await ProbeOnce(t, ts);
        },
        &lateness_);
    target->ticker->Start();
    next[probe.name] = target;
  }
  int64_t now = clock_.NowMillis();
  for (auto& [name, removed] : targets_) {
    removed->ticker->Stop();
    MarkStale(*removed, now);
  }
  targets_ = std::move(next);
  for (const auto& problem : problems) log::Error("cannot probe target", {{"err", problem}});
  return problems;
}

void ProbeScheduler::Stop() {
  for (auto& [name, target] : targets_) target->ticker->Stop();
  targets_.clear();
}

bool ProbeScheduler::FirstRoundDone() const {
  for (const auto& [name, target] : targets_) {
    if (!target->probed) return false;
  }
  return true;
}

asio::awaitable<void> ProbeScheduler::ProbeOnce(std::shared_ptr<Target> target,
                                                int64_t timestamp_ms) {
  exporters::ProbeResult result = co_await RunProbe(*target->prober, target->module.timeout);
  if (!target->ticker->stopped()) Record(*target, std::move(result), timestamp_ms);
}

void ProbeScheduler::Record(Target& target, exporters::ProbeResult result, int64_t timestamp_ms) {
  target.probed = true;
  target.last_probe_ms = timestamp_ms;
  target.last_duration_seconds = DurationValue(result);
  if (result.success) {
    ++target.successes;
  } else {
    ++target.failures[result.failure_reason];
    target.last_failure_reason = result.failure_reason;
    log::Debug("probe failed", {{"target", target.probe.name},
                                {"module", target.probe.module},
                                {"reason", result.failure_reason}});
  }
  std::vector<SeriesSlot> previous = std::move(target.series);
  std::vector<bool> reused(previous.size(), false);
  std::vector<SeriesSlot> written;
  written.reserve(previous.size());
  exporters::ForEachSampleView(result.families, [&](const exporters::SampleView& sample) {
    size_t index = written.size();
    if (index < previous.size() && !reused[index] && previous[index].Matches(sample)) {
      reused[index] = true;
      written.push_back(std::move(previous[index]));
    } else {
      // The probe's samples changed (a new phase, TLS families, ...): build the
      // labels and take over the ref of a previous series with the same ones.
      SeriesSlot slot{.name = sample.family->name + std::string(sample.suffix),
                      .metric_labels = sample.metric->label,
                      .bound_value = sample.bound_value,
                      .labels = exporters::SampleLabels(sample, target.labels)};
      for (size_t i = 0; i < previous.size(); ++i) {
        if (!reused[i] && previous[i].labels == slot.labels) {
          reused[i] = true;
          slot.ref = previous[i].ref;
          break;
        }
      }
      written.push_back(std::move(slot));
    }
    SeriesSlot& slot = written.back();
    // Fails only for an out-of-order sample (the clock stepped back).
    if (auto ref = appender_.AppendRef(slot.ref, slot.labels, timestamp_ms, sample.value)) {
      slot.ref = *ref;
    }
  });
  for (size_t i = 0; i < previous.size(); ++i) {
    if (!reused[i]) {
      (void)appender_.AppendRef(previous[i].ref, previous[i].labels, timestamp_ms,
                                model::StaleNaN());
    }
  }
  target.series = std::move(written);
  target.last = std::move(result);
}

void ProbeScheduler::MarkStale(Target& target, int64_t timestamp_ms) {
  for (const SeriesSlot& slot : target.series) {
    (void)appender_.AppendRef(slot.ref, slot.labels, timestamp_ms, model::StaleNaN());
  }
  target.series.clear();
}

std::vector<TargetStatus> ProbeScheduler::Status() const {
  std::vector<TargetStatus> out;
  for (const auto& [name, t] : targets_) {
    uint64_t failures = 0;
    for (const auto& [reason, count] : t->failures) failures += count;
    out.push_back(TargetStatus{name, t->probe.module, t->probe.target, t->probed,
                               t->last.success, t->last_failure_reason, t->last_probe_ms,
                               t->last_duration_seconds, t->successes, failures,
                               t->ticker->missed()});
  }
  return out;
}

std::vector<prometheus::MetricFamily> ProbeScheduler::Collect() const {
  std::map<std::string, prometheus::MetricFamily> merged;  // same family across targets
  auto success = EmptyCounter("vigil_probe_success_total", "Probes that succeeded, by target.");
  auto failure = EmptyCounter("vigil_probe_failure_total",
                              "Probes that failed, by target and failure reason.");
  auto missed = EmptyCounter("vigil_probe_missed_total",
                             "Scheduled probes skipped because the previous one overran.");
  for (const auto& [name, t] : targets_) {
    std::vector<prometheus::ClientMetric::Label> id{{"module", t->probe.module}, {"target", name}};
    AddCounter(success, id, static_cast<double>(t->successes));
    AddCounter(missed, id, static_cast<double>(t->ticker->missed()));
    for (const auto& [reason, count] : t->failures) {
      auto labels = id;
      labels.push_back({"reason", reason});
      AddCounter(failure, labels, static_cast<double>(count));
    }
    if (!t->probed) continue;
    for (auto& family : exporters::WithLabels(t->last.families, t->labels)) {
      auto [it, inserted] = merged.try_emplace(family.name, family);
      if (!inserted) {
        it->second.metric.insert(it->second.metric.end(), family.metric.begin(),
                                 family.metric.end());
      }
    }
  }
  std::vector<prometheus::MetricFamily> out{
      std::move(success), std::move(failure), std::move(missed),
      lateness_.ToFamily("vigil_probe_schedule_lateness_seconds",
                         "How late scheduled probes started against their schedule.")};
  for (auto& [name, family] : merged) out.push_back(std::move(family));
  return out;
}

}  // namespace vigil::scheduler
