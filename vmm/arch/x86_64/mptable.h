// Intel MultiProcessor Specification 1.4 tables: a floating pointer and a
// configuration table listing the CPUs, the ISA and PCI buses, the IOAPIC,
// the ISA IRQ and PCI INTx wiring, and LINT0/LINT1. Without ACPI this is how
// Linux finds the APICs instead of falling back to virtual-wire mode.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmm/pci/pci_root.h"

namespace runvm::vmm::x86_64 {

struct MpTableInput {
  unsigned cpus = 1;  // APIC ids 0..cpus-1, CPU 0 is the bootstrap processor
  std::vector<PciIntxRoute> pci_intx;
  uint32_t cpu_signature = 0x600;  // CPUID(1).EAX
  uint32_t cpu_features = 0x201;   // CPUID(1).EDX
};

inline constexpr uint8_t kMpPciBusId = 0;  // equals the PCI bus number
inline constexpr uint8_t kMpIsaBusId = 1;

// The tables as they must appear at guest-physical `base` (floating pointer
// first, config table right after it). Fails for 0 or more than 254 CPUs.
[[nodiscard]] Result<std::vector<uint8_t>> build_mptable(const MpTableInput& in, uint64_t base);

}  // namespace runvm::vmm::x86_64
