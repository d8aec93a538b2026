#include "guest-init/user_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace runvm::guest {

namespace {

// The helper's parent (init) by its pid in our /proc's namespace, which the
// helper's own getppid() (in the container's pid namespace) is not.
int parent_pid_in_proc() {
  int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char* p = std::strstr(buf, "\nPPid:");
  return p ? std::atoi(p + 6) : -1;
}

// Only system calls: the helper is a forked child of a possibly multi-threaded agent.
int write_map(int pid, const char* file, const std::string& text) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, text.data(), text.size());
  int e = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return e;
}

}  // namespace

// "0 1000 2000, 5000 6000 1" for messages.
static std::string describe(const std::vector<oci::IdMapping>& maps) {
  std::string out = format_id_map(maps);
  for (size_t i; (i = out.find('\n')) != std::string::npos;)
    out.replace(i, 1, i + 1 == out.size() ? "" : ", ");
  return out;
}

std::string format_id_map(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " +
           std::to_string(m.size) + "\n";
  return out;
}

UserNamespaceEntry::~UserNamespaceEntry() {
  if (go_fd_ >= 0) ::close(go_fd_);  // a waiting helper sees EOF and exits
  if (helper_ > 0) ::waitpid(helper_, nullptr, 0);
}

Status UserNamespaceEntry::prepare() {
  const std::string uid_map = format_id_map(uids_), gid_map = format_id_map(gids_);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::from_errno("user namespace: pipe");
  pid_t pid = ::fork();
  if (pid < 0) {
    Error e = Error::from_errno("user namespace: fork the map writer");
    ::close(p[0]);
    ::close(p[1]);
    return e;
  }
  if (pid == 0) {
    ::close(p[1]);
    const int parent = parent_pid_in_proc();
    char go = 0;
    if (::read(p[0], &go, 1) != 1 || go != 'G' || parent <= 0) ::_exit(1);
    // The exit status carries the errno (uid_map: 10+, gid_map: 100+; EIO when it does
    // not fit), for the message.
    if (int e = write_map(parent, "uid_map", uid_map); e) ::_exit(10 + (e < 90 ? e : EIO));
    if (int e = write_map(parent, "gid_map", gid_map); e) ::_exit(100 + (e < 150 ? e : EIO));
    ::_exit(0);
  }
  ::close(p[0]);
  go_fd_ = p[1];
  helper_ = pid;
  return {};
}

Status UserNamespaceEntry::enter() {
  if (helper_ <= 0) return Error("user namespace: not prepared", EINVAL);
  if (::unshare(CLONE_NEWUSER) < 0) return Error::from_errno("unshare user namespace");
  if (::write(go_fd_, "G", 1) != 1)
    return Error::from_errno("user namespace: signal the map writer");
  ::close(go_fd_);
  go_fd_ = -1;
  int ws = 0;
  while (::waitpid(helper_, &ws, 0) < 0 && errno == EINTR) {
  }
  helper_ = -1;
  const int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  if (code == 0) return {};
  if (code >= 100)
    return Error("write gid_map (" + describe(gids_) + "): " + std::strerror(code - 100),
                 code - 100);
  if (code >= 10)
    return Error("write uid_map (" + describe(uids_) + "): " + std::strerror(code - 10), code - 10);
  return Error("user namespace: the map writer failed (status " + std::to_string(ws) + ")", EIO);
}

Status join_user_namespace(int ns_fd) {
  if (::setns(ns_fd, CLONE_NEWUSER) < 0)
    return Error::from_errno("join the container's user namespace");
  return {};
}

}  // namespace runvm::guest
