#include "exporters/redis/redis_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace vigil::exporters::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Kind = RedisIoError::Kind;
using Type = RedisReply::Type;

// Reads until `size` bytes came or the peer closed.
std::string ReadBytes(int fd, size_t size) {
  std::string out;
  char buffer[4096];
  while (out.size() < size) {
    ssize_t got = ::read(fd, buffer, std::min(sizeof(buffer), size - out.size()));
    if (got <= 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

// Reads until the peer closes.
void DrainUntilClosed(int fd) {
  char buffer[4096];
  while (::read(fd, buffer, sizeof(buffer)) > 0) {
  }
}

void WriteBytes(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;
    data.remove_prefix(static_cast<size_t>(sent));
  }
}

// A listener on 127.0.0.1 (or a unix socket) that accepts one connection and
// runs a script on it in a thread; joined on destruction.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(int fd)> script, std::string unix_path = "")
      : unix_path_(std::move(unix_path)) {
    if (unix_path_.empty()) {
      listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
      socklen_t size = sizeof(addr);
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size);
      port_ = ntohs(addr.sin_port);
    } else {
      listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", unix_path_.c_str());
      ::unlink(unix_path_.c_str());
      EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    }
    EXPECT_EQ(::listen(listener_, 1), 0);
    thread_ = std::thread([this, script = std::move(script)] {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      script(fd);
      ::close(fd);
    });
  }
  ~ScriptedServer() {
    thread_.join();
    ::close(listener_);
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  }

  RedisAddress Address(bool tls = false) const {
    RedisAddress address;
    if (unix_path_.empty()) {
      address.host = "127.0.0.1";
      address.port = port_;
    } else {
      address.unix_path = unix_path_;
    }
    address.tls = tls;
    return address;
  }
  std::string Display() const { return Address().Display(); }

 private:
  std::string unix_path_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

steady_clock::time_point In(milliseconds d) { return steady_clock::now() + d; }

RedisReply Reply(Type type, std::string text = "", long long integer = 0,
                 std::vector<RedisReply> elements = {}) {
  return RedisReply{type, std::move(text), integer, std::move(elements)};
}

TEST(RedisConnection, PipelinedRoundTripSendsRespAndParsesEveryReplyType) {
  const std::string request =
      "*1\r\n$4\r\nPING\r\n"
      "*2\r\n$4\r\nINFO\r\n$3\r\nALL\r\n"
      "*2\r\n$6\r\nINCRBY\r\n$2\r\nk\n\r\n"
      "*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n"
      "*1\r\n$4\r\nNOPE\r\n"
      "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\ndatabases\r\n";
  std::string received;
  ScriptedServer server([&](int fd) {
    received = ReadBytes(fd, request.size());
    // One byte at a time: the reader must reassemble every reply.
    for (char c : std::string_view("+PONG\r\n$11\r\nrole:master\r\n:42\r\n$-1\r\n"
                                   "-ERR unknown command 'NOPE'\r\n"
                                   "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n")) {
      WriteBytes(fd, std::string_view(&c, 1));
    }
    DrainUntilClosed(fd);
  });
  auto connection = RedisConnection::Open(server.Address(), {}, In(milliseconds(2000)));
  ASSERT_TRUE(connection) << connection.error().message;
  auto replies = (*connection)
                     ->RoundTrip({{"PING"},
                                  {"INFO", "ALL"},
                                  {"INCRBY", "k\n"},
                                  {"GET", "missing"},
                                  {"NOPE"},
                                  {"CONFIG", "GET", "databases"}},
                                 In(milliseconds(2000)));
  ASSERT_TRUE(replies) << replies.error().message;
  EXPECT_EQ(*replies, (std::vector<RedisReply>{
                          Reply(Type::kStatus, "PONG"),
                          Reply(Type::kString, "role:master"),
                          Reply(Type::kInteger, "", 42),
                          Reply(Type::kNil),
                          Reply(Type::kError, "ERR unknown command 'NOPE'"),
                          Reply(Type::kArray, "", 0,
                                {Reply(Type::kString, "databases"), Reply(Type::kString, "16")}),
                      }));
  connection->reset();
  EXPECT_EQ(received, request);
}

TEST(RedisConnection, SeveralRoundTripsOnOneUnixSocket) {
  std::string path = ::testing::TempDir() + "/vigil_redis_connection_test.sock";
  ScriptedServer server(
      [](int fd) {
        EXPECT_EQ(ReadBytes(fd, 14), "*1\r\n$4\r\nPING\r\n");
        WriteBytes(fd, "+PONG\r\n");
        EXPECT_EQ(ReadBytes(fd, 14), "*1\r\n$4\r\nPING\r\n");
        WriteBytes(fd, "+PONG\r\n");
        DrainUntilClosed(fd);
      },
      path);
  auto connection = RedisConnection::Open(server.Address(), {}, In(milliseconds(2000)));
  ASSERT_TRUE(connection) << connection.error().message;
  for (int i = 0; i < 2; ++i) {
    auto replies = (*connection)->RoundTrip({{"PING"}}, In(milliseconds(2000)));
    ASSERT_TRUE(replies) << replies.error().message;
    EXPECT_EQ(*replies, std::vector<RedisReply>{Reply(Type::kStatus, "PONG")});
  }
}

TEST(RedisConnection, ASilentServerTimesOutAtTheDeadline) {
  ScriptedServer server(DrainUntilClosed);
  auto connection = RedisConnection::Open(server.Address(), {}, In(milliseconds(2000)));
  ASSERT_TRUE(connection) << connection.error().message;
  auto start = steady_clock::now();
  auto replies = (*connection)->RoundTrip({{"PING"}}, In(milliseconds(200)));
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(replies);
  EXPECT_EQ(replies.error().kind, Kind::kTimeout);
  EXPECT_EQ(replies.error().message, "read from " + server.Display() + ": timed out");
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(1000));
}

TEST(RedisConnection, ServerClosingMidReplyIsAConnectError) {
  ScriptedServer server([](int fd) {
    ReadBytes(fd, 14);
    WriteBytes(fd, "$10\r\nhel");
  });
  auto connection = RedisConnection::Open(server.Address(), {}, In(milliseconds(2000)));
  ASSERT_TRUE(connection) << connection.error().message;
  auto replies = (*connection)->RoundTrip({{"PING"}}, In(milliseconds(2000)));
  ASSERT_FALSE(replies);
  EXPECT_EQ(replies.error().kind, Kind::kConnect);
  EXPECT_EQ(replies.error().message,
            "read from " + server.Display() + ": connection closed by the server");
}

TEST(RedisConnection, NotRespIsAProtocolError) {
  ScriptedServer server([](int fd) {
    ReadBytes(fd, 14);
    WriteBytes(fd, "HTTP/1.1 400 Bad Request\r\n");
    DrainUntilClosed(fd);
  });
  auto connection = RedisConnection::Open(server.Address(), {}, In(milliseconds(2000)));
  ASSERT_TRUE(connection) << connection.error().message;
  auto replies = (*connection)->RoundTrip({{"PING"}}, In(milliseconds(2000)));
  ASSERT_FALSE(replies);
  EXPECT_EQ(replies.error().kind, Kind::kConnect);
  EXPECT_EQ(replies.error().message, "redis protocol error from " + server.Display() +
                                         ": Protocol error, got \"H\" as reply type byte");
}

TEST(RedisConnection, NothingListening) {
  RedisAddress closed;
  {
    ScriptedServer server([](int) {});
    closed = server.Address();
    // Let the script finish: connect once and drop the connection.
    ASSERT_TRUE(RedisConnection::Open(closed, {}, In(milliseconds(2000))));
  }
  auto tcp = RedisConnection::Open(closed, {}, In(milliseconds(2000)));
  ASSERT_FALSE(tcp);
  EXPECT_EQ(tcp.error().kind, Kind::kConnect);
  EXPECT_EQ(tcp.error().message, "connect to " + closed.Display() + ": Connection refused");

  RedisAddress missing;
  missing.unix_path = ::testing::TempDir() + "/vigil_no_such.sock";
  auto unix = RedisConnection::Open(missing, {}, In(milliseconds(2000)));
  ASSERT_FALSE(unix);
  EXPECT_EQ(unix.error().kind, Kind::kConnect);
  EXPECT_EQ(unix.error().message,
            "connect to unix:" + missing.unix_path + ": No such file or directory");
}

TEST(RedisConnection, TlsToAPlainServerFailsTheHandshake) {
  // A plain Redis answers the ClientHello as an unknown inline command.
  ScriptedServer server([](int fd) {
    char buffer[4096];
    EXPECT_GT(::read(fd, buffer, sizeof(buffer)), 0);
    WriteBytes(fd, "-ERR unknown command\r\n");
    DrainUntilClosed(fd);
  });
  config::TlsConfig tls;
  tls.insecure_skip_verify = true;
  auto connection = RedisConnection::Open(server.Address(true), tls, In(milliseconds(2000)));
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().kind, Kind::kTls);
  EXPECT_EQ(connection.error().message,
            "TLS handshake with " + server.Display() + " failed: wrong version number");
}

TEST(RedisConnection, TlsHandshakeIsBoundedByTheDeadline) {
  ScriptedServer server(DrainUntilClosed);
  config::TlsConfig tls;
  tls.insecure_skip_verify = true;
  auto start = steady_clock::now();
  auto connection = RedisConnection::Open(server.Address(true), tls, In(milliseconds(200)));
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().kind, Kind::kTimeout);
  EXPECT_EQ(connection.error().message, "TLS handshake with " + server.Display() + ": timed out");
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(1000));
}

TEST(RedisConnection, UnreadableTlsFilesAreTlsErrors) {
  std::string dir = ::testing::TempDir();
  {
    ScriptedServer server(DrainUntilClosed);
    config::TlsConfig tls;
    tls.ca_file = dir + "/vigil_no_such_ca.pem";
    auto connection = RedisConnection::Open(server.Address(true), tls, In(milliseconds(2000)));
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().kind, Kind::kTls);
    EXPECT_EQ(connection.error().message,
              "cannot load the CA file " + tls.ca_file + ": No such file or directory");
  }
  {
    ScriptedServer server(DrainUntilClosed);
    config::TlsConfig tls;
    tls.insecure_skip_verify = true;
    tls.cert_file = dir + "/vigil_no_such_cert.pem";
    tls.key_file = dir + "/vigil_no_such_key.pem";
    auto connection = RedisConnection::Open(server.Address(true), tls, In(milliseconds(2000)));
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().kind, Kind::kTls);
    EXPECT_EQ(connection.error().message, "cannot load the client certificate " + tls.cert_file +
                                              ": No such file or directory");
  }
}

}  // namespace
}  // namespace vigil::exporters::redis
