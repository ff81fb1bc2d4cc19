#pragma once

#include <prometheus/registry.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/model/storage.h"
#include "daemon/promql/engine.h"
#include "daemon/ruler/alert.h"
#include "daemon/ruler/alerts_collector.h"
#include "daemon/ruler/group.h"
#include "daemon/ruler/metrics.h"
#include "daemon/ruler/rule_file.h"
#include "daemon/ruler/state_file.h"
#include "daemon/util/clock.h"
#include "daemon/util/duration.h"
#include "daemon/util/worker_pool.h"

namespace vigil::ruler {

// Rule-manager settings; Prometheus's flag defaults.
struct ManagerOptions {
  // Global evaluation_interval: groups without `interval` (1m).
  util::Duration evaluation_interval{60000};
  // Global rule_query_offset: groups without `query_offset` (0).
  util::Duration query_offset{0};
  // --rules.alert.resend-delay (1m).
  util::Duration resend_delay{60000};
  // --rules.alert.for-outage-tolerance (1h): saved state older than this is ignored.
  util::Duration outage_tolerance{std::chrono::hours(1)};
  // --rules.alert.for-grace-period (10m): minimum wait before a restored alert fires.
  util::Duration grace_period{std::chrono::minutes(10)};
  // Templates' $externalLabels / $externalURL; the generator URL base.
  model::Labels external_labels;
  std::string external_url;
  // Directory for alerts.json (active alert state); "" disables persistence.
  std::string state_dir;
};

// RuleManager runs rule groups on the io_context: each group on its own
// interval at a stable per-group offset (hash of file and name, as in
// Prometheus), one evaluation at a time per group, overruns skipping missed
// slots (counted). With a WorkerPool, evaluations run on it so a slow group
// never blocks the loop or another group; without, they run inline on the
// loop (fine for small rule sets and for tests).
//
// After each group evaluation the active alerts of all groups are saved to
// `<state_dir>/alerts.json` (atomic rename); Start() loads it and, after each
// group's second evaluation, restores `for` state as Prometheus's
// RestoreForState does with ALERTS_FOR_STATE (outage tolerance, grace period).
//
// Loop thread only for Apply/Start/Stop/groups() and destruction; the engine,
// querier, appender, sink, registry and worker pool must outlive it. The
// destructor stops every group and waits for evaluations still running on the
// worker pool, so a manager may be destroyed (e.g. replaced on reload) at any time. Errors (state
// file unreadable or unwritable) are logged and counted, never fatal.
class RuleManager {
 public:
  RuleManager(boost::asio::io_context& io, const util::Clock& clock, const promql::Engine& engine,
              const model::Querier& querier, model::Appender& appender, AlertSink& sink,
              prometheus::Registry& registry, ManagerOptions options,
              util::WorkerPool* pool = nullptr);
  ~RuleManager();
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  // Replaces the rule groups (from LoadRuleFiles; validate first, reload is
  // all-or-nothing). A group whose file, name and definition are unchanged
  // keeps running untouched; a changed group takes over the alert state of
  // each rule with the same name and labels. Removed groups stop.
  void Apply(std::vector<GroupSpec> groups);

  // Loads saved state (if any) and starts evaluating. Idempotent.
  void Start();
  // Stops all timers; an evaluation in progress finishes. Saves state.
  void Stop();

  // The running groups, in file order (for /api/v1/rules and the status page).
  std::vector<std::shared_ptr<RuleGroup>> groups() const;

  // One evaluation of `group` at `ts_ms` with everything the timer does
  // after it: metrics, state save, and the for-state restore after the
  // group's second evaluation. Public for tests; loop thread only.
  void EvaluateNow(RuleGroup& group, int64_t ts_ms);

  // The slot offset of a group within its interval: hash(name, file) % interval.
  static int64_t GroupOffset(const std::string& file, const std::string& name,
                             util::Duration interval);

  uint64_t state_save_failures() const { return state_save_failures_; }

  // ALERTS / ALERTS_FOR_STATE for /metrics; lives as long as the manager.
  const prometheus::Collectable& alerts_collector() const { return alerts_collector_; }

 private:
  struct Runner;
  std::shared_ptr<Runner> MakeRunner(GroupSpec spec);
  void StartRunner(const std::shared_ptr<Runner>& runner);
  boost::asio::awaitable<void> Loop(std::shared_ptr<Runner> runner);
  void AfterEval(Runner& runner);
  void Restore(Runner& runner, int64_t now_ms);
  void SaveStateNow();
  // Prometheus's markStale: two intervals after a group was removed (time for
  // a renamed group to take its series over), stale markers at `removed_at`
  // for every series it wrote; ones written since are left alone.
  void MarkStaleLater(const std::shared_ptr<Runner>& runner, int64_t removed_at);

  boost::asio::io_context& io_;
  const util::Clock& clock_;
  const promql::Engine& engine_;
  const model::Querier& querier_;
  model::Appender& appender_;
  AlertSink& sink_;
  RulerMetrics metrics_;
  const ManagerOptions options_;
  util::WorkerPool* pool_;

  std::vector<std::shared_ptr<Runner>> runners_;  // loop thread only
  // Pending stale-marking timers of removed groups; cancelled on destruction.
  std::vector<std::shared_ptr<boost::asio::steady_timer>> stale_timers_;
  AlertsCollector alerts_collector_;
  bool started_ = false;
  SavedState saved_;  // loaded at Start, consumed by restores
  // Evaluations running on the worker pool; the destructor waits for them.
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int inflight_ = 0;                  // guarded by inflight_mu_
  std::mutex save_mu_;                // serialises state-file writes
  uint64_t state_save_failures_ = 0;  // guarded by save_mu_
};

}  // namespace vigil::ruler
