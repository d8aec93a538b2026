#include "runtime/vm/vm_sizing.h"

#include <algorithm>

namespace runvm::runtime::vm {

void size_vm_from_resources(VmSettings& s, const oci::Spec& spec,
                            const std::map<std::string, std::string>& annotations) {
  if (!spec.linux || !spec.linux->resources) return;
  const auto& r = *spec.linux->resources;
  if (r.memory && r.memory->limit && *r.memory->limit > 0 &&
      !annotations.contains("io.runvm.vm.memory_mib")) {
    const uint64_t limit_mib = (static_cast<uint64_t>(*r.memory->limit) + (1 << 20) - 1) >> 20;
    s.memory_mib = std::min(
        {s.memory_mib + limit_mib, kMaxVmMemoryMib, std::max(s.max_memory_mib, s.memory_mib)});
  }
  if (r.cpu && r.cpu->quota && *r.cpu->quota > 0 && !annotations.contains("io.runvm.vm.vcpus")) {
    const uint64_t period = r.cpu->period.value_or(100000);
    if (period > 0) {
      const uint64_t extra = (static_cast<uint64_t>(*r.cpu->quota) + period - 1) / period;
      s.vcpus = static_cast<unsigned>(
          std::min<uint64_t>({s.vcpus + extra, kMaxVcpus, std::max(s.max_vcpus, s.vcpus)}));
    }
  }
}

}  // namespace runvm::runtime::vm
