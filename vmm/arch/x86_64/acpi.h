// Minimal ACPI tables for a hardware-reduced x86 microVM: RSDP -> XSDT ->
// FADT (+ DSDT), MADT. The Debian cloud kernel is built without MP-table
// support, so the MADT is how it finds the IOAPIC and the other CPUs. The
// DSDT describes the PCI root bridge (PNP0A03, config mechanism #1, the BAR
// window) and \_S5 for power-off; the FADT points reset at the i8042 (0x64 <-
// 0xFE) and sleep control at kSleepControlPort (S5 => power-off).
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmm/pci/pci_root.h"

namespace runvm::vmm::x86_64 {

struct AcpiInput {
  unsigned cpus = 1;
  uint64_t pci_mmio_base = 0xC000'0000;
  uint64_t pci_mmio_end = 0xFEC0'0000;  // exclusive
  std::vector<PciIntxRoute> pci_intx;   // -> _PRT (INTx wired straight to IOAPIC GSIs)
};

inline constexpr uint16_t kSleepControlPort = 0x600;  // FADT sleep control register
inline constexpr uint16_t kSleepStatusPort = 0x601;   // FADT sleep status register
inline constexpr uint8_t kS5SleepType = 5;            // \_S5 SLP_TYP

// All tables as one blob to be copied to guest-physical `base` (16-byte
// aligned, below 4 GiB); the RSDP is at `base`.
[[nodiscard]] Result<std::vector<uint8_t>> build_acpi_tables(const AcpiInput& in, uint64_t base);

// Sum of all bytes modulo 256 (0 for a valid table).
uint8_t acpi_sum(const uint8_t* p, size_t n);

}  // namespace runvm::vmm::x86_64
