// Parsing and loading an x86-64 Linux kernel: a bzImage (boot protocol >= 2.06,
// protected-mode part loaded at 1 MiB, 64-bit entry at +0x200) or an ELF
// vmlinux (PT_LOAD segments at their physical addresses, entry = e_entry).
// Images are untrusted input: every offset and size is checked.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::boot {

struct BzImageInfo {
  setup_header hdr;         // as found in the image
  uint64_t payload_offset;  // file offset of the protected-mode kernel
  uint64_t payload_size;
};

// Validates the setup header; the error says which check failed.
[[nodiscard]] Result<BzImageInfo> parse_bzimage(std::span<const uint8_t> image);

struct LoadedKernel {
  uint64_t entry = 0;               // 64-bit entry point (guest physical)
  uint64_t load_end = 0;            // first byte after everything loaded (or reserved by init_size)
  std::optional<setup_header> hdr;  // bzImage only
};

// Detects the format and copies the kernel into guest memory.
[[nodiscard]] Result<LoadedKernel> load_kernel(const GuestMemory& mem,
                                               std::span<const uint8_t> image);

}  // namespace runvm::vmm::boot
