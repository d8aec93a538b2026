// The Linux "zero page" (struct boot_params) handed to the 64-bit entry in RSI.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "vmm/arch/x86_64/e820.h"

namespace runvm::vmm::x86_64 {

struct BootParamsInput {
  // The bzImage's setup header (copied as the protocol asks); absent for ELF
  // vmlinux, in which case the fields a loader must provide are synthesised.
  std::optional<setup_header> hdr;
  uint64_t cmdline_addr = 0;
  uint32_t cmdline_size = 0;  // without the terminating NUL
  uint64_t initrd_addr = 0;
  uint64_t initrd_size = 0;
  uint64_t acpi_rsdp = 0;  // 0 = none
  std::vector<E820Entry> e820;
};

[[nodiscard]] Result<boot_params> build_boot_params(const BootParamsInput& in);

}  // namespace runvm::vmm::x86_64
