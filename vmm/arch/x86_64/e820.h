// The e820 memory map the guest kernel receives in boot_params.
#pragma once

#include <cstdint>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::x86_64 {

struct E820Entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // 1 = RAM, 2 = reserved
};

inline constexpr uint32_t kE820Ram = 1;
inline constexpr uint32_t kE820Reserved = 2;

// RAM below the EBDA, reserved EBDA..1 MiB (MP table, legacy BIOS area), RAM
// from 1 MiB to the end of the first region (the PCI hole start when memory is
// larger than it), and every further region (RAM above 4 GiB). The first
// region must start at 0 and extend beyond 1 MiB.
std::vector<E820Entry> build_e820(const GuestMemory& mem);

}  // namespace runvm::vmm::x86_64
