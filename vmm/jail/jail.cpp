#include "vmm/jail/jail.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "base/proc_self.h"
#include "vmm/jail/capabilities.h"
#include "vmm/jail/fd_limits.h"
#include "vmm/jail/seccomp_filter.h"

namespace runvm::vmm::jail {

namespace {

Result<int> thread_count() {
  // Through the /proc/<pid> kept open by base: the mount jail has no /proc.
  int fd = ::openat(proc_self_dir(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    Error e = Error::from_errno("open /proc/self/task");
    if (fd >= 0) ::close(fd);
    return e;
  }
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

Status enter_jail(const JailConfig& cfg, const KvmFds& kvm) {
  if (!cfg.enabled) return {};
  auto threads = thread_count();
  if (!threads) return std::move(threads).error().wrap("jail");
  if (*threads != 1)
    return Error("jail: " + std::to_string(*threads) +
                 " threads already run; it must be entered single-threaded");
  if (auto s = freeze_nofile_limit(); !s) return s.error().wrap("jail");
  // No core dumps: one would hold device state and guest data in flight (guest
  // RAM itself is MADV_DONTDUMP), written wherever the VMM's cwd is.
  struct rlimit no_core {
    0, 0
  };
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return Error::from_errno("jail: RLIMIT_CORE");
  if (cfg.uid >= 0 && cfg.gid >= 0) {
    if (auto s = switch_vmm_user(static_cast<uint32_t>(cfg.uid), static_cast<uint32_t>(cfg.gid));
        !s)
      return s.error().wrap("jail");
  }
  if (auto s = drop_vmm_capabilities(); !s) return s.error().wrap("jail");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::from_errno("jail: PR_SET_NO_NEW_PRIVS");
  // Not dumpable: no other VMM (same uid, same capabilities) may ptrace this
  // one, read its memory or reach its root through /proc.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Error::from_errno("jail: PR_SET_DUMPABLE");
  if (cfg.seccomp) {
    if (auto s = install_vmm_seccomp_filter(kvm); !s) return s.error().wrap("jail");
  }
  return {};
}

void make_forbidden_syscall() {
  char sh[] = "/bin/sh", dash_c[] = "-c", exit0[] = "exit 0";
  char* argv[] = {sh, dash_c, exit0, nullptr};
  char* envp[] = {nullptr};
  ::execve(sh, argv, envp);
}

void make_vcpu_forbidden_syscall() {
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd >= 0) ::close(fd);
}

}  // namespace runvm::vmm::jail
