#include "daemon/net/testing/scripted_server.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <vector>

namespace vigil::net::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

struct ServerState {
  ServerState(asio::io_context& io, ServerScript s)
      : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), script(std::move(s)) {}
  tcp::acceptor acceptor;
  ServerScript script;
  std::vector<std::weak_ptr<tcp::socket>> sockets;
  int connections = 0;
  std::string last_request;
};

namespace {

constexpr asio::as_tuple_t<asio::use_awaitable_t<>> kToken{};

// Reads the request head and a Content-Length body; "" when the peer went away.
asio::awaitable<std::string> ReadRequest(tcp::socket& socket) {
  std::string data;
  auto [ec, head_end] =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n", kToken);
  if (ec) co_return "";
  size_t body_length = 0;
  std::string head = data.substr(0, head_end);
  for (std::string_view key : {"\r\nContent-Length:", "\r\ncontent-length:"}) {
    if (size_t pos = head.find(key); pos != std::string::npos) {
      body_length = std::strtoul(head.c_str() + pos + key.size(), nullptr, 10);
    }
  }
  if (data.size() < head_end + body_length) {
    co_await asio::async_read(socket, asio::dynamic_buffer(data),
                              asio::transfer_exactly(head_end + body_length - data.size()), kToken);
  }
  co_return data;
}

// Waits until the peer closes (or the server closes the socket).
asio::awaitable<void> DrainUntilClosed(tcp::socket& socket) {
  std::string rest;
  co_await asio::async_read(socket, asio::dynamic_buffer(rest), kToken);
}

asio::awaitable<void> Serve(std::shared_ptr<ServerState> state,
                            std::shared_ptr<tcp::socket> socket) {
  state->last_request = co_await ReadRequest(*socket);
  const ServerScript& script = state->script;
  asio::steady_timer timer(socket->get_executor());
  boost::system::error_code ignored;
  switch (script.mode) {
    case ServerMode::kRespond:
      if (script.delay.count() > 0) {
        timer.expires_after(script.delay);
        co_await timer.async_wait(kToken);
      }
      co_await asio::async_write(*socket, asio::buffer(script.response), kToken);
      socket->shutdown(tcp::socket::shutdown_send, ignored);
      co_await DrainUntilClosed(*socket);  // the client reads everything first
      break;
    case ServerMode::kHang:
      co_await DrainUntilClosed(*socket);
      break;
    case ServerMode::kReset:
      socket->set_option(tcp::socket::linger(true, 0), ignored);
      socket->close(ignored);
      break;
    case ServerMode::kTrickle:
      for (char c : script.response) {
        timer.expires_after(script.delay);
        co_await timer.async_wait(kToken);
        auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(&c, 1), kToken);
        if (ec) break;
      }
      socket->shutdown(tcp::socket::shutdown_send, ignored);
      co_await DrainUntilClosed(*socket);
      break;
  }
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state) {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(state->acceptor.get_executor());
    auto [ec] = co_await state->acceptor.async_accept(*socket, kToken);
    if (ec) co_return;
    ++state->connections;
    state->sockets.push_back(socket);
    asio::co_spawn(state->acceptor.get_executor(), Serve(state, socket), asio::detached);
  }
}

}  // namespace

ScriptedServer::ScriptedServer(asio::io_context& io, ServerScript script)
    : state_(std::make_shared<ServerState>(io, std::move(script))) {
  asio::co_spawn(io, AcceptLoop(state_), asio::detached);
}

ScriptedServer::~ScriptedServer() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->sockets) {
    if (auto socket = weak.lock()) socket->close(ignored);
  }
}

uint16_t ScriptedServer::port() const { return state_->acceptor.local_endpoint().port(); }

std::string ScriptedServer::Url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port(), path);
}

int ScriptedServer::connections() const { return state_->connections; }

const std::string& ScriptedServer::last_request() const { return state_->last_request; }

std::string ScriptedServer::Response(int status, std::string_view body,
                                     std::string_view extra_headers) {
  return fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}", status,
                     body.size(), extra_headers, body);
}

}  // namespace vigil::net::testing
