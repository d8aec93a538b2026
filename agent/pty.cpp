#include "agent/pty.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace runvm::agent {
namespace {

// The container's ptmx, or -1. Every step refuses symlinks (RESOLVE_NO_SYMLINKS),
// stays below the root (RESOLVE_BENEATH), and the result must be the ptmx device.
int open_container_ptmx(const PtmxLocation& where) {
  if (where.root.empty() || where.rel.empty()) return -1;
  int root = ::open(where.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int node = static_cast<int>(::syscall(SYS_openat2, root, where.rel.c_str(), &how, sizeof how));
  ::close(root);
  if (node < 0) return -1;
  struct stat st {};
  int fd = -1;
  if (::fstat(node, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 &&
      minor(st.st_rdev) == 2) {
    // Reopen the checked node itself for I/O (an O_PATH fd cannot do ioctls).
    const std::string self = "/proc/self/fd/" + std::to_string(node);
    fd = ::open(self.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  }
  ::close(node);
  return fd;
}

}  // namespace

Result<int> open_pty_master(const PtmxLocation& where) {
  int fd = open_container_ptmx(where);
  if (fd < 0) fd = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("open /dev/ptmx");
  if (::unlockpt(fd) < 0) {
    int e = errno;
    ::close(fd);
    return Error::from_errno("unlockpt", e);
  }
  return fd;
}

Result<int> open_pty_peer(int master) {
  int fd = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("TIOCGPTPEER");
  return fd;
}

}  // namespace runvm::agent
