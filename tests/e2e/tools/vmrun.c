// vmrun: runs one VMM process inside the test host, the way every e2e scenario and the boot
// benchmark need it:
//   - the child's stdout (the guest serial console) is copied to a log file as it arrives,
//   - the time from spawn to the first output byte, to the first line containing MARKER and to
//     process exit is measured with CLOCK_MONOTONIC,
//   - a timeout sends SIGUSR1 (runvm-vmm dumps its device state), prints every thread's
//     wait channel, then SIGTERM 1 s later and SIGKILL 5 s after that (status=timeout),
//   - the child's peak RSS comes from wait4()'s rusage,
//   - with -s, every output line is also written to STAMPS as "<ms since spawn> <line>"
//     (bench/start-bench.sh places a guest's steps with it).
// It prints exactly one summary line on stdout:
//   VMRUN status=exit:N|signal:N|timeout:<exit:N|signal:N> first_byte_ms=X marker_ms=Y exit_ms=Z
//   maxrss_kb=K
// (-1 for a value that was never reached) and exits 0 whenever the child could be run.
//
// usage: vmrun [-t TIMEOUT_S] [-m MARKER] [-o CONSOLE_LOG] [-s STAMPS] -- CMD ARGS...
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(void) {
  fprintf(stderr,
          "usage: vmrun [-t TIMEOUT_S] [-m MARKER] [-o CONSOLE_LOG] [-s STAMPS] -- CMD ARGS...\n");
  exit(2);
}

// First line of a small /proc file, without the newline; 0 when unreadable.
static int read_line(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  buf[strcspn(buf, "\n")] = 0;
  return 1;
}

static volatile sig_atomic_t g_term;
static void on_term(int sig) {
  g_term = sig;
}

// stderr: "thread TID COMM STATE WCHAN SYSCALL" for every thread of `pid`.
static void dump_threads(pid_t pid) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR* d = opendir(path);
  if (!d) return;
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char f[400], comm[64] = "?", wchan[64] = "?", sys[64] = "?", stat[512] = "";
    char state = '?';
    snprintf(f, sizeof f, "%s/%s/comm", path, e->d_name);
    read_line(f, comm, sizeof comm);
    snprintf(f, sizeof f, "%s/%s/wchan", path, e->d_name);
    read_line(f, wchan, sizeof wchan);
    snprintf(f, sizeof f, "%s/%s/syscall", path, e->d_name);
    read_line(f, sys, sizeof sys);
    snprintf(f, sizeof f, "%s/%s/stat", path, e->d_name);
    if (read_line(f, stat, sizeof stat)) {
      const char* rp = strrchr(stat, ')');  // comm may hold spaces
      if (rp && rp[1] == ' ') state = rp[2];
    }
    // The syscall line's first field (number) and first argument are enough.
    char* cut = strchr(sys, ' ');
    if (cut && (cut = strchr(cut + 1, ' '))) *cut = 0;
    fprintf(stderr, "vmrun: thread %s %s %c wchan=%s syscall=%s\n", e->d_name, comm, state, wchan,
            sys);
  }
  closedir(d);
}

int main(int argc, char** argv) {
  double timeout_s = 120;
  const char* marker = NULL;
  const char* out_path = NULL;
  const char* stamps_path = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "+t:m:o:s:")) != -1) {
    switch (opt) {
      case 't':
        timeout_s = atof(optarg);
        break;
      case 'm':
        marker = optarg;
        break;
      case 'o':
        out_path = optarg;
        break;
      case 's':
        stamps_path = optarg;
        break;
      default:
        usage();
    }
  }
  if (optind >= argc) usage();
  int out = 1;
  if (out_path) {
    out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (out < 0) {
      fprintf(stderr, "vmrun: open %s: %s\n", out_path, strerror(errno));
      return 2;
    }
  }
  FILE* stamps = NULL;
  if (stamps_path && !(stamps = fopen(stamps_path, "w"))) {
    fprintf(stderr, "vmrun: open %s: %s\n", stamps_path, strerror(errno));
    return 2;
  }
  // A SIGTERM to vmrun (an outer timeout) is passed on to the VMM.
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  signal(SIGPIPE, SIG_IGN);

  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return 2;
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    dup2(p[1], 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execvp(argv[optind], argv + optind);
    fprintf(stderr, "vmrun: exec %s: %s\n", argv[optind], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);

  double first_byte = -1, marker_at = -1, exit_at = -1;
  char line[4096], sline[4096];
  size_t line_len = 0, sline_len = 0;
  int pipe_open = 1, timed_out = 0, status = 0, reaped = 0;
  double kill_at = -1, term_at = -1;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (!reaped || pipe_open) {
    if (!reaped) {
      pid_t r = wait4(pid, &status, WNOHANG, &ru);
      if (r == pid) {
        reaped = 1;
        exit_at = now_ms() - t0;
      }
    }
    double t = now_ms() - t0;
    if (!reaped && !timed_out && (t > timeout_s * 1e3 || g_term)) {
      timed_out = !g_term;
      if (timed_out) {
        // A stuck VM: ask runvm-vmm for its device state (SIGUSR1) and record where
        // each of its threads waits, before stopping it a second later.
        kill(pid, SIGUSR1);
        dump_threads(pid);
        term_at = t + 1000;
      } else {
        term_at = t;
      }
      if (g_term) g_term = 0, timed_out = 2;
    }
    if (!reaped && term_at > 0 && t >= term_at) {
      kill(pid, SIGTERM);
      term_at = -1;
      kill_at = t + 5000;
    }
    if (!reaped && kill_at > 0 && t > kill_at) {
      kill(pid, SIGKILL);
      kill_at = -1;
    }
    // A grandchild that keeps the pipe open must not keep vmrun waiting.
    if (reaped && t - exit_at > 2000) break;
    if (!pipe_open) {
      usleep(10000);
      continue;
    }
    struct pollfd pf = {p[0], POLLIN, 0};
    int n = poll(&pf, 1, 20);
    if (n <= 0) continue;
    char buf[65536];
    ssize_t got = read(p[0], buf, sizeof buf);
    if (got == 0) {
      pipe_open = 0;
      continue;
    }
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      pipe_open = 0;
      continue;
    }
    double ts = now_ms() - t0;
    if (first_byte < 0) first_byte = ts;
    for (ssize_t off = 0; off < got;) {
      ssize_t w = write(out, buf + off, (size_t)(got - off));
      if (w <= 0) break;
      off += w;
    }
    // Stamped lines: the time a line's last byte arrived.
    for (ssize_t i = 0; stamps && i < got; i++) {
      char c = buf[i];
      if (c == '\n' || sline_len + 1 >= sizeof sline) {
        sline[sline_len] = 0;
        fprintf(stamps, "%.1f %s\n", ts, sline);
        sline_len = 0;
      } else if (c != '\r') {
        sline[sline_len++] = c;
      }
    }
    if (marker && marker_at < 0) {
      for (ssize_t i = 0; i < got; i++) {
        char c = buf[i];
        if (c == '\n' || line_len + 1 >= sizeof line) {
          line[line_len] = 0;
          if (strstr(line, marker)) {
            marker_at = ts;
            break;
          }
          line_len = 0;
        } else {
          line[line_len++] = c;
        }
      }
      // A marker on a line that is still being written counts too.
      if (marker_at < 0) {
        line[line_len] = 0;
        if (strstr(line, marker)) marker_at = ts;
      }
    }
  }
  if (stamps) {
    if (sline_len > 0) fprintf(stamps, "%.1f %.*s\n", exit_at, (int)sline_len, sline);
    fclose(stamps);
  }
  char how[32], st[64];
  if (!reaped)
    snprintf(how, sizeof how, "running");
  else if (WIFEXITED(status))
    snprintf(how, sizeof how, "exit:%d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(how, sizeof how, "signal:%d", WTERMSIG(status));
  else
    snprintf(how, sizeof how, "unknown");
  // After a timeout, how the VMM reacted to SIGTERM (and maybe SIGKILL) follows the colon.
  snprintf(st, sizeof st, "%s%s",
           timed_out == 1   ? "timeout:"
           : timed_out == 2 ? "interrupted:"
                            : "",
           how);
  printf("VMRUN status=%s first_byte_ms=%.0f marker_ms=%.0f exit_ms=%.0f maxrss_kb=%ld\n", st,
         first_byte, marker_at, exit_at, ru.ru_maxrss);
  return 0;
}
