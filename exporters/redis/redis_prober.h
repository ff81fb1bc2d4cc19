#pragma once

#include <memory>
#include <string>

#include "daemon/util/worker_pool.h"
#include "exporters/common/idle_connection_pool.h"
#include "exporters/common/prober.h"

namespace vigil::exporters::redis {

struct Session;

// RedisKind is the "redis" probe kind. Each target keeps one persistent
// RedisConnection (TCP, unix socket, or TLS for rediss:// targets, configured
// by the module's tls_config), used only on a worker of the pool it was given,
// and answers with oliver006/redis_exporter's metrics: redis_up, everything
// INFO ALL has (see info.h) and redis_exporter_last_scrape_ping_time_seconds,
// the PING round trip.
//
// A probe (re)connects when needed within the module's connect timeout (TCP
// and TLS handshake), then sends AUTH and CONFIG GET databases pipelined in one
// round trip (once per connection; a user without the right gets no zero
// series for empty databases). Every probe then makes two round trips, PING
// alone (so that its time is the server's latency, not INFO's cost) and INFO
// ALL, each bounded by the command timeout, and waits for all that at most the
// probe timeout. After a failed connect or AUTH it does not try again before
// an exponential backoff (reconnect_backoff doubling up to
// reconnect_backoff_max, with jitter) has passed. Failure reasons: "connect",
// "tls" (TLS files, handshake or certificate verification), "auth", "timeout"
// (connect, command or the probe's own deadline), "command" (PING or INFO
// answered with an error), "busy" (the worker pool is full, or the previous
// probe's call still runs past its deadline), "secret" (the password file or
// variable cannot be read). A failed probe reports redis_up 0 only.
//
// A prober that is destroyed hands its open, idle connection (with its
// database count) to the kind, and the next prober of the same address, user,
// password and module options takes it over instead of connecting again:
// on-demand probes (/probe builds a prober per request) and probers rebuilt by
// a config reload reuse connections and skip AUTH and CONFIG GET. At most 4
// such idle connections are kept, each at most 1 minute; older ones are closed
// by the next NewTarget(), probe or prober destruction of this kind. When a
// reused connection turns out closed (the server restarted, or closed it for
// its idle `timeout`), the probe tries once more on a new one.
//
// Loop thread only; the pool must outlive every prober (a call that outlived
// its probe holds its own connection state).
class RedisKind final : public ProbeKind {
 public:
  explicit RedisKind(util::WorkerPool& pool);
  ~RedisKind() override;

  std::string name() const override { return "redis"; }
  std::shared_ptr<const config::ProberOptions> ParseOptions(
      const YAML::Node& options, config::YamlErrorSink& errors) const override;
  // `target`: see ParseRedisTarget (redis://[user[:password]@]host:port, rediss://...,
  // unix://path, host:port). Credentials in the URL take precedence over the module's.
  util::Result<std::unique_ptr<TargetProber>> NewTarget(const config::ModuleConfig& module,
                                                        const std::string& target) override;

 private:
  util::WorkerPool& pool_;
  std::shared_ptr<IdleConnectionPool<Session>> sessions_;  // shared with the probers
};

}  // namespace vigil::exporters::redis
