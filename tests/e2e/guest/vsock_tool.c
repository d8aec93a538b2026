// vsock_tool: the small static helper the end-to-end scenarios run on both sides of a VM.
//
// Guest side (AF_VSOCK):
//   vsock_tool listen-echo PORT [COUNT]     accept COUNT connections (default 1), echo each to EOF
//   vsock_tool connect CID PORT NBYTES       send NBYTES of a pattern, read them back, verify
//   vsock_tool connect-refused CID PORT      expect the connection to be refused/reset
//   vsock_tool pci-garbage SEED ROUNDS       write random bytes into virtio PCI BARs and config
// Host side (Firecracker-style hybrid vsock over a unix socket):
//   vsock_tool uds-connect UDS PORT NBYTES   "CONNECT PORT\n", expect "OK ...", then as `connect`
//   vsock_tool uds-refused UDS PORT          "CONNECT PORT\n" must not be answered with OK
//   vsock_tool uds-listen-echo PATH [COUNT]  listen on the unix socket PATH and echo
//
// Every mode prints one line "vsock_tool: <mode> ok|FAIL <detail>" and exits 0 only on success.
// Exchanges are bounded by a timeout (env VSOCK_TOOL_TIMEOUT seconds, default 60).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char* g_mode = "?";

static void result(int ok, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  printf("vsock_tool: %s %s %s\n", g_mode, ok ? "ok" : "FAIL", buf);
  fflush(stdout);
  exit(ok ? 0 : 1);
}

static int timeout_s(void) {
  const char* t = getenv("VSOCK_TOOL_TIMEOUT");
  return t ? atoi(t) : 60;
}

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "vsock_tool: FAIL timeout\n";
  if (write(1, msg, sizeof msg - 1) < 0) {
  }
  _exit(3);
}

// Deterministic byte stream: xorshift64 keyed by position so both sides can verify.
static uint8_t pattern_byte(uint64_t i) {
  uint64_t x = i * 0x9E3779B97F4A7C15ull + 0x1234567ull;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (uint8_t)x;
}

static int vsock_socket_connect(unsigned cid, unsigned port, int* err) {
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  // The kernel's default connect timeout is 2 s, too short for nested guests under TCG.
  struct timeval tv = {timeout_s(), 0};
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW, &tv, sizeof tv);
  struct sockaddr_vm a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    *err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

static int unix_connect(const char* path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// Reads one line (up to '\n', not included) byte by byte so no payload is consumed.
static int read_line(int fd, char* buf, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (c == '\n') {
      buf[n] = 0;
      return (int)n;
    }
    buf[n++] = c;
  }
  buf[n] = 0;
  return n ? (int)n : -1;
}

// Sends nbytes of the pattern while reading the echo back; verifies every byte.
static void exchange(int fd, uint64_t nbytes) {
  uint8_t out[16384], in[16384];
  uint64_t sent = 0, got = 0;
  int wr_done = nbytes == 0;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  while (got < nbytes) {
    struct pollfd p = {fd, POLLIN | (wr_done ? 0 : POLLOUT), 0};
    int r = poll(&p, 1, 1000);
    if (r < 0 && errno != EINTR) result(0, "poll: %s", strerror(errno));
    if (r <= 0) continue;
    if (p.revents & POLLIN) {
      ssize_t n = read(fd, in, sizeof in);
      if (n == 0)
        result(0, "EOF after %llu of %llu echoed bytes", (unsigned long long)got,
               (unsigned long long)nbytes);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        result(0, "read after %llu bytes: %s", (unsigned long long)got, strerror(errno));
      for (ssize_t i = 0; i < n; i++) {
        if (got + i >= nbytes) result(0, "more bytes echoed than sent");
        if (in[i] != pattern_byte(got + i))
          result(0, "mismatch at byte %llu: got 0x%02x want 0x%02x", (unsigned long long)(got + i),
                 in[i], pattern_byte(got + i));
      }
      if (n > 0) got += (uint64_t)n;
    } else if (p.revents & (POLLERR | POLLHUP)) {
      result(0, "socket error/hangup after %llu echoed bytes", (unsigned long long)got);
    }
    if (!wr_done && (p.revents & POLLOUT)) {
      size_t chunk = sizeof out;
      if (nbytes - sent < chunk) chunk = (size_t)(nbytes - sent);
      for (size_t i = 0; i < chunk; i++) out[i] = pattern_byte(sent + i);
      ssize_t n = write(fd, out, chunk);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        result(0, "write after %llu bytes: %s", (unsigned long long)sent, strerror(errno));
      if (n > 0) sent += (uint64_t)n;
      if (sent == nbytes) wr_done = 1;
    }
  }
  result(1, "%llu bytes echoed byte-exact", (unsigned long long)nbytes);
}

static uint64_t echo_conn(int c) {
  char buf[16384];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return total;
      }
      off += w;
    }
    total += (uint64_t)n;
  }
  return total;
}

static void serve_echo(int ls, int count) {
  uint64_t total = 0;
  for (int i = 0; i < count; i++) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) result(0, "accept: %s", strerror(errno));
    total += echo_conn(c);
    close(c);
  }
  result(1, "%d connection(s), %llu bytes echoed", count, (unsigned long long)total);
}

static void mode_listen_echo(unsigned port, int count) {
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (s < 0) result(0, "socket(AF_VSOCK): %s", strerror(errno));
  struct sockaddr_vm a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = VMADDR_CID_ANY;
  a.svm_port = port;
  if (bind(s, (struct sockaddr*)&a, sizeof a) < 0) result(0, "bind: %s", strerror(errno));
  if (listen(s, 8) < 0) result(0, "listen: %s", strerror(errno));
  printf("vsock_tool: listening on vsock port %u\n", port);
  fflush(stdout);
  serve_echo(s, count);
}

static void mode_uds_listen_echo(const char* path, int count) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) result(0, "socket(AF_UNIX): %s", strerror(errno));
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  unlink(path);
  if (bind(s, (struct sockaddr*)&a, sizeof a) < 0) result(0, "bind %s: %s", path, strerror(errno));
  if (listen(s, 8) < 0) result(0, "listen: %s", strerror(errno));
  printf("vsock_tool: listening on %s\n", path);
  fflush(stdout);
  serve_echo(s, count);
}

// Opens the hybrid vsock socket and asks for a guest port; returns the fd after the reply line.
static int uds_handshake(const char* uds, unsigned port, char* reply, size_t cap) {
  int fd = unix_connect(uds);
  if (fd < 0) result(0, "connect %s: %s", uds, strerror(errno));
  char req[64];
  int n = snprintf(req, sizeof req, "CONNECT %u\n", port);
  if (write(fd, req, (size_t)n) != n) result(0, "write CONNECT: %s", strerror(errno));
  if (read_line(fd, reply, cap) < 0) reply[0] = 0;
  return fd;
}

static void mode_uds_connect(const char* uds, unsigned port, uint64_t nbytes) {
  char reply[128];
  int fd = uds_handshake(uds, port, reply, sizeof reply);
  if (strncmp(reply, "OK ", 3) != 0) result(0, "CONNECT %u answered '%s'", port, reply);
  exchange(fd, nbytes);
}

static void mode_uds_refused(const char* uds, unsigned port) {
  char reply[128];
  int fd = uds_handshake(uds, port, reply, sizeof reply);
  if (strncmp(reply, "OK", 2) == 0)
    result(0, "CONNECT to unused port %u answered '%s'", port, reply);
  // After a refusal the host end must be closed: a read sees EOF (or a reset), not data.
  char c;
  ssize_t r = read(fd, &c, 1);
  if (r > 0) result(0, "data after refusal");
  result(1, "CONNECT %u refused (reply '%s', then %s)", port, reply,
         r == 0 ? "EOF" : strerror(errno));
}

static void mode_connect(unsigned cid, unsigned port, uint64_t nbytes) {
  int err = 0;
  int fd = vsock_socket_connect(cid, port, &err);
  if (fd < 0) result(0, "connect cid %u port %u: %s", cid, port, strerror(err));
  exchange(fd, nbytes);
}

static void mode_connect_refused(unsigned cid, unsigned port) {
  int err = 0;
  int fd = vsock_socket_connect(cid, port, &err);
  if (fd >= 0) result(0, "connect cid %u port %u succeeded", cid, port);
  if (err != ECONNRESET && err != ECONNREFUSED)
    result(0, "connect failed with unexpected error: %s", strerror(err));
  result(1, "connect cid %u port %u refused: %s", cid, port, strerror(err));
}

// --- pci-garbage ----------------------------------------------------------------------------

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static int read_hex_file(const char* path, unsigned* v) {
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  int ok = fscanf(f, "%x", v) == 1;
  fclose(f);
  return ok ? 0 : -1;
}

// Writes random values at random offsets into every memory BAR and into config space
// (except the first 4 bytes: vendor/device are read-only anyway) of each virtio PCI function
// (not pvpanic: a write there is a legitimate panic report). The guest may well break its own
// drivers; the VMM must survive.
static void mode_pci_garbage(uint64_t seed, int rounds) {
  rng_state = seed ? seed : 1;
  const char* base = "/sys/bus/pci/devices";
  char path[512];
  int devices = 0, bars = 0;
  long writes = 0;
  for (int bus = 0; bus < 1; bus++) {
    for (int slot = 0; slot < 32; slot++) {
      for (int fn = 0; fn < 8; fn++) {
        char dev[64];
        snprintf(dev, sizeof dev, "0000:%02x:%02x.%d", bus, slot, fn);
        unsigned vendor = 0;
        snprintf(path, sizeof path, "%s/%s/vendor", base, dev);
        if (read_hex_file(path, &vendor) < 0) continue;
        if (vendor != 0x1af4) continue;
        devices++;
        printf("vsock_tool: pci-garbage %s\n", dev);
        for (int bar = 0; bar < 6; bar++) {
          snprintf(path, sizeof path, "%s/%s/resource%d", base, dev, bar);
          int fd = open(path, O_RDWR | O_SYNC);
          if (fd < 0) continue;
          struct stat st;
          if (fstat(fd, &st) < 0 || st.st_size <= 0) {
            close(fd);
            continue;
          }
          volatile uint8_t* m =
              mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          if (m == MAP_FAILED) {
            printf("vsock_tool: mmap %s: %s\n", path, strerror(errno));
            close(fd);
            continue;
          }
          bars++;
          for (int i = 0; i < rounds; i++) {
            uint64_t r = rnd();
            size_t off = (size_t)(r % (uint64_t)st.st_size);
            switch ((r >> 40) % 4) {
              case 0:
                m[off] = (uint8_t)rnd();
                break;
              case 1:
                if (off + 2 <= (size_t)st.st_size) *(volatile uint16_t*)(m + (off & ~1ul)) = rnd();
                break;
              case 2:
                if (off + 4 <= (size_t)st.st_size) *(volatile uint32_t*)(m + (off & ~3ul)) = rnd();
                break;
              default:
                (void)m[off];  // reads too: a read of an odd register must not kill the VMM
                break;
            }
            writes++;
          }
          munmap((void*)m, (size_t)st.st_size);
          close(fd);
        }
        snprintf(path, sizeof path, "%s/%s/config", base, dev);
        int fd = open(path, O_RDWR);
        if (fd >= 0) {
          for (int i = 0; i < rounds / 4; i++) {
            uint8_t b = (uint8_t)rnd();
            off_t off = 4 + (off_t)(rnd() % 252);
            if (pwrite(fd, &b, 1, off) == 1) writes++;
          }
          close(fd);
        }
      }
    }
  }
  if (devices == 0) result(0, "no virtio PCI function found");
  if (bars == 0) result(0, "no BAR of %d virtio function(s) could be mapped", devices);
  result(1, "%d PCI function(s), %d BAR(s), %ld random accesses", devices, bars, writes);
}

static unsigned long long num(const char* s) {
  return strtoull(s, NULL, 0);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_alarm);
  if (argc < 2) {
    fprintf(stderr, "usage: see the comment at the top of vsock_tool.c\n");
    return 2;
  }
  g_mode = argv[1];
  alarm((unsigned)timeout_s());
  const char* m = argv[1];
  if (!strcmp(m, "listen-echo") && argc >= 3)
    mode_listen_echo((unsigned)num(argv[2]), argc > 3 ? atoi(argv[3]) : 1);
  else if (!strcmp(m, "connect") && argc == 5)
    mode_connect((unsigned)num(argv[2]), (unsigned)num(argv[3]), num(argv[4]));
  else if (!strcmp(m, "connect-refused") && argc == 4)
    mode_connect_refused((unsigned)num(argv[2]), (unsigned)num(argv[3]));
  else if (!strcmp(m, "uds-connect") && argc == 5)
    mode_uds_connect(argv[2], (unsigned)num(argv[3]), num(argv[4]));
  else if (!strcmp(m, "uds-refused") && argc == 4)
    mode_uds_refused(argv[2], (unsigned)num(argv[3]));
  else if (!strcmp(m, "uds-listen-echo") && argc >= 3)
    mode_uds_listen_echo(argv[2], argc > 3 ? atoi(argv[3]) : 1);
  else if (!strcmp(m, "pci-garbage") && argc == 4)
    mode_pci_garbage(num(argv[2]), atoi(argv[3]));
  fprintf(stderr, "vsock_tool: bad arguments for mode %s\n", m);
  return 2;
}
