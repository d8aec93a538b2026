// A type-0 PCI configuration space image with per-bit write masks and BAR
// registers that follow the size-probe protocol. Shared by the virtio-pci
// transport and pvpanic-pci. Not thread-safe: the owner serialises.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "vmm/pci/pci_device.h"

namespace runvm::vmm::pci {

inline constexpr uint32_t kCfgVendorId = 0x00;
inline constexpr uint32_t kCfgDeviceId = 0x02;
inline constexpr uint32_t kCfgCommand = 0x04;
inline constexpr uint32_t kCfgStatus = 0x06;
inline constexpr uint32_t kCfgRevision = 0x08;
inline constexpr uint32_t kCfgClassProg = 0x09;
inline constexpr uint32_t kCfgHeaderType = 0x0e;
inline constexpr uint32_t kCfgBar0 = 0x10;
inline constexpr uint32_t kCfgSubsysVendor = 0x2c;
inline constexpr uint32_t kCfgSubsysId = 0x2e;
inline constexpr uint32_t kCfgCapPtr = 0x34;
inline constexpr uint32_t kCfgIntLine = 0x3c;
inline constexpr uint32_t kCfgIntPin = 0x3d;
inline constexpr uint16_t kStatusCapList = 1 << 4;
inline constexpr uint16_t kCommandMemory = 1 << 1;
inline constexpr uint16_t kCommandIntxDisable = 1 << 10;

class ConfigSpace {
 public:
  // vendor/device/revision/class (24-bit: class<<16 | subclass<<8 | prog-if).
  ConfigSpace(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code);

  void set_u8(uint32_t off, uint8_t v) { bytes_[off] = v; }
  void set_u16(uint32_t off, uint16_t v);
  void set_u32(uint32_t off, uint32_t v);
  uint8_t u8(uint32_t off) const { return bytes_[off]; }
  uint16_t u16(uint32_t off) const;
  uint32_t u32(uint32_t off) const;
  // Marks bits guest-writable.
  void set_writable(uint32_t off, uint32_t len, uint8_t mask = 0xff);

  // Declares BAR `index` (and index+1 for a 64-bit one) of `req.size` bytes at `addr`.
  void set_bar(int index, const PciBarRequest& req, uint64_t addr);
  void set_interrupt(int gsi);

  // Out-of-range accesses read as all-ones and are dropped on write.
  void read(uint32_t off, std::span<uint8_t> data) const;
  void write(uint32_t off, std::span<const uint8_t> data);

  // Snapshot: the 256 bytes; restore takes back only guest-writable bits outside the
  // BARs (the root placed those, at the same addresses in the same configuration).
  void save(snapshot::StateWriter& w) const { w.put(bytes_); }
  [[nodiscard]] bool restore(snapshot::StateReader& r);

 private:
  void write_bar(int reg, uint32_t v);

  struct Bar {
    uint64_t size = 0;
    uint32_t flags = 0;  // low bits of the lower BAR dword
    bool upper = false;  // this register is the high half of a 64-bit BAR
  };
  std::array<uint8_t, 256> bytes_{};
  std::array<uint8_t, 256> wmask_{};
  std::array<Bar, 6> bars_{};
};

}  // namespace runvm::vmm::pci
