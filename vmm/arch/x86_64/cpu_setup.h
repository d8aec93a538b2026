// Per-vCPU and per-VM x86-64 state for entering Linux at its 64-bit entry:
// identity page tables and a flat GDT in guest memory, long-mode segment and
// control registers, MSRs, FPU, CPUID and the LAPIC's LINT pins.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::x86_64 {

// Identity-maps the first 4 GiB with 2 MiB pages (PML4 -> PDPT -> 4 PDs).
[[nodiscard]] Status write_page_tables(const GuestMemory& mem);
// GDT with the boot protocol's __BOOT_CS (0x10) and __BOOT_DS (0x18), a TSS
// descriptor (0x20) and an empty IDT.
[[nodiscard]] Status write_gdt(const GuestMemory& mem);

inline constexpr uint16_t kBootCs = 0x10;
inline constexpr uint16_t kBootDs = 0x18;
inline constexpr uint16_t kBootTss = 0x20;

// Bootstrap processor: long mode, paging on, RIP = entry, RSI = boot_params.
[[nodiscard]] Status setup_boot_regs(int vcpu_fd, uint64_t entry, uint64_t boot_params);
[[nodiscard]] Status setup_fpu(int vcpu_fd);
[[nodiscard]] Status setup_msrs(int vcpu_fd);
[[nodiscard]] Status setup_cpuid(int vcpu_fd, const std::vector<kvm_cpuid_entry2>& entries);
// LINT0 = ExtINT (the PIC), LINT1 = NMI.
[[nodiscard]] Status setup_lapic(int vcpu_fd);

// The MSR values every vCPU starts with (exposed for tests).
std::vector<kvm_msr_entry> boot_msrs();

}  // namespace runvm::vmm::x86_64
