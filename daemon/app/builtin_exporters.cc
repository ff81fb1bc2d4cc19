#include "daemon/app/builtin_exporters.h"

#include "exporters/http/http_prober.h"
#include "exporters/postgres/postgres_prober.h"
#include "exporters/redis/redis_prober.h"

namespace vigil::app {

void RegisterBuiltinExporters(exporters::ProbeKindRegistry& kinds, util::WorkerPool& workers,
                              net::HttpClient& http) {
  kinds.Register(std::make_unique<vigil::http::HttpProbeKind>(http));
  kinds.Register(std::make_unique<exporters::postgres::PostgresKind>(workers));
  kinds.Register(std::make_unique<exporters::redis::RedisKind>(workers));
}

}  // namespace vigil::app
