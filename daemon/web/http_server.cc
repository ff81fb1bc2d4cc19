#include "daemon/web/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/util/log.h"
#include "daemon/web/gzip.h"

namespace vigil::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

util::Result<tcp::endpoint> ParseListenAddress(const std::string& address) {
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return util::Fail("invalid listen address \"{}\" (want host:port)", address);
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return util::Fail("invalid listen address \"{}\" (want host:port)", address);
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  char* end = nullptr;
  long port_number = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || port_number < 0 || port_number > 65535) {
    return util::Fail("invalid port in listen address \"{}\"", address);
  }
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return util::Fail("invalid host in listen address \"{}\": {}", address, ec.message());
  return tcp::endpoint(ip, static_cast<unsigned short>(port_number));
}

Request ToRequest(const http::request<http::string_body>& req) {
  Request out;
  out.method = std::string(req.method_string());
  std::string_view target = req.target();
  size_t question = target.find('?');
  out.path = UrlDecode(target.substr(0, question), false);
  if (question != std::string_view::npos) out.query = ParseQuery(target.substr(question + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  return out;
}

bool MethodAllowed(const std::string& methods, const std::string& method) {
  size_t pos = 0;
  while (pos <= methods.size()) {
    size_t comma = methods.find(',', pos);
    if (comma == std::string::npos) comma = methods.size();
    if (methods.compare(pos, comma - pos, method) == 0 && comma - pos == method.size()) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

Handler Sync(std::function<Response(const Request&)> fn) {
  return [fn = std::move(fn)](const Request& request) -> asio::awaitable<Response> {
    co_return fn(request);
  };
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options,
                       prometheus::Registry& registry)
    : io_(io),
      options_(std::move(options)),
      acceptor_(io),
      requests_(prometheus::BuildCounter()
                    .Name("vigil_http_requests_total")
                    .Help("Counter of HTTP requests by handler and status code.")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("vigil_http_request_duration_seconds")
                     .Help("Histogram of latencies for HTTP requests by handler.")
                     .Register(registry)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string path, Handler handler, std::string methods) {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30};
  Route route{std::move(handler), std::move(methods), nullptr};
  route.duration = &durations_.Add({{"handler", path}}, kBuckets);
  routes_[std::move(path)] = std::move(route);
}

prometheus::Counter& HttpServer::RequestCounter(const std::string& handler, int code) {
  return requests_.Add({{"handler", handler}, {"code", std::to_string(code)}});
}

util::Result<void> HttpServer::Start() {
  auto endpoint = ParseListenAddress(options_.listen_address);
  if (!endpoint) return tl::unexpected(endpoint.error());
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return util::Fail("cannot listen on {}: {}", options_.listen_address, ec.message());
  }
  asio::co_spawn(io_, Accept(), asio::detached);
  return {};
}

void HttpServer::Stop() {
  *stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

unsigned short HttpServer::port() const {
  boost::system::error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

asio::awaitable<void> HttpServer::Accept() {
  auto stopped = stopped_;
  while (!*stopped) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (*stopped) break;
    if (ec) {
      util::log::Warn("accept failed", {{"err", ec.message()}});
      continue;
    }
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Serve(tcp::socket socket) {
  auto stopped = stopped_;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!*stopped) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    stream.expires_after(options_.idle_timeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (read_ec == http::error::body_limit) {
      http::response<http::string_body> too_large{http::status::payload_too_large, 11};
      too_large.set(http::field::content_type, "text/plain; charset=utf-8");
      too_large.body() = "request body too large\n";
      too_large.keep_alive(false);
      too_large.prepare_payload();
      co_await http::async_write(stream, too_large, kTuple);
      break;
    }
    if (read_ec) break;
    auto raw = parser.release();
    Request request = ToRequest(raw);

    auto started = std::chrono::steady_clock::now();
    std::string handler_label;
    Response response = co_await Dispatch(request, handler_label);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    RequestCounter(handler_label, response.status).Increment();
    if (auto it = routes_.find(handler_label); it != routes_.end()) {
      it->second.duration->Observe(seconds);
    }

    http::response<http::string_body> res{static_cast<http::status>(response.status),
                                          raw.version()};
    res.set(http::field::server, "vigil");
    res.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    if (response.body.size() >= options_.gzip_min_bytes &&
        AcceptsGzip(request.Header("accept-encoding"))) {
      if (auto gz = GzipCompress(response.body)) {
        response.body = std::move(*gz);
        res.set(http::field::content_encoding, "gzip");
      }
      res.set(http::field::vary, "Accept-Encoding");
    }
    if (raw.method() != http::verb::head) res.body() = std::move(response.body);
    res.keep_alive(raw.keep_alive() && !*stopped);
    res.prepare_payload();
    if (raw.method() == http::verb::head) res.content_length(response.body.size());
    stream.expires_after(options_.idle_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, kTuple);
    if (write_ec || !res.keep_alive()) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

asio::awaitable<Response> HttpServer::Dispatch(const Request& request,
                                               std::string& handler_label) {
  auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    handler_label = "other";
    co_return Response::Text(404, "404 page not found\n");
  }
  handler_label = it->first;
  if (!MethodAllowed(it->second.methods, request.method)) {
    Response r = Response::Text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", it->second.methods);
    co_return r;
  }
  try {
    co_return co_await it->second.handler(request);
  } catch (const std::exception& e) {
    util::log::Error("handler failed", {{"handler", handler_label}, {"err", e.what()}});
    co_return Response::Text(500, "internal error\n");
  }
}

}  // namespace vigil::web
