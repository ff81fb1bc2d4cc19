#include "daemon/web/http_server.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/web/gzip.h"

namespace vigil::web {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Runs a server on an ephemeral loopback port with a few handlers.
class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(io_, HttpServerOptions{.listen_address = "127.0.0.1:0",
                                                                   .max_body_bytes = 64},
                                           registry_);
    server_->Handle("/hello", Sync([](const Request& r) {
                      return Response::Text(200, "hello " + std::string(r.Param("name")) + "\n");
                    }));
    server_->Handle("/big", Sync([](const Request&) { return Response::Text(200, std::string(5000, 'a')); }));
    server_->Handle("/echo", Sync([](const Request& r) { return Response::Text(200, r.body); }), "POST");
    server_->Handle("/throw", Sync([](const Request&) -> Response { throw std::runtime_error("boom"); }));
    ASSERT_TRUE(server_->Start().has_value());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->Stop(); });
    io_.stop();
    thread_.join();
  }

  http::response<http::string_body> Call(http::verb method, std::string target,
                                         std::string body = "", std::string encoding = "") {
    asio::io_context client_io;
    boost::beast::tcp_stream stream(client_io);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!encoding.empty()) req.set(http::field::accept_encoding, encoding);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res;
  }

  asio::io_context io_;
  prometheus::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HttpServerTest, RoutesDecodesAndCounts) {
  auto res = Call(http::verb::get, "/hello?name=a%20b");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello a b\n");
  EXPECT_EQ(Call(http::verb::get, "/nope").result_int(), 404);
  auto wrong = Call(http::verb::get, "/echo");
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[http::field::allow], "POST");
  EXPECT_EQ(Call(http::verb::post, "/echo", "ping").body(), "ping");
  EXPECT_EQ(Call(http::verb::post, "/echo", std::string(100, 'x')).result_int(), 413);
  EXPECT_EQ(Call(http::verb::get, "/throw").result_int(), 500);
  bool counted = false;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "vigil_http_requests_total") continue;
    for (const auto& m : family.metric) {
      if (m.label.size() == 2 && m.label[0].value == "404" && m.label[1].value == "other") {
        counted = m.counter.value == 1;
      }
    }
  }
  EXPECT_TRUE(counted);
}

TEST_F(HttpServerTest, GzipsLargeBodiesWhenAsked) {
  auto plain = Call(http::verb::get, "/big");
  EXPECT_EQ(plain.body().size(), 5000u);
  EXPECT_EQ(plain[http::field::content_encoding], "");
  auto gz = Call(http::verb::get, "/big", "", "gzip");
  EXPECT_EQ(gz[http::field::content_encoding], "gzip");
  EXPECT_LT(gz.body().size(), 200u);
  EXPECT_EQ(GzipDecompress(gz.body()).value(), std::string(5000, 'a'));
}

TEST(HttpServer, BadListenAddressIsAnError) {
  asio::io_context io;
  prometheus::Registry registry;
  HttpServer server(io, HttpServerOptions{.listen_address = "127.0.0.1"}, registry);
  auto started = server.Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().message, "invalid listen address \"127.0.0.1\" (want host:port)");
}

}  // namespace
}  // namespace vigil::web
