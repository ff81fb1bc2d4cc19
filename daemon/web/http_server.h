#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "daemon/util/result.h"
#include "daemon/web/http_types.h"

namespace vigil::web {

// A handler may finish at once or await I/O (an on-demand probe, say).
using Handler = std::function<boost::asio::awaitable<Response>(const Request&)>;
// Wraps a synchronous function as a Handler.
Handler Sync(std::function<Response(const Request&)> fn);

struct HttpServerOptions {
  std::string listen_address = "127.0.0.1:9777";  // host:port; [v6]:port
  size_t max_body_bytes = 1 << 20;                 // larger requests get 413
  std::chrono::seconds idle_timeout{30};           // per read/write on a connection
  size_t gzip_min_bytes = 1024;                    // smaller bodies are sent as is
};

// HttpServer is Vigil's one HTTP server (Boost.Beast on the shared io_context).
// Handlers are registered by exact path before Start(); unknown paths get 404.
// Every request is counted in vigil_http_requests_total{handler,code} and timed
// in vigil_http_request_duration_seconds{handler}. Responses are gzipped when
// the client accepts it. Loop thread only, except construction.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options,
             prometheus::Registry& registry);
  ~HttpServer();

  // `methods` lists the allowed methods ("GET,HEAD" by default); others get 405.
  void Handle(std::string path, Handler handler, std::string methods = "GET,HEAD");

  // Binds and starts accepting. Fails with the bind error ("address in use").
  util::Result<void> Start();
  // Stops accepting and closes idle connections; in-flight responses finish.
  void Stop();
  // The bound port (useful with port 0 in tests).
  unsigned short port() const;

 private:
  struct Route {
    Handler handler;
    std::string methods;
    prometheus::Histogram* duration = nullptr;
  };
  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<Response> Dispatch(const Request& request, std::string& handler_label);
  prometheus::Counter& RequestCounter(const std::string& handler, int code);

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, Route> routes_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace vigil::web
