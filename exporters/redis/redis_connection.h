#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "daemon/config/config.h"
#include "exporters/redis/redis_target.h"

namespace vigil::exporters::redis {

// One reply of a Redis server (RESP2), parsed by hiredis's reader and copied
// into a value type.
struct RedisReply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string text;                  // kString, kStatus and kError
  long long integer = 0;             // kInteger
  std::vector<RedisReply> elements;  // kArray

  bool operator==(const RedisReply&) const = default;
};

// Why a connection or round trip failed. `message` names the address and the
// step ("connect to 127.0.0.1:6379: Connection refused", "TLS handshake with
// 127.0.0.1:6380 failed: certificate verify failed: unable to get local issuer
// certificate"); it never holds a command's arguments (AUTH carries a password).
struct RedisIoError {
  enum class Kind {
    kConnect,  // resolve, connect, read or write failed, the server closed, or spoke no RESP
    kTimeout,  // the deadline passed
    kTls,      // TLS setup (CA, certificate or key files), handshake or record layer
  };
  Kind kind = Kind::kConnect;
  std::string message;
};

template <typename T>
using RedisIoResult = tl::expected<T, RedisIoError>;

// A command and its arguments, e.g. {"INFO", "ALL"}; binary-safe.
using RedisCommand = std::vector<std::string>;

// RedisConnection is one blocking connection to a Redis server over TCP, a
// unix socket, or TLS over TCP (OpenSSL), with every wait bounded by a
// deadline (non-blocking socket and poll). All three share one I/O path: the
// connection does its own socket reads and writes (send with MSG_NOSIGNAL, so
// a closed peer never raises SIGPIPE); TLS only encrypts and decrypts the
// bytes in between, through OpenSSL memory BIOs. Commands are formatted with
// hiredis's redisFormatCommandArgv and replies parsed with its redisReader.
//
// TLS verifies the server's certificate against tls.ca_file (or the system
// store) and its name against tls.server_name, or the target host when that is
// empty (an IP address is matched against the certificate's IP SANs); the same
// name is sent as SNI unless it is an IP address. tls.insecure_skip_verify
// turns verification off; tls.cert_file/key_file present a client certificate;
// tls.min_version ("TLS10".."TLS13") sets the lowest version offered.
//
// Not thread-safe: one thread at a time. After any error the connection is in
// an unknown state (a reply may be half read): drop it.
class RedisConnection {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Connects to `address` (TLS when address.tls, configured by `tls`) and
  // completes the TLS handshake, all before `deadline`. Host names are
  // resolved with getaddrinfo, which the deadline does not bound.
  static RedisIoResult<std::unique_ptr<RedisConnection>> Open(const RedisAddress& address,
                                                              const config::TlsConfig& tls,
                                                              Deadline deadline);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `commands` pipelined in one write and reads one reply per command,
  // in order, all before `deadline`. Error replies (-ERR ...) are replies, not
  // failures. No commands: no I/O, no replies.
  RedisIoResult<std::vector<RedisReply>> RoundTrip(const std::vector<RedisCommand>& commands,
                                                   Deadline deadline);

 private:
  struct State;
  explicit RedisConnection(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace vigil::exporters::redis
