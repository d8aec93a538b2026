#include "vmm/jail/fd_limits.h"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace runvm::vmm::jail {

namespace {

int close_range_fds(unsigned first, unsigned last) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, 0u));
}

}  // namespace

Status close_inherited_fds(std::span<const int> keep) {
  std::vector<int> sorted(keep.begin(), keep.end());
  std::sort(sorted.begin(), sorted.end());
  unsigned from = 3;
  for (int fd : sorted) {
    if (fd < static_cast<int>(from)) continue;
    if (static_cast<unsigned>(fd) > from &&
        close_range_fds(from, static_cast<unsigned>(fd) - 1) != 0)
      return Error::from_errno("close inherited fds " + std::to_string(from) + ".." +
                               std::to_string(fd - 1));
    from = static_cast<unsigned>(fd) + 1;
  }
  if (close_range_fds(from, ~0u) != 0)
    return Error::from_errno("close inherited fds from " + std::to_string(from));
  return {};
}

void raise_nofile_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t target = kMaxVmmFds;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1 && v > 0) target = std::min<rlim_t>(target, v);
    std::fclose(f);
  }
  if (rl.rlim_cur >= target) return;
  // Raising the soft limit alone needs nothing; raising the hard one, CAP_SYS_RESOURCE.
  struct rlimit up {
    target, std::max(rl.rlim_max, target)
  };
  if (::setrlimit(RLIMIT_NOFILE, &up) != 0) {
    // Without CAP_SYS_RESOURCE: as far as the hard limit goes.
    rl.rlim_cur = std::min(rl.rlim_max, target);
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Status freeze_nofile_limit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return Error::from_errno("getrlimit(RLIMIT_NOFILE)");
  rl.rlim_max = rl.rlim_cur;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return Error::from_errno("setrlimit(RLIMIT_NOFILE)");
  return {};
}

}  // namespace runvm::vmm::jail
