// Sizing a container's microVM from its linux.resources, as Kata does: the VM
// gets its configured memory plus the container's memory limit, and its
// configured vCPUs plus ceil(cpu.quota / cpu.period). The limits themselves are
// enforced inside the guest (cgroup v2); the extra room keeps the guest kernel
// and agent from eating into what the container was promised. An explicit
// io.runvm.vm.memory_mib / io.runvm.vm.vcpus annotation wins over sizing.
#pragma once

#include <map>
#include <string>

#include "oci/spec.h"
#include "runtime/vm/vm_settings.h"

namespace runvm::runtime::vm {

inline constexpr uint64_t kMaxVmMemoryMib = 256 * 1024;
inline constexpr unsigned kMaxVcpus = 255;

void size_vm_from_resources(VmSettings& settings, const oci::Spec& spec,
                            const std::map<std::string, std::string>& annotations);

}  // namespace runvm::runtime::vm
