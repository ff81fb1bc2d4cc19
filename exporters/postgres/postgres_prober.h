#pragma once

#include <memory>
#include <string>

#include "daemon/util/worker_pool.h"
#include "exporters/common/idle_connection_pool.h"
#include "exporters/common/prober.h"

namespace vigil::exporters::postgres {

struct Session;

// PostgresKind is the "postgres" probe kind (libpqxx). Each target keeps one
// persistent connection, used only on a worker of the pool it was given, and
// answers with prometheus-community/postgres_exporter's metrics: pg_up and
// everything Collect() gathers (see collectors.h).
//
// Every session is read-only (default_transaction_read_only=on) with
// connect_timeout and statement_timeout always set, and application_name
// "vigil"; the pg_monitor role is all it needs (see README.md). A probe waits
// for its call at most the probe timeout. After a failed connect it does not
// try again before an exponential backoff (reconnect_backoff doubling up to
// reconnect_backoff_max, with jitter) has passed. Failure reasons: "connect",
// "auth", "timeout" (connect_timeout, statement_timeout or the probe's own
// deadline), "query" (a collector's SQL failed; the other collectors' metrics
// and pg_up 1 are still reported), "busy" (the worker pool is full, or the
// previous probe's call still runs past its deadline), "secret" (the password
// file or variable cannot be read). Without a connection a probe reports pg_up 0
// only.
//
// A prober that is destroyed hands its open, idle connection (with its cached
// settings and sizes) to the kind, and the next prober of the same target and
// module options takes it over instead of connecting again: on-demand probes
// (/probe builds a prober per request) and probers rebuilt by a config reload
// reuse connections. At most 4 such idle connections are kept, each at most 1
// minute; older ones are closed by the next NewTarget(), probe or prober
// destruction of this kind.
//
// Loop thread only; the pool must outlive every prober (a call that outlived
// its probe holds its own connection state).
class PostgresKind final : public ProbeKind {
 public:
  explicit PostgresKind(util::WorkerPool& pool);
  ~PostgresKind() override;

  std::string name() const override { return "postgres"; }
  std::shared_ptr<const config::ProberOptions> ParseOptions(
      const YAML::Node& options, config::YamlErrorSink& errors) const override;
  // `target`: see ParsePostgresTarget (postgresql:// URL, keyword/value DSN,
  // host:port[/dbname]). What the target sets wins over the module's user,
  // database and sslmode; a password in the target wins over the module's.
  util::Result<std::unique_ptr<TargetProber>> NewTarget(const config::ModuleConfig& module,
                                                        const std::string& target) override;

 private:
  util::WorkerPool& pool_;
  std::shared_ptr<IdleConnectionPool<Session>> sessions_;  // shared with the probers
};

}  // namespace vigil::exporters::postgres
