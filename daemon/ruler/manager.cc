#include "daemon/ruler/manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/model/sample.h"

namespace vigil::ruler {

struct RuleManager::Runner {
  Runner(boost::asio::io_context& io, std::shared_ptr<RuleGroup> g)
      : group(std::move(g)), timer(io) {}
  std::shared_ptr<RuleGroup> group;
  boost::asio::steady_timer timer;
  bool stopped = false;
  bool running = false;
  int evaluations = 0;
  // Set for groups present at Start(): restore `for` state after the second
  // evaluation, and keep their saved state in the file until then.
  bool restore_pending = false;
};

namespace {

constexpr const char* kStateFileName = "alerts.json";

int64_t FloorMod(int64_t a, int64_t b) {
  int64_t m = a % b;
  return m < 0 ? m + b : m;
}

}  // namespace

RuleManager::RuleManager(boost::asio::io_context& io, const util::Clock& clock,
                         const promql::Engine& engine, const model::Querier& querier,
                         model::Appender& appender, AlertSink& sink, prometheus::Registry& registry,
                         ManagerOptions options, util::WorkerPool* pool)
    : io_(io),
      clock_(clock),
      engine_(engine),
      querier_(querier),
      appender_(appender),
      sink_(sink),
      metrics_(registry),
      options_(std::move(options)),
      pool_(pool) {}

RuleManager::~RuleManager() {
  for (auto& r : runners_) {
    r->stopped = true;
    r->timer.cancel();
  }
  for (auto& t : stale_timers_) t->cancel();
  std::unique_lock lock(inflight_mu_);
  inflight_cv_.wait(lock, [this] { return inflight_ == 0; });
}

void RuleManager::MarkStaleLater(const std::shared_ptr<Runner>& runner, int64_t removed_at) {
  std::vector<model::Labels> series;
  for (size_t i = 0; i < runner->group->rules().size(); ++i) {
    const auto& s = runner->group->previous_series(i);
    series.insert(series.end(), s.begin(), s.end());
  }
  if (series.empty()) return;
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, 2 * runner->group->interval());
  stale_timers_.push_back(timer);
  timer->async_wait(
      [this, timer, series = std::move(series), removed_at](const boost::system::error_code& ec) {
        if (ec) return;  // the manager is going away
        for (const auto& labels : series) {
          (void)appender_.Append(labels, removed_at, model::StaleNaN());
        }
        std::erase(stale_timers_, timer);
      });
}

int64_t RuleManager::GroupOffset(const std::string& file, const std::string& name,
                                 util::Duration interval) {
  if (interval.count() <= 0) return 0;
  const uint64_t h = model::Labels{{"file", file}, {"name", name}}.Hash();
  return static_cast<int64_t>(h % static_cast<uint64_t>(interval.count()));
}

std::shared_ptr<RuleManager::Runner> RuleManager::MakeRunner(GroupSpec spec) {
  GroupOptions go;
  go.interval = spec.interval.value_or(options_.evaluation_interval);
  go.query_offset = spec.query_offset.value_or(options_.query_offset);
  go.resend_delay = options_.resend_delay;
  // v2 semantics (Prometheus 2.x) are the ones without durations as numbers.
  go.template_context = {options_.external_labels, options_.external_url,
                         !engine_.options().semantics.durations_as_numbers};
  auto group = std::make_shared<RuleGroup>(std::move(spec), std::move(go));
  metrics_.AddGroup(group->Key(), std::chrono::duration<double>(group->interval()).count(),
                    group->rules().size());
  return std::make_shared<Runner>(io_, std::move(group));
}

void RuleManager::Apply(std::vector<GroupSpec> groups) {
  std::map<std::string, std::shared_ptr<Runner>> old;
  for (auto& r : runners_) old[r->group->Key()] = r;
  std::vector<std::shared_ptr<Runner>> next;
  for (auto& spec : groups) {
    const std::string key = spec.file + ";" + spec.name;
    auto it = old.find(key);
    if (it != old.end()) {
      const GroupSpec& prev = it->second->group->spec();
      bool same =
          prev.interval == spec.interval && prev.query_offset == spec.query_offset &&
          prev.limit == spec.limit && prev.rules.size() == spec.rules.size() &&
          std::equal(prev.rules.begin(), prev.rules.end(), spec.rules.begin(), RuleGroup::SameRule);
      if (same) {
        next.push_back(it->second);
        old.erase(it);
        continue;
      }
    }
    auto runner = MakeRunner(std::move(spec));
    if (it != old.end()) {
      // Carry alert state over by rule name and labels, in order (Prometheus's CopyState).
      Runner& prev = *it->second;
      std::vector<bool> used(prev.group->rules().size(), false);
      for (auto& rule : runner->group->rules()) {
        if (!rule.alerting) continue;
        for (size_t i = 0; i < prev.group->rules().size(); ++i) {
          auto& old_rule = prev.group->rules()[i];
          if (used[i] || !old_rule.alerting || old_rule.name() != rule.name() ||
              old_rule.alerting->spec().labels != rule.alerting->spec().labels) {
            continue;
          }
          used[i] = true;
          rule.alerting->SetActiveAlerts(old_rule.alerting->ActiveAlerts());
          rule.alerting->SetRestored(old_rule.alerting->restored());
          break;
        }
      }
      // Stale-marker bookkeeping follows rules by name and labels too.
      auto& new_rules = runner->group->rules();
      std::vector<bool> taken(prev.group->rules().size(), false);
      for (size_t n = 0; n < new_rules.size(); ++n) {
        const RuleSpec& spec =
            new_rules[n].alerting ? new_rules[n].alerting->spec() : new_rules[n].recording->spec();
        for (size_t i = 0; i < prev.group->rules().size(); ++i) {
          const auto& o = prev.group->rules()[i];
          const RuleSpec& old_spec = o.alerting ? o.alerting->spec() : o.recording->spec();
          if (taken[i] || old_spec.name() != spec.name() || old_spec.labels != spec.labels) {
            continue;
          }
          taken[i] = true;
          runner->group->set_previous_series(n, prev.group->previous_series(i));
          break;
        }
      }
      runner->restore_pending = prev.restore_pending;
      runner->evaluations = prev.evaluations;
      // Replaced, not removed: stop it without stale markers or metric removal.
      prev.stopped = true;
      prev.timer.cancel();
      old.erase(it);
    } else {
      // Groups added after start-up are not restored (Prometheus's default).
      for (auto& rule : runner->group->rules()) {
        if (rule.alerting) rule.alerting->SetRestored(started_);
      }
      runner->restore_pending = !started_;
    }
    next.push_back(runner);
  }
  for (auto& [key, runner] : old) {
    runner->stopped = true;
    runner->timer.cancel();
    metrics_.RemoveGroup(key);
    MarkStaleLater(runner, clock_.NowMillis());
  }
  runners_ = std::move(next);
  alerts_collector_.SetGroups(this->groups());
  if (started_) {
    for (auto& r : runners_) {
      if (!r->running) StartRunner(r);
    }
  }
}

void RuleManager::Start() {
  if (started_) return;
  started_ = true;
  if (!options_.state_dir.empty()) {
    auto loaded = LoadState(options_.state_dir + "/" + kStateFileName);
    if (loaded) {
      saved_ = std::move(*loaded);
    } else {
      spdlog::warn("msg=\"Cannot load alert state, for-state restore disabled\" err=\"{}\"",
                   loaded.error().message);
    }
  }
  for (auto& r : runners_) StartRunner(r);
}

void RuleManager::Stop() {
  for (auto& r : runners_) {
    r->stopped = true;
    r->timer.cancel();
  }
  if (started_) SaveStateNow();
  started_ = false;
}

std::vector<std::shared_ptr<RuleGroup>> RuleManager::groups() const {
  std::vector<std::shared_ptr<RuleGroup>> out;
  for (const auto& r : runners_) out.push_back(r->group);
  return out;
}

void RuleManager::StartRunner(const std::shared_ptr<Runner>& runner) {
  runner->running = true;
  boost::asio::co_spawn(io_, Loop(runner), boost::asio::detached);
}

boost::asio::awaitable<void> RuleManager::Loop(std::shared_ptr<Runner> r) {
  const int64_t interval = r->group->interval().count();
  if (interval <= 0) co_return;
  const int64_t offset = GroupOffset(r->group->file(), r->group->name(), r->group->interval());
  const int64_t now = clock_.NowMillis();
  int64_t next = now - FloorMod(now - offset, interval) + interval;
  while (!r->stopped) {
    r->timer.expires_after(
        std::chrono::milliseconds(std::max<int64_t>(0, next - clock_.NowMillis())));
    auto [ec] = co_await r->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec || r->stopped) co_return;
    const int64_t ts = next;
    if (pool_ != nullptr) {
      // A named callable holding plain pointers: GCC 12 mishandles lambda
      // temporaries with captures inside co_await expressions.
      RuleGroup* group = r->group.get();  // kept alive by `r` across the await
      RuleManager* self = this;
      auto work = [group, self, ts] {
        group->Eval(ts, EvalDeps{self->engine_, self->querier_, self->appender_, &self->sink_,
                                 &self->metrics_});
        std::lock_guard lock(self->inflight_mu_);
        --self->inflight_;
        self->inflight_cv_.notify_all();
        return true;
      };
      {
        std::lock_guard lock(inflight_mu_);
        ++inflight_;
      }
      auto done = co_await pool_->Run(work);
      if (!done) {
        // Rejected before running (pool full): `work` never ran.
        std::lock_guard lock(inflight_mu_);
        --inflight_;
      }
      if (r->stopped) co_return;
      if (!done) {
        spdlog::warn("msg=\"Rule group evaluation skipped\" group=\"{}\" err=\"{}\"",
                     r->group->Key(), done.error().message);
        metrics_.IterationsMissed(r->group->Key(), 1);
      } else {
        AfterEval(*r);
      }
    } else {
      EvaluateNow(*r->group, ts);
    }
    if (r->stopped) co_return;
    const int64_t after = clock_.NowMillis();
    next = ts + interval;
    uint64_t missed = 0;
    while (next <= after) {
      next += interval;
      ++missed;
    }
    if (missed > 0) metrics_.IterationsMissed(r->group->Key(), missed);
  }
}

void RuleManager::EvaluateNow(RuleGroup& group, int64_t ts) {
  group.Eval(ts, EvalDeps{engine_, querier_, appender_, &sink_, &metrics_});
  for (auto& r : runners_) {
    if (r->group.get() == &group) {
      AfterEval(*r);
      return;
    }
  }
}

void RuleManager::AfterEval(Runner& runner) {
  ++runner.evaluations;
  if (runner.restore_pending && runner.evaluations >= 2) {
    Restore(runner, clock_.NowMillis());
    runner.restore_pending = false;
  }
  SaveStateNow();
}

void RuleManager::Restore(Runner& runner, int64_t now) {
  auto group_it = saved_.find(runner.group->Key());
  for (auto& rule : runner.group->rules()) {
    if (!rule.alerting) continue;
    if (group_it != saved_.end()) {
      auto rule_it = group_it->second.find(rule.name());
      if (rule_it != group_it->second.end()) {
        for (const auto& s : rule_it->second) {
          rule.alerting->RestoreAlert(s.labels, s.active_at, s.last_seen_at, now,
                                      options_.outage_tolerance, options_.grace_period);
        }
      }
    }
    rule.alerting->SetRestored(true);
  }
  if (group_it != saved_.end()) saved_.erase(group_it);
}

void RuleManager::SaveStateNow() {
  if (options_.state_dir.empty()) return;
  SavedState state;
  for (const auto& r : runners_) {
    const std::string key = r->group->Key();
    if (r->restore_pending) {
      // Not restored yet: keep what the previous run saved for it.
      if (auto it = saved_.find(key); it != saved_.end()) state[key] = it->second;
      continue;
    }
    const int64_t seen = r->group->last_evaluation();
    for (const auto& rule : r->group->rules()) {
      if (!rule.alerting) continue;
      for (const auto& a : rule.alerting->ActiveAlerts()) {
        if (a.state == AlertState::kInactive) continue;
        state[key][rule.name()].push_back(
            SavedAlert{.labels = a.labels,
                       .state = a.state,
                       .active_at = a.active_at,
                       .last_seen_at = seen,
                       .last_sent_at = a.last_sent_at == kUnset ? 0 : a.last_sent_at});
      }
    }
  }
  std::lock_guard lock(save_mu_);
  if (auto ok = SaveState(options_.state_dir + "/" + kStateFileName, state); !ok) {
    ++state_save_failures_;
    spdlog::warn("msg=\"Cannot save alert state\" err=\"{}\"", ok.error().message);
  }
}

}  // namespace vigil::ruler
