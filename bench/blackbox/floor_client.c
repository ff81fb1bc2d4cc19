/* The floor for one HTTP probe with a fresh connection: the least a client can
 * do for it, one connection at a time, measured for compare_blackbox.sh.
 *
 *   floor_client IPV4 PORT PATH CONNECTIONS
 *
 * Each connection: socket(SOCK_NONBLOCK|SOCK_CLOEXEC), connect, poll until
 * writable, send "GET PATH HTTP/1.1", poll and recv until the whole response
 * (headers and Content-Length bytes of body) is in, close. A connection counts
 * as good for a 200 response. After CONNECTIONS / 20 warm-up connections it
 * prints "RESULT <good> <bad> <cpu_ms> <wall_s>" for CONNECTIONS more: CPU is
 * this process's user+system time (getrusage), as the daemons' is theirs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kTimeoutMs = 5000, kResponseMax = 65536 };

static int wait_for(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  int n = poll(&p, 1, kTimeoutMs);
  return n == 1 && (p.revents & (events | POLLHUP | POLLERR)) != 0 ? 0 : -1;
}

/* The length of the complete response in buf (size bytes, then a NUL); 0 while
 * it is incomplete. */
static size_t complete_length(const char* buf, size_t size) {
  const char* end = strstr(buf, "\r\n\r\n");
  if (end == NULL) return 0;
  size_t head = (size_t)(end - buf) + 4;
  size_t body = 0;
  for (const char* line = buf; line < end; line = strstr(line, "\r\n") + 2) {
    if (strncasecmp(line, "Content-Length:", 15) == 0) body = strtoul(line + 15, NULL, 10);
  }
  return size >= head + body ? head + body : 0;
}

/* One fresh connection and request; 1 for a 200 response, 0 otherwise. */
static int probe_once(const struct sockaddr_in* addr, const char* request, size_t request_size) {
  char response[kResponseMax];
  size_t received = 0;
  int ok = 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  if (connect(fd, (const struct sockaddr*)addr, sizeof *addr) != 0 && errno != EINPROGRESS) {
    goto done;
  }
  if (wait_for(fd, POLLOUT) != 0) goto done;
  if (send(fd, request, request_size, MSG_NOSIGNAL) != (ssize_t)request_size) goto done;
  for (;;) {
    if (wait_for(fd, POLLIN) != 0) goto done;
    ssize_t n = recv(fd, response + received, sizeof response - received - 1, 0);
    if (n <= 0) goto done;
    received += (size_t)n;
    response[received] = '\0';  /* complete_length() searches it as a string */
    if (complete_length(response, received) != 0 || received == sizeof response - 1) break;
  }
  ok = received > 12 && strncmp(response + 8, " 200", 4) == 0;
done:
  close(fd);
  return ok;
}

static double cpu_ms(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s IPV4 PORT PATH CONNECTIONS\n", argv[0]);
    return 2;
  }
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  long connections = atol(argv[4]);
  char request[1024];
  int size = snprintf(request, sizeof request,
                      "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: */*\r\n\r\n", argv[3], argv[1],
                      argv[2]);
  if (size <= 0 || (size_t)size >= sizeof request || connections <= 0) {
    fprintf(stderr, "bad PATH or CONNECTIONS\n");
    return 2;
  }
  for (long i = 0; i < connections / 20; ++i) probe_once(&addr, request, (size_t)size);
  long good = 0;
  double cpu0 = cpu_ms(), t0 = now_s();
  for (long i = 0; i < connections; ++i) good += probe_once(&addr, request, (size_t)size);
  double cpu1 = cpu_ms(), t1 = now_s();
  printf("RESULT %ld %ld %.0f %.1f\n", good, connections - good, cpu1 - cpu0, t1 - t0);
  return 0;
}
