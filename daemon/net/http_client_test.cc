#include "daemon/net/http_client.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "daemon/net/testing/scripted_server.h"

namespace vigil::net {
namespace {

namespace asio = boost::asio;
using net::testing::ScriptedServer;
using net::testing::ServerMode;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class HttpClientTest : public ::testing::Test {
 protected:
  // Runs one request to completion on the test's loop.
  HttpResponse Run(HttpRequest request) {
    std::optional<HttpResponse> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out = co_await client_.Perform(std::move(request)); },
        asio::detached);
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    EXPECT_TRUE(out.has_value()) << "request did not complete";
    return out.value_or(HttpResponse{});
  }

  HttpRequest Get(std::string url) {
    HttpRequest request;
    request.url = std::move(url);
    request.timeout = milliseconds(5000);
    return request;
  }

  asio::io_context io_;
  HttpClient client_{io_};
};

TEST_F(HttpClientTest, ReturnsStatusHeadersAndBody) {
  ScriptedServer server(
      io_, {.response = ScriptedServer::Response(200, "hello", "X-Multi: a\r\nx-multi:  b \r\n")});
  HttpResponse r = Run(Get(server.Url("/path")));
  EXPECT_EQ(r.error, TransferError::kNone) << r.error_message;
  EXPECT_EQ(r.curl_code, 0);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http_version, "HTTP/1.1");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.content_length, 5);
  EXPECT_THAT(r.HeaderValues("X-MULTI"), ElementsAre("a", "b"));
  EXPECT_THAT(r.HeaderValues("content-length"), ElementsAre("5"));
  EXPECT_EQ(r.redirects, 0);
  EXPECT_EQ(r.primary_ip, "127.0.0.1");
  EXPECT_EQ(r.effective_url, server.Url("/path"));
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(r.tls_version, "");
  EXPECT_GT(r.phases.connect, 0);
  EXPECT_GT(r.phases.processing, 0);
  EXPECT_EQ(r.phases.tls, 0);
  EXPECT_GT(r.total_seconds, 0);
  EXPECT_THAT(server.last_request(), HasSubstr("GET /path HTTP/1.1\r\n"));
  EXPECT_THAT(server.last_request(), HasSubstr("User-Agent: Vigil\r\n"));
  EXPECT_EQ(client_.in_flight(), 0u);
}

TEST_F(HttpClientTest, SendsMethodHeadersBodyAndBasicAuth) {
  ScriptedServer server(io_, {.response = ScriptedServer::Response(201, "")});
  HttpRequest request = Get(server.Url("/submit"));
  request.method = "PUT";
  request.body = "payload";
  request.headers = {{"X-Test", "1"}, {"Accept", "application/json"}};
  request.basic_auth = BasicCredentials{"user", "pass"};
  HttpResponse r = Run(request);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.content_length, 0);
  const std::string& sent = server.last_request();
  EXPECT_THAT(sent, HasSubstr("PUT /submit HTTP/1.1\r\n"));
  EXPECT_THAT(sent, HasSubstr("X-Test: 1\r\n"));
  EXPECT_THAT(sent, HasSubstr("Accept: application/json\r\n"));
  EXPECT_THAT(sent, HasSubstr("Authorization: Basic dXNlcjpwYXNz\r\n"));
  EXPECT_THAT(sent, HasSubstr("Content-Length: 7\r\n"));
  EXPECT_TRUE(sent.ends_with("\r\n\r\npayload")) << sent;
}

TEST_F(HttpClientTest, NextRequestStartsFromDefaultsOnARecycledHandle) {
  // The second request runs on the easy handle the first one left: none of
  // the first's options may leak into it.
  ScriptedServer server(io_, {.response = ScriptedServer::Response(200, "ok")});
  HttpRequest first = Get(server.Url("/submit"));
  first.method = "PUT";
  first.body = "payload";
  first.headers = {{"X-Test", "1"}};
  first.basic_auth = BasicCredentials{"user", "pass"};
  first.user_agent = "First";
  first.max_body_bytes = 1;
  EXPECT_EQ(Run(first).error, TransferError::kBodyTooLarge);
  EXPECT_THAT(server.last_request(), HasSubstr("PUT /submit HTTP/1.1\r\n"));

  HttpResponse r = Run(Get(server.Url("/again")));
  EXPECT_EQ(r.error, TransferError::kNone) << r.error_message;
  EXPECT_EQ(r.body, "ok");
  const std::string& sent = server.last_request();
  EXPECT_TRUE(sent.starts_with("GET /again HTTP/1.1\r\n")) << sent;
  EXPECT_THAT(sent, HasSubstr("User-Agent: Vigil\r\n"));
  EXPECT_THAT(sent, ::testing::Not(HasSubstr("X-Test")));
  EXPECT_THAT(sent, ::testing::Not(HasSubstr("Authorization")));
  EXPECT_THAT(sent, ::testing::Not(HasSubstr("Content-Length")));
  EXPECT_TRUE(sent.ends_with("\r\n\r\n")) << sent;
  EXPECT_EQ(client_.in_flight(), 0u);
}

TEST_F(HttpClientTest, HangingServerTimesOut) {
  ScriptedServer server(io_, {.mode = ServerMode::kHang, .response = ""});
  HttpRequest request = Get(server.Url());
  request.timeout = milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = Run(request);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.error, TransferError::kTimeout);
  EXPECT_EQ(r.curl_code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_THAT(r.error_message, HasSubstr("timed out"));
  EXPECT_EQ(r.status, 0);
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST_F(HttpClientTest, TricklingBodyTimesOut) {
  ScriptedServer server(io_, {.mode = ServerMode::kTrickle,
                              .response = ScriptedServer::Response(200, std::string(200, 'x')),
                              .delay = milliseconds(5)});
  HttpRequest request = Get(server.Url());
  request.timeout = milliseconds(300);
  HttpResponse r = Run(request);
  EXPECT_EQ(r.error, TransferError::kTimeout);
}

TEST_F(HttpClientTest, ConnectionResetIsOther) {
  ScriptedServer server(io_, {.mode = ServerMode::kReset, .response = ""});
  HttpResponse r = Run(Get(server.Url()));
  EXPECT_EQ(r.error, TransferError::kOther);
  EXPECT_THAT(r.curl_code, ::testing::AnyOf(CURLE_RECV_ERROR, CURLE_GOT_NOTHING))
      << r.error_message;
  EXPECT_EQ(r.status, 0);
}

TEST_F(HttpClientTest, GarbageResponseIsOther) {
  ScriptedServer server(io_, {.response = "garbage\r\n\r\n"});
  HttpResponse r = Run(Get(server.Url()));
  EXPECT_EQ(r.error, TransferError::kOther);
  EXPECT_EQ(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL) << r.error_message;
}

TEST_F(HttpClientTest, RefusedConnectionIsConnect) {
  uint16_t port;
  {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::address_v4::loopback(), 0});
    port = acceptor.local_endpoint().port();
  }
  HttpResponse r = Run(Get("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(r.error, TransferError::kConnect);
  EXPECT_EQ(r.curl_code, CURLE_COULDNT_CONNECT);
}

TEST_F(HttpClientTest, UnknownHostIsDns) {
  // .invalid never resolves (RFC 6761).
  HttpResponse r = Run(Get("http://vigil-test.invalid/"));
  EXPECT_EQ(r.error, TransferError::kDns) << r.error_message;
  EXPECT_EQ(r.curl_code, CURLE_COULDNT_RESOLVE_HOST);
}

TEST_F(HttpClientTest, ResolvesNamesWithTheRequestedFamily) {
  ScriptedServer server(io_, {.response = ScriptedServer::Response(200, "")});
  HttpRequest request = Get("http://localhost:" + std::to_string(server.port()) + "/");
  request.ip_resolve = IpResolve::kV4;
  HttpResponse r = Run(request);
  EXPECT_EQ(r.status, 200) << r.error_message;
  EXPECT_EQ(r.primary_ip, "127.0.0.1");
  EXPECT_GT(r.phases.resolve, 0);
}

TEST_F(HttpClientTest, BodyLimitAbortsTransfer) {
  ScriptedServer server(io_, {.response = ScriptedServer::Response(200, std::string(1000, 'x'))});
  HttpRequest request = Get(server.Url());
  request.max_body_bytes = 100;
  HttpResponse r = Run(request);
  EXPECT_EQ(r.error, TransferError::kBodyTooLarge);
  EXPECT_EQ(r.error_message, "response body larger than 100 bytes");
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(r.body.size(), 100u);

  request.max_body_bytes = 1000;
  HttpResponse exact = Run(request);
  EXPECT_EQ(exact.error, TransferError::kNone);
  EXPECT_EQ(exact.body.size(), 1000u);
}

TEST_F(HttpClientTest, FollowsRedirects) {
  ScriptedServer target(io_, {.response = ScriptedServer::Response(200, "final")});
  ScriptedServer hop(io_, {.response = ScriptedServer::Response(
                               302, "moved", "Location: " + target.Url("/final") + "\r\n")});
  HttpResponse r = Run(Get(hop.Url("/start")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "final");
  EXPECT_EQ(r.redirects, 1);
  EXPECT_EQ(r.effective_url, target.Url("/final"));
  EXPECT_THAT(r.HeaderValues("location"), ::testing::IsEmpty());

  HttpRequest no_follow = Get(hop.Url("/start"));
  no_follow.follow_redirects = false;
  HttpResponse first = Run(no_follow);
  EXPECT_EQ(first.status, 302);
  EXPECT_EQ(first.redirects, 0);
  EXPECT_EQ(first.body, "moved");
  EXPECT_THAT(first.HeaderValues("location"), ElementsAre(target.Url("/final")));
}

TEST_F(HttpClientTest, RedirectLoopStopsAtMaximum) {
  ScriptedServer loop(io_, {.response = ScriptedServer::Response(302, "", "Location: /again\r\n")});
  HttpRequest request = Get(loop.Url());
  request.max_redirects = 2;
  HttpResponse r = Run(request);
  EXPECT_EQ(r.error, TransferError::kTooManyRedirects);
  EXPECT_EQ(loop.connections(), 3);
}

TEST_F(HttpClientTest, InvalidUrlCompletesWithError) {
  HttpResponse r = Run(Get("ftp://127.0.0.1/"));
  EXPECT_EQ(r.error, TransferError::kOther);
  EXPECT_EQ(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
}

TEST_F(HttpClientTest, CancellationRemovesTheTransfer) {
  using namespace asio::experimental::awaitable_operators;
  ScriptedServer server(io_, {.mode = ServerMode::kHang, .response = ""});
  std::optional<size_t> winner;
  size_t in_flight_during = 0;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io_, milliseconds(100));
        auto check = [&]() -> asio::awaitable<void> {
          asio::steady_timer t(io_, milliseconds(50));
          co_await t.async_wait(asio::use_awaitable);
          in_flight_during = client_.in_flight();
        };
        asio::co_spawn(io_, check(), asio::detached);
        auto result =
            co_await (client_.Perform(Get(server.Url())) || timer.async_wait(asio::use_awaitable));
        winner = result.index();
      },
      asio::detached);
  while (!winner && io_.run_one_for(std::chrono::seconds(3)) > 0) {
  }
  ASSERT_TRUE(winner.has_value());
  EXPECT_EQ(*winner, 1u);
  EXPECT_EQ(in_flight_during, 1u);
  EXPECT_EQ(client_.in_flight(), 0u);
}

TEST_F(HttpClientTest, DestroyingClientDropsPendingHandlers) {
  ScriptedServer server(io_, {.mode = ServerMode::kHang, .response = ""});
  int completed = 0;
  {
    HttpClient client(io_);
    for (int i = 0; i < 10; ++i) {
      client.AsyncPerform(Get(server.Url()), [&](HttpResponse) { ++completed; });
    }
    io_.run_for(milliseconds(100));
    EXPECT_EQ(client.in_flight(), 10u);
    EXPECT_EQ(server.connections(), 10);
  }
  io_.restart();
  io_.run_for(milliseconds(100));
  EXPECT_EQ(completed, 0);
}

TEST(HttpClientLifetimeTest, ClientDestroyedOnStoppedLoopReleasesTheWaitingCoroutine) {
  auto io = std::make_unique<asio::io_context>();
  auto server = std::make_unique<ScriptedServer>(
      *io, net::testing::ServerScript{.mode = ServerMode::kHang, .response = ""});
  auto client = std::make_unique<HttpClient>(*io);
  bool resumed = false, frame_destroyed = false;
  struct SetOnDestruction {
    bool& flag;
    ~SetOnDestruction() { flag = true; }
  };
  asio::co_spawn(
      *io,
      [&]() -> asio::awaitable<void> {
        SetOnDestruction guard{frame_destroyed};
        HttpRequest request;
        request.url = server->Url();
        co_await client->Perform(request);
        resumed = true;
      },
      asio::detached);
  io->run_for(milliseconds(100));
  EXPECT_EQ(client->in_flight(), 1u);
  io->stop();
  // Dropping the pending handler hands the coroutine frame back to its
  // executor (Asio posts the destruction); the loop's destruction frees it.
  client.reset();
  EXPECT_FALSE(resumed);
  server.reset();
  io.reset();
  EXPECT_TRUE(frame_destroyed);
  EXPECT_FALSE(resumed);
}

TEST_F(HttpClientTest, RunsManyRequestsConcurrently) {
  ScriptedServer server(
      io_, {.response = ScriptedServer::Response(200, "ok"), .delay = milliseconds(100)});
  constexpr int kRequests = 300;
  int ok = 0, done = 0;
  for (int i = 0; i < kRequests; ++i) {
    client_.AsyncPerform(Get(server.Url()), [&](HttpResponse r) {
      ++done;
      if (r.status == 200 && r.body == "ok") ++ok;
    });
  }
  EXPECT_EQ(client_.in_flight(), static_cast<size_t>(kRequests));
  auto start = std::chrono::steady_clock::now();
  while (done < kRequests && io_.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  // Concurrent: all delays overlap, far below kRequests * 100ms.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(server.connections(), kRequests);
}

}  // namespace
}  // namespace vigil::net
