#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <prometheus/collectable.h>

#include "daemon/config/config.h"
#include "daemon/model/storage.h"
#include "daemon/scheduler/ticker.h"
#include "daemon/util/clock.h"
#include "exporters/common/prober.h"

namespace vigil::scheduler {

// Runs one probe and completes its result the way blackbox_exporter does:
// probe_success and probe_duration_seconds are added to the kind's families.
boost::asio::awaitable<exporters::ProbeResult> RunProbe(exporters::TargetProber& prober,
                                                        std::chrono::milliseconds timeout);

// What the status page shows of one probe target.
struct TargetStatus {
  std::string name;
  std::string module;
  std::string target;
  bool probed = false;  // at least one probe finished
  bool success = false;
  std::string last_failure_reason;  // of the latest failed probe, kept after recovery
  int64_t last_probe_ms = 0;
  double last_duration_seconds = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t missed = 0;  // ticks skipped because a probe overran its interval
};

// ProbeScheduler probes every `probes:` target of the config on its own
// interval, at a stable offset within the interval derived from the target's
// name (so a thousand targets spread out instead of firing together, and keep
// their phase across restarts), never more than one probe in flight per
// target; a slow target only delays itself. Each result goes into the store
// through the Appender, by the refs it handed out for the target's series
// (with stale markers for series that disappear or when a target is removed) and is exported by Collect() with the target's labels
// `target` (its name), `instance` (its address), `module`, plus its own.
// Loop thread only.
class ProbeScheduler final : public prometheus::Collectable {
 public:
  ProbeScheduler(boost::asio::io_context& io, exporters::ProbeKindRegistry& kinds,
                 model::Appender& appender, const util::Clock& clock);
  ~ProbeScheduler() override;

  // Makes the running targets those of `config`. A target whose name, address,
  // interval, labels and module definition are unchanged keeps running with its
  // state (connections, schedule, counters). Returns the problems of targets
  // that could not be created (they are skipped; also logged).
  std::vector<std::string> Apply(const config::Config& config);
  // Stops every target; in-flight probes finish and are discarded.
  void Stop();

  // True once every current target finished at least one probe.
  bool FirstRoundDone() const;
  std::vector<TargetStatus> Status() const;
  const LatenessHistogram& lateness() const { return lateness_; }

  // The latest result of every target plus per-target counters
  // (vigil_probe_success_total, vigil_probe_failure_total{reason}) and
  // vigil_probe_schedule_lateness_seconds (how late probes start).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Target;
  boost::asio::awaitable<void> ProbeOnce(std::shared_ptr<Target> target, int64_t timestamp_ms);
  void Record(Target& target, exporters::ProbeResult result, int64_t timestamp_ms);
  void MarkStale(Target& target, int64_t timestamp_ms);

  boost::asio::io_context& io_;
  exporters::ProbeKindRegistry& kinds_;
  model::Appender& appender_;
  const util::Clock& clock_;
  std::map<std::string, std::shared_ptr<Target>> targets_;
  LatenessHistogram lateness_;  // how late ticks start, shared by every target's ticker
};

}  // namespace vigil::scheduler
