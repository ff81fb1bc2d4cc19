#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <utility>

#include "daemon/net/http.h"

namespace vigil::net {

// HttpClient runs HTTP(S) requests on an Asio io_context with one libcurl multi
// handle: libcurl's sockets are watched by the loop (CURLMOPT_SOCKETFUNCTION +
// posix::stream_descriptor waits) and its timeouts by one steady_timer
// (CURLMOPT_TIMERFUNCTION), driving curl_multi_socket_action. No thread per
// request; thousands of requests may be in flight. Connections and DNS answers
// are pooled in the multi handle and reused unless a request asks for a fresh
// connection. (libcurl itself may resolve names on a helper thread.)
//
// Loop thread only: construct, call and destroy it on the thread running
// `io`, and destroy it before `io`. Requests never fail to complete: every
// outcome, including a bad URL, is an HttpResponse with `error` set. A request
// whose operation is cancelled (per-operation cancellation, e.g. from
// `awaitable_operators`) completes with TransferError::kCancelled. Destroying
// the client drops the completion handlers of requests still in flight
// without calling them (as io_context destruction does). The constructor
// throws std::bad_alloc only when libcurl cannot allocate its handles.
class HttpClient {
 public:
  using Handler = boost::asio::any_completion_handler<void(HttpResponse)>;

  explicit HttpClient(boost::asio::io_context& io);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request`; completes with its response. Any Asio completion token.
  template <typename CompletionToken>
  auto AsyncPerform(HttpRequest request, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(HttpResponse)>(
        [this](auto handler, HttpRequest request) {
          Start(std::move(request), Handler(std::move(handler)));
        },
        token, std::move(request));
  }

  // Coroutine form of AsyncPerform.
  boost::asio::awaitable<HttpResponse> Perform(HttpRequest request);

  // Requests started and not yet completed.
  size_t in_flight() const;

 private:
  class Impl;
  void Start(HttpRequest request, Handler handler);

  // Shared so that loop handlers can tell (weak_ptr) that the client is gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace vigil::net
