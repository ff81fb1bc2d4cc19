#include "daemon/net/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <strings.h>

#include <algorithm>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "daemon/net/detail/curl_info.h"

namespace vigil::net {

std::string_view TransferErrorName(TransferError error) {
  switch (error) {
    case TransferError::kNone:
      return "none";
    case TransferError::kTimeout:
      return "timeout";
    case TransferError::kDns:
      return "dns";
    case TransferError::kConnect:
      return "connect";
    case TransferError::kTls:
      return "tls";
    case TransferError::kBodyTooLarge:
      return "body_too_large";
    case TransferError::kTooManyRedirects:
      return "too_many_redirects";
    case TransferError::kCancelled:
      return "cancelled";
    case TransferError::kOther:
      return "other";
  }
  return "other";
}

std::vector<std::string_view> HttpResponse::HeaderValues(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HttpHeader& header : headers) {
    if (header.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), header.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      values.push_back(header.value);
    }
  }
  return values;
}

namespace {

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  (void)list.release();  // `next` now owns the old nodes
  list.reset(next);
  return true;
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// Reads one part of a parsed URL; "" when absent.
std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return "";
  std::string out(text);
  curl_free(text);
  return out;
}

bool HasHeader(const HttpRequest& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& header) {
    return header.first.size() == name.size() &&
           strncasecmp(header.first.c_str(), name.data(), name.size()) == 0;
  });
}

long SslVersion(std::string_view min_version) {
  if (min_version == "TLS10") return CURL_SSLVERSION_TLSv1_0;
  if (min_version == "TLS11") return CURL_SSLVERSION_TLSv1_1;
  if (min_version == "TLS12") return CURL_SSLVERSION_TLSv1_2;
  if (min_version == "TLS13") return CURL_SSLVERSION_TLSv1_3;
  return CURL_SSLVERSION_DEFAULT;
}

void GlobalInit() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) throw std::bad_alloc();
}

}  // namespace

class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(boost::asio::io_context& io);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void Start(HttpRequest request, Handler handler);
  size_t in_flight() const { return transfers_.size(); }

 private:
  // A socket libcurl asked us to watch. `generation` tells a new socket that
  // reuses a closed one's descriptor number from the old one.
  struct Socket {
    Socket(boost::asio::io_context& io, curl_socket_t fd, uint64_t gen)
        : descriptor(io, fd), generation(gen) {}
    boost::asio::posix::stream_descriptor descriptor;
    uint64_t generation;
    int what = 0;                           // CURL_POLL_IN / OUT / INOUT
    bool reading = false, writing = false;  // a wait is pending
  };

  struct Transfer {
    // The handler is moved in at construction: Boost 1.81's
    // any_completion_handler move assignment recurses without end.
    Transfer(boost::asio::io_context& io, Handler h)
        : handler(std::move(h)), work(io.get_executor()) {}
    ~Transfer() {
      if (easy != nullptr) curl_easy_cleanup(easy);
    }
    uint64_t id = 0;
    CURL* easy = nullptr;
    Slist headers, connect_to;
    Handler handler;
    HttpResponse response;
    uint64_t max_body_bytes = 0;
    bool body_too_large = false;
    bool collect_certificates = false;
    char error[CURL_ERROR_SIZE] = {};
    // Keeps io_context::run() going while the request is in flight.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  };

  static int SocketCallback(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int TimerCallback(CURLM* multi, long timeout_ms, void* userp);
  static size_t WriteCallback(char* data, size_t size, size_t count, void* userp);
  // Reserves the response body for the Content-Length announced, if any.
  static void ReserveBody(Transfer& transfer, size_t first_bytes);
  static size_t HeaderCallback(char* data, size_t size, size_t count, void* userp);

  CURLcode Configure(Transfer& transfer, const HttpRequest& request);
  int OnSocket(curl_socket_t fd, int what);
  void Arm(curl_socket_t fd, Socket& socket);
  void OnReady(curl_socket_t fd, uint64_t generation, bool read,
               const boost::system::error_code& ec);
  void OnTimer(long timeout_ms);
  void Action(curl_socket_t fd, int events);
  void ProcessDone();
  void Fill(Transfer& transfer, CURLcode code);
  void Cancel(uint64_t id);
  void Complete(std::unique_ptr<Transfer> transfer, bool clear_slot);

  boost::asio::io_context& io_;
  CURLM* multi_ = nullptr;
  boost::asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets_;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  uint64_t next_id_ = 1;
  uint64_t next_generation_ = 1;
  bool zero_timeout_posted_ = false;  // an Action(CURL_SOCKET_TIMEOUT) is posted
  // Easy handles of finished transfers, reset, for the next ones: a new handle
  // costs several allocations (the handle, its receive buffer) per request.
  std::vector<CURL*> idle_easy_;
};

// Most idle easy handles kept; more than that are freed.
constexpr size_t kMaxIdleEasyHandles = 256;

HttpClient::Impl::Impl(boost::asio::io_context& io) : io_(io), timer_(io) {
  GlobalInit();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::bad_alloc();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::SocketCallback);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::TimerCallback);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

HttpClient::Impl::~Impl() {
  for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
  for (auto& [id, transfer] : transfers_) curl_multi_remove_handle(multi_, transfer->easy);
  // Drops the pending handlers without calling them, as io_context destruction would.
  transfers_.clear();
  // Closes pooled connections; libcurl reports their sockets as removed first.
  curl_multi_cleanup(multi_);
  // libcurl owns the descriptors: never let Asio close them.
  for (auto& [fd, socket] : sockets_) (void)socket->descriptor.release();
  sockets_.clear();
}

int HttpClient::Impl::SocketCallback(CURL*, curl_socket_t fd, int what, void* userp, void*) {
  return static_cast<Impl*>(userp)->OnSocket(fd, what);
}

int HttpClient::Impl::TimerCallback(CURLM*, long timeout_ms, void* userp) {
  static_cast<Impl*>(userp)->OnTimer(timeout_ms);
  return 0;
}

size_t HttpClient::Impl::WriteCallback(char* data, size_t size, size_t count, void* userp) {
  auto* transfer = static_cast<Transfer*>(userp);
  size_t bytes = size * count;
  std::string& body = transfer->response.body;
  if (transfer->max_body_bytes != 0 && body.size() + bytes > transfer->max_body_bytes) {
    transfer->body_too_large = true;
    return 0;  // != bytes: libcurl aborts with CURLE_WRITE_ERROR
  }
  if (body.empty()) ReserveBody(*transfer, bytes);
  body.append(data, bytes);
  return bytes;
}

void HttpClient::Impl::ReserveBody(Transfer& transfer, size_t first_bytes) {
  // Large bodies (scrapes of several MB) would otherwise grow by doubling:
  // about twice the copying and page faults. Content-Length is a hint only
  // (absent when chunked, the compressed size with decompression on), so the
  // reservation is capped by the body limit and by kMaxBodyReserve.
  constexpr curl_off_t kMaxBodyReserve = curl_off_t{64} << 20;
  curl_off_t length = -1;
  if (curl_easy_getinfo(transfer.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK ||
      length <= static_cast<curl_off_t>(first_bytes)) {
    return;
  }
  length = std::min(length, kMaxBodyReserve);
  if (transfer.max_body_bytes != 0) {
    length = std::min(length, static_cast<curl_off_t>(transfer.max_body_bytes));
  }
  transfer.response.body.reserve(static_cast<size_t>(length));
}

size_t HttpClient::Impl::HeaderCallback(char* data, size_t size, size_t count, void* userp) {
  auto* transfer = static_cast<Transfer*>(userp);
  size_t bytes = size * count;
  std::string_view line(data, bytes);
  std::vector<HttpHeader>& headers = transfer->response.headers;
  if (line.starts_with("HTTP/")) {
    headers.clear();  // a new response (redirect hop or interim 1xx) starts
  } else if (line == "\r\n" || line == "\n") {
    // End of a response's headers: the connection of this hop is up, so this
    // is where its TLS session can be asked for its protocol version.
    const curl_tlssessioninfo* info = nullptr;
    if (curl_easy_getinfo(transfer->easy, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK &&
        info != nullptr && info->backend == CURLSSLBACKEND_OPENSSL && info->internals != nullptr) {
      transfer->response.tls_version =
          detail::TlsVersionLabel(SSL_get_version(static_cast<SSL*>(info->internals)));
    } else {
      transfer->response.tls_version.clear();
    }
  } else if ((line.front() == ' ' || line.front() == '\t') && !headers.empty()) {
    // Obsolete line folding: continues the previous header's value.
    auto folded = detail::ParseHeaderLine("x:" + std::string(line));
    if (folded && !folded->value.empty()) headers.back().value += " " + folded->value;
  } else if (auto header = detail::ParseHeaderLine(line)) {
    headers.push_back(*std::move(header));
  }
  return bytes;
}

CURLcode HttpClient::Impl::Configure(Transfer& t, const HttpRequest& r) {
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(t.easy, option, value);
  };
  std::string url = r.url;
  if (!r.tls.server_name.empty()) {
    // SNI and verification use server_name; the connection goes to the URL's
    // host (CONNECT_TO) and the Host header keeps it.
    std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
    if (parsed == nullptr) return CURLE_OUT_OF_MEMORY;
    if (curl_url_set(parsed.get(), CURLUPART_URL, r.url.c_str(), 0) != CURLUE_OK) {
      return CURLE_URL_MALFORMAT;
    }
    std::string scheme = UrlPart(parsed.get(), CURLUPART_SCHEME);
    if (strcasecmp(scheme.c_str(), "https") == 0) {
      std::string host = UrlPart(parsed.get(), CURLUPART_HOST);
      std::string explicit_port = UrlPart(parsed.get(), CURLUPART_PORT);
      std::string port = UrlPart(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
      if (curl_url_set(parsed.get(), CURLUPART_HOST, r.tls.server_name.c_str(), 0) != CURLUE_OK) {
        return CURLE_URL_MALFORMAT;
      }
      url = UrlPart(parsed.get(), CURLUPART_URL);
      if (!Append(t.connect_to, fmt::format("{}:{}:{}:{}", r.tls.server_name, port, host, port))) {
        return CURLE_OUT_OF_MEMORY;
      }
      if (!HasHeader(r, "Host") &&
          !Append(t.headers, explicit_port.empty()
                                 ? "Host: " + host
                                 : fmt::format("Host: {}:{}", host, explicit_port))) {
        return CURLE_OUT_OF_MEMORY;
      }
      set(CURLOPT_CONNECT_TO, t.connect_to.get());
    }
  }
  set(CURLOPT_PRIVATE, &t);
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_ERRORBUFFER, t.error);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_WRITEFUNCTION, &Impl::WriteCallback);
  set(CURLOPT_WRITEDATA, &t);
  set(CURLOPT_HEADERFUNCTION, &Impl::HeaderCallback);
  set(CURLOPT_HEADERDATA, &t);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, r.timeout.count())));
  set(CURLOPT_FOLLOWLOCATION, r.follow_redirects ? 1L : 0L);
  set(CURLOPT_MAXREDIRS, static_cast<long>(r.max_redirects));
  set(CURLOPT_USERAGENT, r.user_agent.c_str());
  set(CURLOPT_PROXY, r.proxy_url.c_str());  // "" also ignores *_proxy variables
  set(CURLOPT_IPRESOLVE, r.ip_resolve == IpResolve::kV4   ? CURL_IPRESOLVE_V4
                         : r.ip_resolve == IpResolve::kV6 ? CURL_IPRESOLVE_V6
                                                          : CURL_IPRESOLVE_WHATEVER);
  set(CURLOPT_HTTP_VERSION,
      r.enable_http2 ? long{CURL_HTTP_VERSION_2TLS} : long{CURL_HTTP_VERSION_1_1});
  if (r.decompress) set(CURLOPT_ACCEPT_ENCODING, "");
  if (r.fresh_connection) {
    set(CURLOPT_FRESH_CONNECT, 1L);
    set(CURLOPT_FORBID_REUSE, 1L);
  }
  // A reused easy handle keeps its TLS session cache across curl_easy_reset: a
  // fresh connection must make a full handshake (its phase time, the server's
  // certificates), never resume an earlier session.
  if (r.fresh_connection || r.collect_certificates) set(CURLOPT_SSL_SESSIONID_CACHE, 0L);
  if (!r.tls.ca_file.empty()) set(CURLOPT_CAINFO, r.tls.ca_file.c_str());
  if (!r.tls.cert_file.empty()) set(CURLOPT_SSLCERT, r.tls.cert_file.c_str());
  if (!r.tls.key_file.empty()) set(CURLOPT_SSLKEY, r.tls.key_file.c_str());
  set(CURLOPT_SSL_VERIFYPEER, r.tls.insecure_skip_verify ? 0L : 1L);
  set(CURLOPT_SSL_VERIFYHOST, r.tls.insecure_skip_verify ? 0L : 2L);
  set(CURLOPT_SSLVERSION, SslVersion(r.tls.min_version));
  if (r.collect_certificates) set(CURLOPT_CERTINFO, 1L);
  if (r.basic_auth) {
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, r.basic_auth->username.c_str());
    set(CURLOPT_PASSWORD, r.basic_auth->password.c_str());
  }
  if (r.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (!r.body.empty() || r.method == "POST") {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(CURLOPT_COPYPOSTFIELDS, r.body.c_str());
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  for (const auto& [name, value] : r.headers) {
    if (!Append(t.headers, value.empty() ? name + ":" : name + ": " + value)) {
      return CURLE_OUT_OF_MEMORY;
    }
  }
  if (t.headers != nullptr) set(CURLOPT_HTTPHEADER, t.headers.get());
  t.max_body_bytes = r.max_body_bytes;
  t.collect_certificates = r.collect_certificates;
  return rc;
}

void HttpClient::Impl::Start(HttpRequest request, Handler handler) {
  auto transfer = std::make_unique<Transfer>(io_, std::move(handler));
  transfer->id = next_id_++;
  if (idle_easy_.empty()) {
    transfer->easy = curl_easy_init();
  } else {
    transfer->easy = idle_easy_.back();
    idle_easy_.pop_back();
  }
  std::string problem;
  if (transfer->easy == nullptr) {
    problem = "cannot create a curl handle";
  } else if (CURLcode rc = Configure(*transfer, request); rc != CURLE_OK) {
    transfer->response.curl_code = rc;
    problem = fmt::format("invalid request for \"{}\": {}", request.url,
                          transfer->error[0] != '\0' ? transfer->error : curl_easy_strerror(rc));
  } else if (CURLMcode mc = curl_multi_add_handle(multi_, transfer->easy); mc != CURLM_OK) {
    problem = fmt::format("cannot start request: {}", curl_multi_strerror(mc));
  }
  if (!problem.empty()) {
    transfer->response.error = TransferError::kOther;
    transfer->response.error_message = std::move(problem);
    Complete(std::move(transfer), /*clear_slot=*/false);
    return;
  }
  uint64_t id = transfer->id;
  auto slot = boost::asio::get_associated_cancellation_slot(transfer->handler);
  transfers_.emplace(id, std::move(transfer));
  if (slot.is_connected()) {
    slot.assign([weak = weak_from_this(), id](boost::asio::cancellation_type type) {
      if (type == boost::asio::cancellation_type::none) return;
      if (auto self = weak.lock()) self->Cancel(id);
    });
  }
}

int HttpClient::Impl::OnSocket(curl_socket_t fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    // libcurl is about to close fd: take it from Asio without closing it.
    if (auto it = sockets_.find(fd); it != sockets_.end()) {
      (void)it->second->descriptor.release();
      sockets_.erase(it);
    }
    return 0;
  }
  std::unique_ptr<Socket>& socket = sockets_[fd];
  if (socket == nullptr) {
    try {
      socket = std::make_unique<Socket>(io_, fd, next_generation_++);
    } catch (const boost::system::system_error&) {
      sockets_.erase(fd);
      return -1;  // libcurl fails the transfer using this socket
    }
  }
  socket->what = what;
  Arm(fd, *socket);
  return 0;
}

void HttpClient::Impl::Arm(curl_socket_t fd, Socket& socket) {
  auto wait = [&](bool read) {
    socket.descriptor.async_wait(read ? boost::asio::posix::stream_descriptor::wait_read
                                      : boost::asio::posix::stream_descriptor::wait_write,
                                 [weak = weak_from_this(), fd, generation = socket.generation,
                                  read](const boost::system::error_code& ec) {
                                   if (auto self = weak.lock())
                                     self->OnReady(fd, generation, read, ec);
                                 });
  };
  if ((socket.what & CURL_POLL_IN) != 0 && !socket.reading) {
    socket.reading = true;
    wait(true);
  }
  if ((socket.what & CURL_POLL_OUT) != 0 && !socket.writing) {
    socket.writing = true;
    wait(false);
  }
}

void HttpClient::Impl::OnReady(curl_socket_t fd, uint64_t generation, bool read,
                               const boost::system::error_code& ec) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end() || it->second->generation != generation) return;  // removed
  Socket& socket = *it->second;
  (read ? socket.reading : socket.writing) = false;
  if (ec == boost::asio::error::operation_aborted) return;
  int interest = read ? CURL_POLL_IN : CURL_POLL_OUT;
  if (ec) {
    Action(fd, CURL_CSELECT_ERR);
  } else if ((socket.what & interest) != 0) {
    Action(fd, read ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
  }
  // libcurl may have removed the socket, or changed what it waits for.
  it = sockets_.find(fd);
  if (it != sockets_.end() && it->second->generation == generation) Arm(fd, *it->second);
}

void HttpClient::Impl::OnTimer(long timeout_ms) {
  if (timeout_ms == 0) {
    // Due now (every new transfer asks for this): posted rather than re-arming
    // the timer, which costs a timerfd_settime syscall whenever it becomes the
    // loop's earliest deadline. A timer still armed from before can only fire
    // early, and libcurl answers an early call by asking for a new timeout.
    if (!zero_timeout_posted_) {
      zero_timeout_posted_ = true;
      boost::asio::post(io_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
          self->zero_timeout_posted_ = false;
          self->Action(CURL_SOCKET_TIMEOUT, 0);
        }
      });
    }
    return;
  }
  if (timeout_ms < 0) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->Action(CURL_SOCKET_TIMEOUT, 0);
  });
}

void HttpClient::Impl::Action(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  ProcessDone();
}

void HttpClient::Impl::ProcessDone() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode code = message->data.result;
    Transfer* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    auto node = transfers_.extract(raw->id);
    Fill(*raw, code);
    curl_multi_remove_handle(multi_, easy);
    Complete(std::move(node.mapped()), /*clear_slot=*/true);
  }
}

void HttpClient::Impl::Fill(Transfer& t, CURLcode code) {
  HttpResponse& r = t.response;
  r.curl_code = code;
  r.error = detail::ClassifyCurlCode(code, t.body_too_large);
  if (r.error == TransferError::kBodyTooLarge) {
    r.error_message = fmt::format("response body larger than {} bytes", t.max_body_bytes);
  } else if (code != CURLE_OK) {
    r.error_message = t.error[0] != '\0' ? t.error : curl_easy_strerror(code);
  }
  long status = 0, version = 0, redirects = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version);
  curl_easy_getinfo(t.easy, CURLINFO_REDIRECT_COUNT, &redirects);
  r.status = status;
  r.http_version = status > 0 ? detail::HttpVersionName(version) : "";
  r.redirects = static_cast<int>(redirects);
  curl_off_t content_length = -1;
  curl_easy_getinfo(t.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
  r.content_length = content_length;

  detail::CurlTimes times;
  curl_off_t value = 0;
  auto read_time = [&](CURLINFO info, int64_t& out) {
    if (curl_easy_getinfo(t.easy, info, &value) == CURLE_OK) out = value;
  };
  read_time(CURLINFO_NAMELOOKUP_TIME_T, times.namelookup);
  read_time(CURLINFO_CONNECT_TIME_T, times.connect);
  read_time(CURLINFO_APPCONNECT_TIME_T, times.appconnect);
  read_time(CURLINFO_PRETRANSFER_TIME_T, times.pretransfer);
  read_time(CURLINFO_STARTTRANSFER_TIME_T, times.starttransfer);
  read_time(CURLINFO_TOTAL_TIME_T, times.total);
  r.phases = detail::ComputePhases(times);
  r.total_seconds = static_cast<double>(times.total) / 1e6;

  char* text = nullptr;
  if (curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text != nullptr) {
    r.effective_url = text;
  }
  text = nullptr;
  if (curl_easy_getinfo(t.easy, CURLINFO_PRIMARY_IP, &text) == CURLE_OK && text != nullptr) {
    r.primary_ip = text;
  }
  text = nullptr;
  r.tls = curl_easy_getinfo(t.easy, CURLINFO_SCHEME, &text) == CURLE_OK && text != nullptr &&
          strcasecmp(text, "https") == 0;
  if (!r.tls) r.tls_version.clear();

  curl_certinfo* certs = nullptr;
  if (t.collect_certificates && r.tls &&
      curl_easy_getinfo(t.easy, CURLINFO_CERTINFO, &certs) == CURLE_OK && certs != nullptr) {
    static constexpr std::string_view kExpire = "Expire date:";
    for (int i = 0; i < certs->num_of_certs; ++i) {
      for (curl_slist* field = certs->certinfo[i]; field != nullptr; field = field->next) {
        std::string_view line(field->data);
        if (!line.starts_with(kExpire)) continue;
        auto expiry = detail::ParseCertExpireDate(line.substr(kExpire.size()));
        if (expiry && (!r.earliest_cert_expiry || *expiry < *r.earliest_cert_expiry)) {
          r.earliest_cert_expiry = expiry;
        }
      }
    }
  }
}

void HttpClient::Impl::Cancel(uint64_t id) {
  auto node = transfers_.extract(id);
  if (node.empty()) return;
  std::unique_ptr<Transfer>& transfer = node.mapped();
  curl_multi_remove_handle(multi_, transfer->easy);
  transfer->response.error = TransferError::kCancelled;
  transfer->response.error_message = "request cancelled";
  // Called from the cancellation slot's own handler: the slot must not be
  // cleared from inside it.
  Complete(std::move(transfer), /*clear_slot=*/false);
}

void HttpClient::Impl::Complete(std::unique_ptr<Transfer> transfer, bool clear_slot) {
  if (clear_slot) {
    auto slot = boost::asio::get_associated_cancellation_slot(transfer->handler);
    if (slot.is_connected()) slot.clear();
  }
  Handler handler = std::move(transfer->handler);
  HttpResponse response = std::move(transfer->response);
  if (transfer->easy != nullptr && idle_easy_.size() < kMaxIdleEasyHandles) {
    // Back to its defaults; it is out of the multi handle, its connection
    // closed or returned to the multi handle's pool.
    curl_easy_reset(transfer->easy);
    idle_easy_.push_back(std::exchange(transfer->easy, nullptr));
  }
  transfer.reset();  // frees the header lists (and a surplus easy handle) before the caller resumes
  // Posted to the loop, never run inline: the caller may start a new request
  // at once, and libcurl must not be re-entered from its own callbacks. From
  // there the handler runs on its own executor.
  boost::asio::post(io_, [handler = std::move(handler), response = std::move(response),
                          fallback = io_.get_executor()]() mutable {
    auto executor = boost::asio::get_associated_executor(handler, fallback);
    boost::asio::dispatch(executor,
                          [handler = std::move(handler), response = std::move(response)]() mutable {
                            std::move(handler)(std::move(response));
                          });
  });
}

HttpClient::HttpClient(boost::asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

HttpClient::~HttpClient() = default;

void HttpClient::Start(HttpRequest request, Handler handler) {
  impl_->Start(std::move(request), std::move(handler));
}

boost::asio::awaitable<HttpResponse> HttpClient::Perform(HttpRequest request) {
  co_return co_await AsyncPerform(std::move(request), boost::asio::use_awaitable);
}

size_t HttpClient::in_flight() const { return impl_->in_flight(); }

}  // namespace vigil::net
