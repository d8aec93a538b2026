#include "base/proc_self.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

namespace runvm {

namespace {

std::mutex mu;
pid_t owner = -1;  // GUARDED_BY(mu)
int fd = -1;       // GUARDED_BY(mu)

}  // namespace

int proc_self_dir() {
  std::lock_guard lk(mu);
  const pid_t pid = ::getpid();
  if (owner != pid) {
    // Opened by the parent before a fork: /proc/self then named the parent. Its
    // number is not closed here: the child may have closed it and reused it.
    fd = ::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
    owner = fd >= 0 ? pid : -1;
  }
  return fd;
}

void set_proc_self_dir(int new_fd) {
  std::lock_guard lk(mu);
  if (fd >= 0 && owner == ::getpid()) ::close(fd);
  fd = new_fd;
  owner = ::getpid();
}

}  // namespace runvm
