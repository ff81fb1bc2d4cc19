#include "daemon/app/probe_handler.h"

#include <cstdlib>

#include <prometheus/text_serializer.h>

#include "daemon/scheduler/probe_scheduler.h"

namespace vigil::app {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds kScrapeTimeoutOffset{500};

std::chrono::milliseconds ProbeTimeout(const web::Request& request,
                                       std::chrono::milliseconds module_timeout) {
  std::string header(request.Header("x-prometheus-scrape-timeout-seconds"));
  if (header.empty()) return module_timeout;
  char* end = nullptr;
  double seconds = std::strtod(header.c_str(), &end);
  if (end == header.c_str() || seconds <= 0) return module_timeout;
  auto scrape = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) -
                kScrapeTimeoutOffset;
  if (scrape.count() <= 0) return module_timeout;
  return std::min(module_timeout, scrape);
}

}  // namespace

asio::awaitable<web::Response> ServeProbe(const web::Request& request,
                                          const config::Config& config,
                                          exporters::ProbeKindRegistry& kinds) {
  std::string target(request.Param("target"));
  if (target.empty()) co_return web::Response::Text(400, "Target parameter is missing\n");
  std::string module_name(request.Param("module"));
  if (module_name.empty()) module_name = "http_2xx";
  auto module_it = config.modules.find(module_name);
  if (module_it == config.modules.end()) {
    co_return web::Response::Text(400, "Unknown module \"" + module_name + "\"\n");
  }
  // A copy: a reload may replace the config while the probe runs.
  const config::ModuleConfig module = module_it->second;
  exporters::ProbeKind* kind = kinds.Find(module.prober);
  if (kind == nullptr) {
    co_return web::Response::Text(400, "Unknown prober \"" + module.prober + "\"\n");
  }
  auto prober = kind->NewTarget(module, target);
  if (!prober) co_return web::Response::Text(400, prober.error().message + "\n");
  exporters::ProbeResult result =
      co_await scheduler::RunProbe(**prober, ProbeTimeout(request, module.timeout));
  prometheus::TextSerializer serializer;
  co_return web::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                          serializer.Serialize(result.families), {}};
}

}  // namespace vigil::app
