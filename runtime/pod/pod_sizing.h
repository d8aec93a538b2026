// Sizing a pod's VM: the sandbox's own sizing (vm_sizing.h) plus what CRI says the whole
// pod may use, from containerd's sandbox annotations (memory in bytes, cpu quota/period),
// where it passes them. Without them the VM keeps the configured size, and a member whose
// memory limit does not fit is refused by join_pod().
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "runtime/vm/vm_settings.h"

namespace runvm::runtime::pod {

inline constexpr const char* kCriSandboxMemory = "io.kubernetes.cri.sandbox-memory";
inline constexpr const char* kCriSandboxCpuQuota = "io.kubernetes.cri.sandbox-cpu-quota";
inline constexpr const char* kCriSandboxCpuPeriod = "io.kubernetes.cri.sandbox-cpu-period";

// Adds the pod's memory and ceil(quota/period) vCPUs, up to the maxima, unless an
// io.runvm.vm.memory_mib / vcpus annotation fixed them. A malformed value is an error
// naming its annotation.
[[nodiscard]] Status size_pod_vm(vm::VmSettings& settings,
                                 const std::map<std::string, std::string>& annotations);

}  // namespace runvm::runtime::pod
