#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <prometheus/metric_family.h>

#include "daemon/config/config.h"
#include "daemon/util/result.h"

namespace vigil::exporters {

// ProbeResult is what one probe produced. `families` use the metric names of
// the exporter the kind replaces (probe_*, pg_*, redis_*), without the target's
// own labels (the scheduler adds those). `failure_reason` is "" on success,
// else one value of the kind's closed set ("timeout", "connect", ...).
// probe_success and probe_duration_seconds are added by the caller.
struct ProbeResult {
  bool success = false;
  std::string failure_reason;
  std::vector<prometheus::MetricFamily> families;
};

// TargetProber probes one target again and again and may keep state between
// probes (a persistent connection, a reconnect backoff). Loop thread only; the
// scheduler never has more than one Probe() of a target in flight.
class TargetProber {
 public:
  virtual ~TargetProber() = default;
  // Probes once and completes within `timeout` (the module's). Never throws and
  // never fails: a failed probe is data (success false, a reason, metrics).
  virtual boost::asio::awaitable<ProbeResult> Probe(std::chrono::milliseconds timeout) = 0;
};

// ProbeKind is one prober kind ("http", "postgres", "redis", ...): it parses
// its module options and creates a TargetProber per target. A kind is
// registered by an explicit call from app (RegisterBuiltinExporters), so adding
// a kind is a local change. Loop thread only.
class ProbeKind {
 public:
  virtual ~ProbeKind() = default;
  virtual std::string name() const = 0;
  // Parses the module's `<kind>:` options section (see config::ProberOptionsParser).
  virtual std::shared_ptr<const config::ProberOptions> ParseOptions(
      const YAML::Node& options, config::YamlErrorSink& errors) const = 0;
  // A prober for `target` (a URL, host:port or DSN, as the kind defines) with
  // the module's options. Fails when the target cannot be understood.
  virtual util::Result<std::unique_ptr<TargetProber>> NewTarget(
      const config::ModuleConfig& module, const std::string& target) = 0;
};

// ProbeKindRegistry owns the registered kinds. Loop thread only after startup.
class ProbeKindRegistry {
 public:
  void Register(std::unique_ptr<ProbeKind> kind);
  ProbeKind* Find(std::string_view name) const;
  // Registers every kind's options parser with the config loader.
  config::ProberRegistry ConfigRegistry() const;

 private:
  std::map<std::string, std::unique_ptr<ProbeKind>, std::less<>> kinds_;
};

}  // namespace vigil::exporters
