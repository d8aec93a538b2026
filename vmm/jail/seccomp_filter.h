// The VMM's seccomp allow-lists, kept as data: one table per thread role
// (README.md). A syscall outside the allow-list kills the whole VMM
// (SECCOMP_RET_KILL_PROCESS, logged by the kernel with the thread's name).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace runvm::vmm::jail {

// One allowed syscall; with `arg` >= 0 only when (args[arg] & mask) == value.
struct SyscallRule {
  int nr;
  int arg = -1;
  uint64_t mask = 0;
  uint64_t value = 0;
};

struct RoleFilter {
  std::string_view role;  // "common", "main", "vcpu", "event-loop", "fs-worker"
  std::span<const SyscallRule> rules;
};

// Every role's table.
std::span<const RoleFilter> vmm_role_filters();

// The KVM ioctls a running VM needs, each pinned to the kind of fd it is made on.
// Their fd numbers are fixed once set-up is done, so the filter allows
// KVM_RUN only on a vCPU fd and the interrupt/doorbell requests only on the VM
// fd; every other KVM request (KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION,
// KVM_SET_REGS, ...) or a request on the wrong fd kills the VMM.
enum class KvmFdKind { Vm, Vcpu };

// The threads that handle guest data, each with its own filter on top of the
// process's: vCPUs, the event loop, the filesystem servers' workers.
enum class ThreadRole { Vcpu, EventLoop, FsWorker };
constexpr unsigned role_bit(ThreadRole r) {
  return 1u << static_cast<unsigned>(r);
}

struct KvmIoctlRule {
  unsigned long request;
  KvmFdKind fd;
  unsigned roles;  // role_bit()s of the threads that make it
};
std::span<const KvmIoctlRule> vmm_kvm_ioctls();

// The fds those rules apply to (none: no KVM ioctl is allowed).
struct KvmFds {
  int vm = -1;
  std::vector<int> vcpus;
};

// Installs the union of every role's table and the KVM ioctl rules for `kvm`
// on all threads of the process (TSYNC): the main thread's filter, which every
// thread inherits. Needs no_new_privs or CAP_SYS_ADMIN.
[[nodiscard]] Status install_vmm_seccomp_filter(const KvmFds& kvm = {});

// Adds the calling thread's own filter on top: from then on it may make only
// `common` and `role`'s syscalls, and the KVM ioctls of its role on `kvm`'s fds
// (a vCPU thread passes only its own fd). A thread can never widen it again.
[[nodiscard]] Status install_thread_role_filter(ThreadRole role, const KvmFds& kvm);

}  // namespace runvm::vmm::jail
