#include "base/proc_self.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>

namespace runvm {

int proc_self_dir() {
  static std::mutex mu;
  static pid_t owner = -1;
  static int fd = -1;
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

}  // namespace runvm
