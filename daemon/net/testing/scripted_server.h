#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// Test-only: a loopback TCP server that answers every connection with one
// scripted behaviour, for the failure modes a real web server will not
// produce on demand (hanging, trickling, resetting, answering garbage).

namespace vigil::net::testing {

// How the server treats each connection after reading the request head (and
// a Content-Length body).
enum class ServerMode {
  kRespond,  // wait `delay`, write `response` verbatim, close
  kHang,     // never answer; keep the connection open until the server goes
  kReset,    // close at once with SO_LINGER 0, so the client sees a reset
  kTrickle,  // write `response` one byte every `delay`, then close
};

struct ServerScript {
  ServerMode mode = ServerMode::kRespond;
  std::string response;  // raw bytes, status line included
  std::chrono::milliseconds delay{0};
};

struct ServerState;

// ScriptedServer listens on 127.0.0.1 on a free port and serves on `io` (the
// test's loop). Loop thread only. Destroying it closes the listener and every
// open connection; the coroutines serving them end on the loop's next turns.
class ScriptedServer {
 public:
  ScriptedServer(boost::asio::io_context& io, ServerScript script);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  uint16_t port() const;
  // "http://127.0.0.1:<port><path>".
  std::string Url(std::string_view path = "/") const;
  // Connections accepted so far.
  int connections() const;
  // The last request read (head and body), as received.
  const std::string& last_request() const;

  // A complete HTTP/1.1 response with Content-Length and Connection: close.
  static std::string Response(int status, std::string_view body,
                              std::string_view extra_headers = "");

 private:
  std::shared_ptr<ServerState> state_;
};

}  // namespace vigil::net::testing
