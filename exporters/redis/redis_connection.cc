#include "exporters/redis/redis_connection.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace vigil::exporters::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Deadline = RedisConnection::Deadline;
using Kind = RedisIoError::Kind;

constexpr size_t kReadChunk = 16 * 1024;

tl::unexpected<RedisIoError> Failure(Kind kind, std::string message) {
  return tl::unexpected(RedisIoError{kind, std::move(message)});
}

// strerror, thread-safe (GNU strerror_r).
std::string ErrorText(int error) {
  std::array<char, 256> buffer{};
  return ::strerror_r(error, buffer.data(), buffer.size());
}

tl::unexpected<RedisIoError> SystemFailure(std::string_view what, int error) {
  return Failure(Kind::kConnect, fmt::format("{}: {}", what, ErrorText(error)));
}

// The reason of the earliest error in OpenSSL's queue (the root cause; what
// follows repeats it in other words), "" when there is none. Empties the queue.
std::string TakeOpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  if (ERR_SYSTEM_ERROR(code)) return ErrorText(ERR_GET_REASON(code));
  if (const char* reason = ERR_reason_error_string(code)) return reason;
  std::array<char, 256> buffer{};
  ERR_error_string_n(code, buffer.data(), buffer.size());
  return buffer.data();
}

tl::unexpected<RedisIoError> TlsFailure(std::string what) {
  std::string errors = TakeOpenSslError();
  if (!errors.empty()) what += ": " + errors;
  return Failure(Kind::kTls, std::move(what));
}

// An owned socket descriptor, closed on destruction. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// A unique_ptr deleter calling a C library's free function.
template <auto kFree>
struct FreeWith {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using SslCtx = std::unique_ptr<SSL_CTX, FreeWith<&SSL_CTX_free>>;
using Ssl = std::unique_ptr<SSL, FreeWith<&SSL_free>>;
using Reader = std::unique_ptr<redisReader, FreeWith<&redisReaderFree>>;
using HiredisReply = std::unique_ptr<redisReply, FreeWith<&freeReplyObject>>;

// Waits until `fd` is ready for `events` (or has an error the next call will
// report), at most until `deadline`.
RedisIoResult<void> Wait(int fd, short events, Deadline deadline, std::string_view what) {
  for (;;) {
    auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return Failure(Kind::kTimeout, fmt::format("{}: timed out", what));
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
    if (ready > 0) return {};
    if (ready < 0 && errno != EINTR) return SystemFailure(what, errno);
  }
}

RedisIoResult<void> SendAll(int fd, std::string_view data, Deadline deadline,
                            std::string_view what) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<size_t>(sent));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto ready = Wait(fd, POLLOUT, deadline, what); !ready) return ready;
    } else if (errno != EINTR) {
      return SystemFailure(what, errno);
    }
  }
  return {};
}

// Reads what is there (at least one byte) into `buffer`.
RedisIoResult<size_t> ReceiveSome(int fd, char* buffer, size_t size, Deadline deadline,
                                  std::string_view what) {
  for (;;) {
    ssize_t got = ::recv(fd, buffer, size, 0);
    if (got > 0) return static_cast<size_t>(got);
    if (got == 0) {
      return Failure(Kind::kConnect, fmt::format("{}: connection closed by the server", what));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto ready = Wait(fd, POLLIN, deadline, what); !ready) {
        return tl::unexpected(ready.error());
      }
    } else if (errno != EINTR) {
      return SystemFailure(what, errno);
    }
  }
}

// A non-blocking connect of a fresh socket to `addr`, finished before `deadline`.
RedisIoResult<Fd> ConnectSocket(int family, const sockaddr* addr, socklen_t length,
                                Deadline deadline, const std::string& what) {
  int raw = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) return SystemFailure(what, errno);
  Fd fd(raw);
  if (::connect(raw, addr, length) != 0) {
    if (errno != EINPROGRESS) return SystemFailure(what, errno);
    if (auto ready = Wait(raw, POLLOUT, deadline, what); !ready) {
      return tl::unexpected(ready.error());
    }
    int error = 0;
    socklen_t size = sizeof(error);
    if (::getsockopt(raw, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) return SystemFailure(what, error);
  }
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(raw, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

RedisIoResult<Fd> ConnectUnix(const RedisAddress& address, Deadline deadline) {
  std::string what = fmt::format("connect to {}", address.Display());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (address.unix_path.size() >= sizeof(addr.sun_path)) {
    return Failure(Kind::kConnect, what + ": socket path too long");
  }
  std::memcpy(addr.sun_path, address.unix_path.c_str(), address.unix_path.size() + 1);
  return ConnectSocket(AF_UNIX, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), deadline,
                       what);
}

// Tries each address of the host in turn; the last failure wins.
RedisIoResult<Fd> ConnectTcp(const RedisAddress& address, Deadline deadline) {
  std::string what = fmt::format("connect to {}", address.Display());
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int status = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (status != 0) {
    return Failure(Kind::kConnect,
                   fmt::format("cannot resolve {}: {}", address.host, ::gai_strerror(status)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  RedisIoResult<Fd> last = Failure(Kind::kConnect, what + ": no address");
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    last = ConnectSocket(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline, what);
    if (last || last.error().kind == Kind::kTimeout) return last;
  }
  return last;
}

int TlsVersion(const std::string& name) {
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS12") return TLS1_2_VERSION;
  return TLS1_3_VERSION;  // "TLS13": the config parser accepts nothing else
}

RedisIoResult<SslCtx> NewTlsContext(const config::TlsConfig& tls) {
  ERR_clear_error();
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return TlsFailure("cannot create a TLS context");
  if (!tls.min_version.empty() &&
      SSL_CTX_set_min_proto_version(ctx.get(), TlsVersion(tls.min_version)) != 1) {
    return TlsFailure(fmt::format("cannot set the minimum TLS version {}", tls.min_version));
  }
  if (!tls.insecure_skip_verify) {
    if (tls.ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
        return TlsFailure("cannot load the system CA certificates");
      }
    } else if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr) != 1) {
      return TlsFailure(fmt::format("cannot load the CA file {}", tls.ca_file));
    }
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
      return TlsFailure(fmt::format("cannot load the client certificate {}", tls.cert_file));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return TlsFailure(fmt::format("cannot load the client key {}", tls.key_file));
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      return TlsFailure(fmt::format("the client key {} does not match the certificate {}",
                                    tls.key_file, tls.cert_file));
    }
  }
  return ctx;
}

bool IsIpAddress(const std::string& name) {
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

// A new client SSL over two memory BIOs, with SNI and name verification set up.
RedisIoResult<Ssl> NewTlsSession(SSL_CTX* ctx, const RedisAddress& address,
                                 const config::TlsConfig& tls) {
  Ssl ssl(SSL_new(ctx));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return TlsFailure("cannot create a TLS session");
  }
  SSL_set_bio(ssl.get(), in, out);  // the SSL owns both now
  SSL_set_connect_state(ssl.get());
  const std::string& name = tls.server_name.empty() ? address.host : tls.server_name;
  bool ip = IsIpAddress(name);
  if (!ip && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1) {
    return TlsFailure(fmt::format("cannot set the TLS server name {}", name));
  }
  if (tls.insecure_skip_verify) {
    SSL_set_verify(ssl.get(), SSL_VERIFY_NONE, nullptr);
    return ssl;
  }
  SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, nullptr);
  int named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str())
                 : SSL_set1_host(ssl.get(), name.c_str());
  if (named != 1) return TlsFailure(fmt::format("cannot verify the TLS server name {}", name));
  return ssl;
}

RedisReply ToReply(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i)
        out.elements.push_back(ToReply(*reply.element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

}  // namespace

struct RedisConnection::State {
  std::string display;  // the address, for messages
  Fd fd;
  Ssl ssl;  // null for plain TCP and unix sockets
  Reader reader;

  // TLS: sends what OpenSSL queued in its output BIO.
  RedisIoResult<void> FlushTls(Deadline deadline, std::string_view what) {
    BIO* out = SSL_get_wbio(ssl.get());
    std::array<char, kReadChunk> buffer;
    while (BIO_ctrl_pending(out) > 0) {
      int n = BIO_read(out, buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      auto sent = SendAll(fd.get(), std::string_view(buffer.data(), static_cast<size_t>(n)),
                          deadline, what);
      if (!sent) return sent;
    }
    return {};
  }

  // TLS: runs `op` (a handshake, SSL_read or SSL_write step) until it makes
  // progress, moving bytes between the socket and OpenSSL's BIOs.
  template <typename Op>
  RedisIoResult<int> DriveTls(Op op, Deadline deadline, std::string_view what) {
    for (;;) {
      ERR_clear_error();
      int result = op();
      int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl.get(), result);
      if (auto flushed = FlushTls(deadline, what); !flushed) {
        if (flushed.error().kind == Kind::kConnect) {
          if (auto alert = ReceivedAlert(what)) return *alert;
        }
        return tl::unexpected(flushed.error());
      }
      if (error == SSL_ERROR_NONE) return result;
      if (error == SSL_ERROR_ZERO_RETURN) {
        return Failure(Kind::kConnect, fmt::format("{}: connection closed by the server", what));
      }
      if (error != SSL_ERROR_WANT_READ) return TlsError(what);
      std::array<char, kReadChunk> buffer;
      auto got = ReceiveSome(fd.get(), buffer.data(), buffer.size(), deadline, what);
      if (!got) return tl::unexpected(got.error());
      BIO_write(SSL_get_rbio(ssl.get()), buffer.data(), static_cast<int>(*got));
    }
  }

  // After a failed write: a server that rejects the client (e.g. a missing
  // client certificate, checked after the client's side of a TLS 1.3
  // handshake) sends an alert and closes, and the write that follows fails
  // with a reset. The alert, still in the socket's receive queue, says why.
  std::optional<tl::unexpected<RedisIoError>> ReceivedAlert(std::string_view what) {
    std::array<char, kReadChunk> buffer;
    for (;;) {
      ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got <= 0) break;
      BIO_write(SSL_get_rbio(ssl.get()), buffer.data(), static_cast<int>(got));
    }
    ERR_clear_error();
    char byte = 0;
    int result = SSL_peek(ssl.get(), &byte, 1);
    if (result > 0 || SSL_get_error(ssl.get(), result) != SSL_ERROR_SSL) return std::nullopt;
    return TlsError(what);
  }

  tl::unexpected<RedisIoError> TlsError(std::string_view what) {
    std::string message = fmt::format("{} failed", what);
    std::string errors = TakeOpenSslError();
    if (!errors.empty()) message += ": " + errors;
    long verify = SSL_get_verify_result(ssl.get());
    if (verify != X509_V_OK) {
      message += ": ";
      message += X509_verify_cert_error_string(verify);
    }
    return Failure(Kind::kTls, std::move(message));
  }

  RedisIoResult<void> Handshake(Deadline deadline) {
    std::string what = fmt::format("TLS handshake with {}", display);
    auto done = DriveTls([this] { return SSL_do_handshake(ssl.get()); }, deadline, what);
    if (!done) return tl::unexpected(done.error());
    return {};
  }

  RedisIoResult<void> Write(std::string_view data, Deadline deadline) {
    std::string what = fmt::format("write to {}", display);
    if (ssl == nullptr) return SendAll(fd.get(), data, deadline, what);
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write takes all or nothing.
    auto written =
        DriveTls([&] { return SSL_write(ssl.get(), data.data(), static_cast<int>(data.size())); },
                 deadline, what);
    if (!written) return tl::unexpected(written.error());
    return {};
  }

  RedisIoResult<size_t> Read(char* buffer, size_t size, Deadline deadline) {
    std::string what = fmt::format("read from {}", display);
    if (ssl == nullptr) return ReceiveSome(fd.get(), buffer, size, deadline, what);
    auto got = DriveTls([&] { return SSL_read(ssl.get(), buffer, static_cast<int>(size)); },
                        deadline, what);
    if (!got) return tl::unexpected(got.error());
    return static_cast<size_t>(*got);
  }
};

RedisConnection::RedisConnection(std::unique_ptr<State> state) : state_(std::move(state)) {}

RedisConnection::~RedisConnection() = default;

RedisIoResult<std::unique_ptr<RedisConnection>> RedisConnection::Open(const RedisAddress& address,
                                                                      const config::TlsConfig& tls,
                                                                      Deadline deadline) {
  auto state = std::make_unique<State>();
  state->display = address.Display();
  auto fd = address.is_unix() ? ConnectUnix(address, deadline) : ConnectTcp(address, deadline);
  if (!fd) return tl::unexpected(fd.error());
  state->fd = std::move(*fd);
  if (address.tls) {
    auto ctx = NewTlsContext(tls);
    if (!ctx) return tl::unexpected(ctx.error());
    // The session holds its own reference to the context.
    auto ssl = NewTlsSession(ctx->get(), address, tls);
    if (!ssl) return tl::unexpected(ssl.error());
    state->ssl = std::move(*ssl);
    if (auto shaken = state->Handshake(deadline); !shaken) return tl::unexpected(shaken.error());
  }
  state->reader.reset(redisReaderCreate());
  if (state->reader == nullptr) return Failure(Kind::kConnect, "cannot allocate a redis reader");
  return std::unique_ptr<RedisConnection>(new RedisConnection(std::move(state)));
}

RedisIoResult<std::vector<RedisReply>> RedisConnection::RoundTrip(
    const std::vector<RedisCommand>& commands, Deadline deadline) {
  if (commands.empty()) return std::vector<RedisReply>{};
  std::string request;
  for (const RedisCommand& command : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                        lengths.data());
    if (length < 0) return Failure(Kind::kConnect, "cannot format a redis command");
    request.append(formatted, static_cast<size_t>(length));
    redisFreeCommand(formatted);
  }
  if (auto written = state_->Write(request, deadline); !written) {
    return tl::unexpected(written.error());
  }

  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  std::array<char, kReadChunk> buffer;
  while (replies.size() < commands.size()) {
    void* raw = nullptr;
    if (redisReaderGetReply(state_->reader.get(), &raw) != REDIS_OK) {
      return Failure(Kind::kConnect, fmt::format("redis protocol error from {}: {}",
                                                 state_->display, state_->reader->errstr));
    }
    if (raw != nullptr) {
      HiredisReply reply(static_cast<redisReply*>(raw));
      replies.push_back(ToReply(*reply));
      continue;
    }
    auto got = state_->Read(buffer.data(), buffer.size(), deadline);
    if (!got) return tl::unexpected(got.error());
    if (redisReaderFeed(state_->reader.get(), buffer.data(), *got) != REDIS_OK) {
      return Failure(Kind::kConnect, fmt::format("redis protocol error from {}: {}",
                                                 state_->display, state_->reader->errstr));
    }
  }
  return replies;
}

}  // namespace vigil::exporters::redis
