// Confines runvm-vmm before the guest runs its first instruction (README.md):
// a frozen fd limit, only the filesystem capabilities, no_new_privs and the
// seccomp allow-list. Must be entered while the VMM is single-threaded:
// capabilities, the bounding set and no_new_privs are per-thread and only
// threads started afterwards inherit them.
#pragma once

#include "base/result.h"
#include "vmm/jail/seccomp_filter.h"
#include "vmm/vm_config.h"

namespace runvm::vmm::jail {

// `kvm`: the VM and vCPU fds the seccomp filter pins KVM's ioctls to.
[[nodiscard]] Status enter_jail(const JailConfig& cfg, const KvmFds& kvm = {});

// For tests of the jail: a syscall the allow-list refuses (execve of /bin/sh,
// which would exit 0 if it were let through). Returns only if it failed.
void make_forbidden_syscall();
// For tests of the per-thread filters: eventfd2, which the main thread's filter
// allows and a vCPU thread's refuses. Returns only if it was let through.
void make_vcpu_forbidden_syscall();

}  // namespace runvm::vmm::jail
