#include "vmm/arch/x86_64/cpuid.h"

namespace runvm::vmm::x86_64 {

unsigned order_of(unsigned n) {
  unsigned b = 0;
  while ((1u << b) < n) ++b;
  return b;
}

void patch_cpuid(std::vector<kvm_cpuid_entry2>& entries, unsigned cpu_id, unsigned cpus) {
  if (cpus == 0) cpus = 1;
  const uint32_t apic = cpu_id;
  for (auto& e : entries) {
    switch (e.function) {
      case 0x1:
        // EBX: [31:24] initial APIC id, [23:16] logical processors per package.
        e.ebx = (e.ebx & 0x0000ffff) | (apic << 24) | ((cpus & 0xff) << 16);
        e.ecx |= 1u << 31;  // running under a hypervisor
        if (cpus > 1)
          e.edx |= 1u << 28;  // HTT: the EBX[23:16] count is valid
        else
          e.edx &= ~(1u << 28);
        break;
      case 0x4:
        // EAX[31:26]: cores per package - 1; [25:14]: threads sharing this cache - 1.
        if ((e.eax & 0x1f) != 0) {
          uint32_t level = (e.eax >> 5) & 0x7;
          uint32_t sharing = level >= 3 ? cpus - 1 : 0;
          e.eax = (e.eax & 0x3fff) | (((cpus - 1) & 0x3f) << 26) | ((sharing & 0xfff) << 14);
        }
        break;
      case 0xb:
      case 0x1f:
        // Extended topology: level 0 = SMT (1 thread), level 1 = core (cpus).
        e.edx = apic;
        if (e.index == 0) {
          e.eax = 0;
          e.ebx = 1;
          e.ecx = (1u << 8) | 0;
        } else if (e.index == 1) {
          e.eax = order_of(cpus);
          e.ebx = cpus;
          e.ecx = (2u << 8) | 1;
        } else {
          e.eax = 0;
          e.ebx = 0;
          e.ecx = e.index & 0xff;
        }
        break;
      case 0x80000008:
        // AMD: ECX[7:0] = cores per package - 1, [15:12] APIC id size.
        e.ecx = (e.ecx & ~0xf0ffu) | ((cpus - 1) & 0xff) | (order_of(cpus) << 12);
        break;
      case 0x8000001e:
        // AMD topology extensions: extended APIC id, core id, one thread per core.
        e.eax = apic;
        e.ebx = apic & 0xff;
        e.ecx = 0;
        break;
      default:
        break;
    }
  }
}

}  // namespace runvm::vmm::x86_64
