// nettool: the small static TCP helper of the network benchmark (bench/net-bench.sh) and
// scenarios, run on both sides of a NIC: a server in the guest (or in a netns, the runc
// baseline) and the measuring client on the test host. Like netperf's TCP_STREAM and TCP_RR.
//
//   nettool serve PORT                 accept connections one at a time until a 'Q' arrives
//   nettool send HOST PORT SECS        stream to the server for SECS; the server counts
//   nettool recv HOST PORT SECS        the server streams to us for SECS; we count
//   nettool rr HOST PORT N             N 1-byte request/response round trips (TCP_NODELAY)
//   nettool quit HOST PORT             stop the server
//   nettool wait HOST PORT SECS        retry connecting until the server answers
//   nettool tapexec TAP FD CMD [ARG..] attach to tap TAP (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, vnet
//                                      header 12, as runvm's supervisor does), put it on fd FD
//                                      and exec CMD (runvm-vmm --net tap-fd=FD,...)
// A connection's first byte selects the exchange: 'S' sink, 'G' source, 'R' echo, 'Q' quit.
// Client results are one line "nettool <mode> k=v ..."; exit status 0 only on success.
// Every blocking call is bounded by NETTOOL_TIMEOUT seconds (default 30).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { kBuf = 64 * 1024 };
static char g_buf[kBuf];

static void die(const char* what) {
  fprintf(stderr, "nettool: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_timeouts(int fd) {
  const char* e = getenv("NETTOOL_TIMEOUT");
  struct timeval tv = {.tv_sec = e ? atoi(e) : 30, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int write_all(int fd, const void* p, size_t n) {
  const char* c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void* p, size_t n) {
  char* c = p;
  while (n > 0) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

static int connect_to(const char* host, const char* port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "nettool: %s is not an IPv4 address\n", host);
    exit(2);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  set_timeouts(fd);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int must_connect(const char* host, const char* port, char op) {
  int fd = connect_to(host, port);
  if (fd < 0) die("connect");
  if (write_all(fd, &op, 1) != 0) die("write op");
  return fd;
}

// One connection of the server. Returns 1 when the server should stop.
static int serve_one(int c) {
  char op;
  if (read_all(c, &op, 1) != 0) return 0;
  switch (op) {
    case 'S': {  // sink until EOF, then report the count
      uint64_t total = 0;
      ssize_t r;
      while ((r = read(c, g_buf, kBuf)) > 0) total += (uint64_t)r;
      write_all(c, &total, sizeof total);
      return 0;
    }
    case 'G':  // source until the client goes away
      while (write_all(c, g_buf, kBuf) == 0) {
      }
      return 0;
    case 'R': {  // echo 1-byte requests
      char b;
      while (read_all(c, &b, 1) == 0)
        if (write_all(c, &b, 1) != 0) break;
      return 0;
    }
    case 'Q':
      return 1;
    default:
      fprintf(stderr, "nettool: unknown op 0x%02x\n", (unsigned char)op);
      return 0;
  }
}

static int cmd_serve(const char* port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
  if (listen(s, 8) != 0) die("listen");
  printf("nettool serve listening port=%s\n", port);
  fflush(stdout);
  for (;;) {
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      die("accept");
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeouts(c);
    int stop = serve_one(c);
    close(c);
    if (stop) break;
  }
  printf("nettool serve done\n");
  return 0;
}

static int cmd_send(const char* host, const char* port, double secs) {
  int fd = must_connect(host, port, 'S');
  double t0 = now_s(), t;
  uint64_t sent = 0;
  while ((t = now_s()) - t0 < secs) {
    if (write_all(fd, g_buf, kBuf) != 0) die("send");
    sent += kBuf;
  }
  shutdown(fd, SHUT_WR);
  uint64_t got = 0;
  if (read_all(fd, &got, sizeof got) != 0) die("read the server's count");
  double el = now_s() - t0;  // until the server has seen everything
  printf("nettool send bytes=%llu sent=%llu secs=%.3f mbit=%.1f\n", (unsigned long long)got,
         (unsigned long long)sent, el, got * 8 / el / 1e6);
  return got == sent ? 0 : 1;
}

static int cmd_recv(const char* host, const char* port, double secs) {
  int fd = must_connect(host, port, 'G');
  double t0 = now_s(), t;
  uint64_t got = 0;
  while ((t = now_s()) - t0 < secs) {
    ssize_t r = read(fd, g_buf, kBuf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("recv");
    got += (uint64_t)r;
  }
  double el = now_s() - t0;
  close(fd);
  printf("nettool recv bytes=%llu secs=%.3f mbit=%.1f\n", (unsigned long long)got, el,
         got * 8 / el / 1e6);
  return got > 0 ? 0 : 1;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int cmd_rr(const char* host, const char* port, int n) {
  if (n <= 0) return 2;
  int fd = must_connect(host, port, 'R');
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  double* us = calloc((size_t)n, sizeof *us);
  if (!us) die("calloc");
  double sum = 0;
  for (int i = 0; i < n; i++) {
    char b = (char)i, e;
    double t0 = now_s();
    if (write_all(fd, &b, 1) != 0 || read_all(fd, &e, 1) != 0) die("round trip");
    if (e != b) {
      fprintf(stderr, "nettool: round trip %d echoed %d\n", i, e);
      return 1;
    }
    us[i] = (now_s() - t0) * 1e6;
    sum += us[i];
  }
  close(fd);
  qsort(us, (size_t)n, sizeof *us, cmp_double);
  printf("nettool rr n=%d mean_us=%.1f p50_us=%.1f p99_us=%.1f tps=%.0f\n", n, sum / n, us[n / 2],
         us[(n * 99) / 100], n / (sum / 1e6));
  return 0;
}

static int cmd_wait(const char* host, const char* port, int secs) {
  double t0 = now_s();
  while (now_s() - t0 < secs) {
    int fd = connect_to(host, port);
    if (fd >= 0) {  // an empty connection: the server reads EOF and goes on
      close(fd);
      return 0;
    }
    usleep(200 * 1000);
  }
  fprintf(stderr, "nettool: %s:%s did not answer within %d s\n", host, port, secs);
  return 1;
}

static int cmd_tapexec(const char* tap, int fd, char** argv) {
  int t = open("/dev/net/tun", O_RDWR);
  if (t < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", tap);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(t, TUNSETIFF, &ifr) != 0) die("TUNSETIFF");
  int hdr = 12;
  if (ioctl(t, TUNSETVNETHDRSZ, &hdr) != 0) die("TUNSETVNETHDRSZ");
  if (t != fd) {
    if (dup2(t, fd) < 0) die("dup2");
    close(t);
  }
  execvp(argv[0], argv);
  die(argv[0]);
  return 1;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  memset(g_buf, 'n', sizeof g_buf);
  const char* m = argc > 1 ? argv[1] : "";
  if (!strcmp(m, "serve") && argc == 3) return cmd_serve(argv[2]);
  if (!strcmp(m, "send") && argc == 5) return cmd_send(argv[2], argv[3], atof(argv[4]));
  if (!strcmp(m, "recv") && argc == 5) return cmd_recv(argv[2], argv[3], atof(argv[4]));
  if (!strcmp(m, "rr") && argc == 5) return cmd_rr(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(m, "wait") && argc == 5) return cmd_wait(argv[2], argv[3], atoi(argv[4]));
  if (!strcmp(m, "quit") && argc == 4) {
    int fd = must_connect(argv[2], argv[3], 'Q');
    close(fd);
    return 0;
  }
  if (!strcmp(m, "tapexec") && argc >= 5) return cmd_tapexec(argv[2], atoi(argv[3]), argv + 4);
  fprintf(stderr,
          "usage: nettool serve PORT | send|recv HOST PORT SECS | rr HOST PORT N | quit HOST PORT"
          " | wait HOST PORT SECS | tapexec TAP FD CMD [ARG...]\n");
  return 2;
}
