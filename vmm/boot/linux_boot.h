// Puts everything the x86-64 Linux boot protocol needs into guest memory:
// kernel, initramfs, command line, boot_params (zero page) with e820, page
// tables, GDT and the MP table. The vCPU registers are set separately from the
// returned entry point (vmm/arch/x86_64/cpu_setup.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/pci_root.h"

namespace runvm::vmm::boot {

struct LinuxBootInput {
  std::span<const uint8_t> kernel;
  std::span<const uint8_t> initrd;  // may be empty
  std::string cmdline;
  unsigned cpus = 1;
  std::vector<PciIntxRoute> pci_intx;
  uint64_t pci_mmio_base = 0xC000'0000;  // the PCI root's BAR window, for the DSDT
  uint64_t pci_mmio_end = 0xFEC0'0000;
  uint32_t cpu_signature = 0x600;
  uint32_t cpu_features = 0x201;
};

struct LinuxBootInfo {
  uint64_t entry = 0;
  uint64_t boot_params = 0;
  uint64_t initrd_addr = 0;
};

[[nodiscard]] Result<LinuxBootInfo> setup_linux_boot(const GuestMemory& mem,
                                                     const LinuxBootInput& in);

// Highest 4 KiB-aligned address for an initrd of `size` bytes ending at or
// below both `addr_max` (last usable byte, from the setup header) and
// `ram_end` (exclusive), and not below `kernel_end`.
[[nodiscard]] Result<uint64_t> place_initrd(uint64_t size, uint64_t addr_max, uint64_t ram_end,
                                            uint64_t kernel_end);

}  // namespace runvm::vmm::boot
