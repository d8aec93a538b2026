#include "agent/spawn.h"

#include "agent/pty.h"
#include "base/unique_fd.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace runvm::agent {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

Status set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return Error::from_errno("fcntl O_NONBLOCK");
  return {};
}

// Child side: report an error to the agent and exit. Only async-signal-safe
// calls after the message is built.
[[noreturn]] void child_fail(int status_fd, const Error& e) {
  std::string msg = "E" + std::to_string(e.err) + ":" + e.message;
  (void)!::write(status_fd, msg.data(), msg.size());
  _exit(127);
}

Status child_stdio(const ProcessSpec& p, const SpawnOptions& o, int tty, int in_r, int out_w,
                   int err_w) {
  if (p.terminal) {
    if (ioctl(tty, TIOCSCTTY, 0) < 0) return Error::from_errno("TIOCSCTTY");
    for (int fd = 0; fd < 3; ++fd)
      if (dup2(tty, fd) < 0) return Error::from_errno("dup2 pty");
    if (tty > 2) ::close(tty);
    return {};
  }
  int in = in_r;
  if (!o.stdin_pipe) {
    in = ::open("/dev/null", O_RDONLY);
    if (in < 0) return Error::from_errno("open /dev/null");
  }
  // dup2 clears O_CLOEXEC on the new fd, which is what we want for 0..2.
  if (dup2(in, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
    return Error::from_errno("dup2 stdio");
  return {};
}

[[noreturn]] void child_main(const ProcessSpec& p, Launcher& launcher, const SpawnOptions& o,
                             int tty, int in_r, int out_w, int err_w, int hold_r, int status_w) {
  // The agent blocks SIGCHLD and ignores SIGPIPE; a container process starts clean
  // (ignored dispositions survive execve).
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  if (setsid() < 0) child_fail(status_w, Error::from_errno("setsid"));
  if (auto s = child_stdio(p, o, tty, in_r, out_w, err_w); !s) child_fail(status_w, s.error());
  // Nothing of the agent's may leak into the container.
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  if (auto s = launcher.setup_child(p, o.init_pid); !s) child_fail(status_w, s.error());
  if (::write(status_w, "R", 1) != 1) _exit(127);
  if (o.hold) {
    char c;
    ssize_t n;
    do n = ::read(hold_r, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);  // the agent dropped the container before Start
  }
  auto exe = find_executable(p.args[0], p.env);
  if (!exe) child_fail(status_w, exe.error());
  if (auto s = launcher.finish_child(p); !s) child_fail(status_w, s.error());
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(exe->c_str(), argv.data(), envp.data());
  child_fail(status_w, Error::from_errno("exec " + *exe));
}

// What the status pipe is expected to deliver next.
enum class Expect {
  kReady,           // "R" (the child finished setup and waits on the hold)
  kExec,            // "R" then EOF at execve
  kExecAfterReady,  // EOF at execve ("R" was read already)
};

// Reads the status pipe as `expect` says. Returns the child's error if it sent one.
Status read_status(int fd, Expect expect) {
  const bool stop_at_ready = expect == Expect::kReady;
  std::string got;
  char buf[4096];
  for (;;) {
    if (stop_at_ready && got == "R") return {};
    ssize_t n = ::read(fd, buf, stop_at_ready && got.empty() ? 1 : sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("read child status");
    }
    if (n == 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.size() > 65536) break;
  }
  size_t e = got.find('E');
  if (e != std::string::npos) {
    std::string rest = got.substr(e + 1);
    size_t colon = rest.find(':');
    int err = colon == std::string::npos ? 0 : std::atoi(rest.substr(0, colon).c_str());
    return Error(colon == std::string::npos ? rest : rest.substr(colon + 1), err);
  }
  if (stop_at_ready) return Error("process setup ended without a result");
  if (expect == Expect::kExec && got != "R") return Error("process died during setup");
  if (expect == Expect::kExecAfterReady && !got.empty())
    return Error("unexpected status from process");
  return {};
}

// fork(), into the pid namespace `ns` names. The agent switches its namespace for
// children around the fork and back, so only this child lands there.
Result<pid_t> fork_into(const PidNamespace& ns) {
  if (!ns.create && ns.join_pid <= 0) {
    pid_t pid = fork();
    if (pid < 0) return Error::from_errno("fork");
    return pid;
  }
  UniqueFd own(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (!own.valid()) return Error::from_errno("open /proc/self/ns/pid");
  if (ns.create) {
    if (::unshare(CLONE_NEWPID) < 0) return Error::from_errno("new pid namespace");
  } else {
    const std::string path = "/proc/" + std::to_string(ns.join_pid) + "/ns/pid";
    UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target.valid()) return Error::from_errno("open " + path);
    if (::setns(target.get(), CLONE_NEWPID) < 0) return Error::from_errno("join " + path);
  }
  pid_t pid = fork();
  if (pid == 0) return pid;
  const int fork_errno = errno;
  if (::setns(own.get(), CLONE_NEWPID) < 0) {
    // Every later child would land in the container's namespace: not survivable.
    Error e = Error::from_errno("return to the agent's pid namespace");
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    return e;
  }
  if (pid < 0) return Error::from_errno("fork into a pid namespace", fork_errno);
  return pid;
}

}  // namespace

Result<std::string> find_executable(const std::string& name, const std::vector<std::string>& env) {
  if (name.empty()) return Error("exec: empty program name", ENOENT);
  if (name.find('/') != std::string::npos) return name;
  std::string path = kDefaultPath;
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  int last_err = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string cand = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(cand.c_str(), X_OK) == 0) return cand;
      last_err = EACCES;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return Error::from_errno("exec " + name + ": not found in PATH", last_err);
}

Result<Spawned> spawn_process(const ProcessSpec& p, Launcher& launcher, const SpawnOptions& o) {
  Spawned s;
  int in_p[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, hold_p[2] = {-1, -1},
      st_p[2] = {-1, -1};
  int tty = -1;  // the pty's slave side, for the child
  auto cleanup = [&] {
    for (int* fds : {in_p, out_p, err_p, hold_p, st_p}) {
      close_fd(fds[0]);
      close_fd(fds[1]);
    }
    close_fd(tty);
  };
  auto fail = [&](Error e) {
    cleanup();
    close_spawned(s);
    return e;
  };
  if (pipe2(st_p, O_CLOEXEC) < 0) return fail(Error::from_errno("pipe"));
  if (o.hold && pipe2(hold_p, O_CLOEXEC) < 0) return fail(Error::from_errno("pipe"));
  if (p.terminal) {
    auto master = open_pty_master(launcher.ptmx_location(o.init_pid));
    if (!master) return fail(master.error());
    s.pty_fd = *master;
    auto peer = open_pty_peer(s.pty_fd);
    if (!peer) return fail(peer.error());
    tty = *peer;
    if (p.rows || p.cols) {
      struct winsize ws {};
      ws.ws_row = p.rows;
      ws.ws_col = p.cols;
      if (ioctl(s.pty_fd, TIOCSWINSZ, &ws) < 0) return fail(Error::from_errno("TIOCSWINSZ"));
    }
  } else {
    if ((o.stdin_pipe && pipe2(in_p, O_CLOEXEC) < 0) || pipe2(out_p, O_CLOEXEC) < 0 ||
        pipe2(err_p, O_CLOEXEC) < 0)
      return fail(Error::from_errno("pipe"));
  }
  auto forked = fork_into(launcher.pid_namespace(o.init_pid));
  if (!forked) return fail(forked.error());
  const pid_t pid = *forked;
  if (pid == 0) child_main(p, launcher, o, tty, in_p[0], out_p[1], err_p[1], hold_p[0], st_p[1]);
  s.pid = pid;
  close_fd(tty);
  close_fd(in_p[0]);
  close_fd(out_p[1]);
  close_fd(err_p[1]);
  close_fd(hold_p[0]);
  close_fd(st_p[1]);
  // From here on a failure must not leave the child behind.
  auto fail_child = [&](Error e) {
    ::kill(pid, SIGKILL);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    s.pid = -1;
    return fail(std::move(e));
  };
  Status st = read_status(st_p[0], o.hold ? Expect::kReady : Expect::kExec);
  if (!st) return fail_child(st.error());
  if (p.terminal) {
    s.out_fd = fcntl(s.pty_fd, F_DUPFD_CLOEXEC, 0);
    s.in_fd = fcntl(s.pty_fd, F_DUPFD_CLOEXEC, 0);
    if (s.out_fd < 0 || s.in_fd < 0) return fail_child(Error::from_errno("dup pty master"));
    // out_fd and in_fd share the open file description: O_NONBLOCK covers both.
    if (auto r = set_nonblock(s.out_fd); !r) return fail_child(r.error());
  } else {
    std::swap(s.in_fd, in_p[1]);
    std::swap(s.out_fd, out_p[0]);
    std::swap(s.err_fd, err_p[0]);
    for (int fd : {s.in_fd, s.out_fd, s.err_fd})
      if (fd >= 0)
        if (auto r = set_nonblock(fd); !r) return fail_child(r.error());
  }
  if (o.hold) {
    std::swap(s.hold_fd, hold_p[1]);
    std::swap(s.status_fd, st_p[0]);
  }
  cleanup();  // only the fds not moved into s remain
  return s;
}

Status release_hold(Spawned& s) {
  if (s.hold_fd < 0) return Error("process is not held");
  ssize_t n;
  do n = ::write(s.hold_fd, "S", 1);
  while (n < 0 && errno == EINTR);
  Status r = n == 1 ? Status() : Status(Error::from_errno("release held process"));
  close_fd(s.hold_fd);
  if (r) r = read_status(s.status_fd, Expect::kExecAfterReady);
  close_fd(s.status_fd);
  return r;
}

void close_spawned(Spawned& s) {
  for (int* fd : {&s.in_fd, &s.out_fd, &s.err_fd, &s.pty_fd, &s.hold_fd, &s.status_fd})
    close_fd(*fd);
}

Status HostLauncher::setup_child(const ProcessSpec& p, int) {
  if (p.umask) ::umask(*p.umask);
  if (p.gid != getgid() || !p.additional_gids.empty()) {
    std::vector<gid_t> g(p.additional_gids.begin(), p.additional_gids.end());
    if (setgroups(g.size(), g.data()) < 0) return Error::from_errno("setgroups");
  }
  if (p.gid != getgid() && setresgid(p.gid, p.gid, p.gid) < 0)
    return Error::from_errno("setgid " + std::to_string(p.gid));
  if (p.uid != getuid() && setresuid(p.uid, p.uid, p.uid) < 0)
    return Error::from_errno("setuid " + std::to_string(p.uid));
  if (::chdir(p.cwd.c_str()) < 0) return Error::from_errno("chdir " + p.cwd);
  return {};
}

}  // namespace runvm::agent
