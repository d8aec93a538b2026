// Per-vCPU CPUID: KVM_GET_SUPPORTED_CPUID patched with this vCPU's APIC id and
// the VM's topology (one package, `cpus` cores, one thread each), and the
// hypervisor bit. The KVM paravirt leaves (0x40000000/0x40000001, kvm-clock)
// are kept as KVM reports them.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace runvm::vmm::x86_64 {

void patch_cpuid(std::vector<kvm_cpuid_entry2>& entries, unsigned cpu_id, unsigned cpus);

// Bits needed to number `n` items (0 for n <= 1).
unsigned order_of(unsigned n);

}  // namespace runvm::vmm::x86_64
