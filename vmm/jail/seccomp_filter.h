// The VMM's seccomp allow-lists, kept as data: one table per thread role
// (README.md). A syscall outside the allow-list kills the whole VMM
// (SECCOMP_RET_KILL_PROCESS, logged by the kernel with the thread's name).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

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
  std::string_view role;  // "common", "vcpu", "event-loop", "fs-worker"
  std::span<const SyscallRule> rules;
};

// Every role's table.
std::span<const RoleFilter> vmm_role_filters();

// Installs the union of every role's table on all threads of the process
// (TSYNC). Needs no_new_privs or CAP_SYS_ADMIN.
[[nodiscard]] Status install_vmm_seccomp_filter();

}  // namespace runvm::vmm::jail
