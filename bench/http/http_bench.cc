// HTTP probe benchmark: CPU time per 1000 probes of a local nginx
// (scripts/testenv/nginx.sh) over plain HTTP and HTTPS (TLS 1.3, a fresh
// connection and a full handshake per probe, as blackbox_exporter does), with
// `kConcurrency` probes in flight, measured as this process's user + system
// time (libcurl's resolver threads included).
//
// Peer: Debian's prometheus-blackbox-exporter (0.23) running the same modules,
// driven through its /probe endpoint by the same client; its CPU time is read
// from /proc/<pid>/stat. Its figure includes serving /probe and rendering the
// metrics text, which vigil's does not (vigil renders once per scrape of all
// targets). Without the package the peer column says so.
// Run: build-*/bench/http/http_bench [probes]
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/net/http_client.h"
#include "exporters/http/http_prober.h"
#include "tests/fixtures/db_fixture_util.h"
#include "tests/fixtures/nginx_fixture.h"

namespace vigil::http {
namespace {

namespace asio = boost::asio;
constexpr int kConcurrency = 50;
constexpr const char* kBlackbox = "/usr/bin/prometheus-blackbox-exporter";

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// utime + stime of another process, seconds.
std::optional<double> CpuSecondsOf(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Figures {
  double cpu_ms_per_1000 = 0;
  double wall_s = 0;
  int failures = 0;
};

// Runs `count` calls of `one(worker)` (returning success) on kConcurrency
// workers, each call of a worker after the previous one.
template <typename One>
Figures Run(asio::io_context& io, int count, One one, const std::function<double()>& cpu) {
  Figures out;
  int started = 0, done = 0;
  double cpu_before = cpu();
  auto wall_before = std::chrono::steady_clock::now();
  for (int worker = 0; worker < kConcurrency; ++worker) {
    asio::co_spawn(
        io,
        [&, worker]() -> asio::awaitable<void> {
          while (started < count) {
            ++started;
            bool ok = co_await one(worker);
            out.failures += ok ? 0 : 1;
            ++done;
          }
        },
        asio::detached);
  }
  io.restart();
  while (done < count && io.run_one() > 0) {
  }
  out.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  out.cpu_ms_per_1000 = (cpu() - cpu_before) * 1000.0 * 1000.0 / count;
  return out;
}

std::shared_ptr<const HttpProbeOptions> Options(const std::string& yaml) {
  config::YamlErrorSink errors("bench.yml", "");
  return std::dynamic_pointer_cast<const HttpProbeOptions>(
      ParseHttpProbeOptions(YAML::Load(yaml), errors));
}

// A running blackbox_exporter, killed on destruction.
struct Blackbox {
  Blackbox() = default;
  Blackbox(const Blackbox&) = delete;
  Blackbox& operator=(const Blackbox&) = delete;
  int pid = 0;
  int port = 0;
  ~Blackbox() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::unique_ptr<Blackbox> StartBlackbox(const std::string& dir, const std::string& ca_file) {
  if (access(kBlackbox, X_OK) != 0) return nullptr;
  std::string config = dir + "/blackbox.yml";
  std::ofstream(config) << "modules:\n"
                        << "  plain:\n    prober: http\n    timeout: 5s\n"
                        << "    http: {preferred_ip_protocol: ip4}\n"
                        << "  tls:\n    prober: http\n    timeout: 5s\n"
                        << "    http: {preferred_ip_protocol: ip4, tls_config: {ca_file: '"
                        << ca_file << "'}}\n";
  auto port = testing::FreeLoopbackPort();
  if (!port) return nullptr;
  auto box = std::make_unique<Blackbox>();
  box->port = *port;
  box->pid = fork();
  if (box->pid == 0) {
    int log = open((dir + "/blackbox.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 1);
    dup2(log, 2);
    std::string listen = fmt::format("--web.listen-address=127.0.0.1:{}", *port);
    std::string file = "--config.file=" + config;
    execl(kBlackbox, kBlackbox, file.c_str(), listen.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return box;
}

int Main(int argc, char** argv) {
  int probes = argc > 1 ? std::atoi(argv[1]) : 2000;
  auto nginx = testing::NginxServer::Start();
  if (!nginx) {
    fmt::print(stderr, "cannot start nginx: {}\n", nginx.error().message);
    return 1;
  }
  asio::io_context io;
  net::HttpClient client(io);
  HttpProbeKind kind(client);
  auto dir = testing::MakeTempDir("vigil-http-bench-");
  if (!dir) return 1;
  std::unique_ptr<Blackbox> blackbox = StartBlackbox(*dir, (*nginx)->ca_file());
  if (blackbox) {  // wait until it listens
    for (int i = 0; i < 100; ++i) {
      net::HttpRequest ping;
      ping.url = fmt::format("http://127.0.0.1:{}/", blackbox->port);
      std::optional<net::HttpResponse> r;
      client.AsyncPerform(ping, [&](net::HttpResponse response) { r = std::move(response); });
      io.restart();
      while (!r && io.run_one() > 0) {
      }
      if (r->status == 200) break;
      usleep(50000);
    }
  }

  fmt::print("{} probes of {} per row, {} in flight\n\n", probes, "/health", kConcurrency);
  fmt::print("{:<8} {:>22} {:>10} {:>30} {:>10}\n", "scheme", "vigil CPU ms/1000", "vigil s",
             "blackbox 0.23 CPU ms/1000", "bb s");
  for (bool tls : {false, true}) {
    config::ModuleConfig module;
    module.name = tls ? "tls" : "plain";
    module.prober = "http";
    module.options = Options(tls ? "{tls_config: {ca_file: '" + (*nginx)->ca_file() + "'}}" : "{}");
    std::string url = tls ? (*nginx)->HttpsUrl("/health") : (*nginx)->HttpUrl("/health");
    std::vector<std::unique_ptr<exporters::TargetProber>> probers;
    for (int i = 0; i < kConcurrency; ++i) probers.push_back(*kind.NewTarget(module, url));
    Figures vigil = Run(
        io, probes,
        [&](int worker) -> asio::awaitable<bool> {
          auto result = co_await probers[worker]->Probe(std::chrono::milliseconds(5000));
          co_return result.success;
        },
        ProcessCpuSeconds);
    std::string peer = "not installed";
    std::string peer_wall = "-";
    if (blackbox) {
      net::HttpRequest request;
      request.url = fmt::format("http://127.0.0.1:{}/probe?module={}&target={}", blackbox->port,
                                module.name, url);
      int pid = blackbox->pid;
      Figures bb = Run(
          io, probes,
          [&](int) -> asio::awaitable<bool> {
            auto r = co_await client.Perform(request);
            co_return r.status == 200 && r.body.find("probe_success 1") != std::string::npos;
          },
          [pid] { return CpuSecondsOf(pid).value_or(0); });
      peer = fmt::format("{:.1f}{}", bb.cpu_ms_per_1000,
                         bb.failures ? fmt::format(" ({} failed)", bb.failures) : "");
      peer_wall = fmt::format("{:.2f}", bb.wall_s);
    }
    fmt::print("{:<8} {:>22} {:>10.2f} {:>30} {:>10}\n", tls ? "https" : "http",
               fmt::format("{:.1f}{}", vigil.cpu_ms_per_1000,
                           vigil.failures ? fmt::format(" ({} failed)", vigil.failures) : ""),
               vigil.wall_s, peer, peer_wall);
  }
  blackbox.reset();
  std::error_code ignored;
  std::filesystem::remove_all(*dir, ignored);
  return 0;
}

}  // namespace
}  // namespace vigil::http

int main(int argc, char** argv) { return vigil::http::Main(argc, argv); }
