#include "vmm/pci/pci_config_space.h"

#include <cstring>

namespace runvm::vmm::pci {

ConfigSpace::ConfigSpace(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code) {
  set_u16(kCfgVendorId, vendor);
  set_u16(kCfgDeviceId, device);
  set_u8(kCfgRevision, revision);
  set_u8(kCfgClassProg, class_code & 0xff);
  set_u16(kCfgClassProg + 1, static_cast<uint16_t>(class_code >> 8));
  set_u8(kCfgHeaderType, 0);
  // Command: memory space enable, bus master, INTx disable are the only bits we honour.
  set_u16(kCfgCommand, 0);
  set_writable(kCfgCommand, 1, 0x06);
  set_writable(kCfgCommand + 1, 1, 0x04);
  set_writable(kCfgIntLine, 1);
}

void ConfigSpace::set_u16(uint32_t off, uint16_t v) {
  std::memcpy(&bytes_[off], &v, 2);
}
void ConfigSpace::set_u32(uint32_t off, uint32_t v) {
  std::memcpy(&bytes_[off], &v, 4);
}
uint16_t ConfigSpace::u16(uint32_t off) const {
  uint16_t v;
  std::memcpy(&v, &bytes_[off], 2);
  return v;
}
uint32_t ConfigSpace::u32(uint32_t off) const {
  uint32_t v;
  std::memcpy(&v, &bytes_[off], 4);
  return v;
}

void ConfigSpace::set_writable(uint32_t off, uint32_t len, uint8_t mask) {
  for (uint32_t i = off; i < off + len && i < bytes_.size(); ++i) wmask_[i] = mask;
}

void ConfigSpace::set_bar(int index, const PciBarRequest& req, uint64_t addr) {
  if (index < 0 || index > 5 || req.size == 0) return;
  if (req.is_64bit && index == 5) return;
  Bar& b = bars_[index];
  b.size = req.size;
  b.flags = (req.is_64bit ? 0x4u : 0u) | (req.prefetchable ? 0x8u : 0u);
  set_u32(kCfgBar0 + 4 * index, static_cast<uint32_t>(addr & ~(req.size - 1)) | b.flags);
  if (req.is_64bit) {
    bars_[index + 1] = Bar{req.size, 0, true};
    set_u32(kCfgBar0 + 4 * (index + 1), static_cast<uint32_t>(addr >> 32));
  }
}

void ConfigSpace::set_interrupt(int gsi) {
  set_u8(kCfgIntLine, static_cast<uint8_t>(gsi));
  set_u8(kCfgIntPin, 1);  // INTA#
}

void ConfigSpace::read(uint32_t off, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t o = uint64_t{off} + i;
    data[i] = o < bytes_.size() ? bytes_[o] : 0xff;
  }
}

bool ConfigSpace::restore(snapshot::StateReader& r) {
  std::array<uint8_t, 256> saved{};
  if (!r.get(&saved)) return false;
  for (uint32_t i = 0; i < bytes_.size(); ++i) {
    if (i >= kCfgBar0 && i < kCfgBar0 + 24) continue;
    bytes_[i] = static_cast<uint8_t>((bytes_[i] & ~wmask_[i]) | (saved[i] & wmask_[i]));
  }
  return true;
}

void ConfigSpace::write_bar(int reg, uint32_t v) {
  const Bar& b = bars_[reg];
  uint32_t off = kCfgBar0 + 4 * reg;
  if (b.size == 0) return;  // unused BAR: reads as 0, not writable
  if (b.upper) {
    set_u32(off, v & static_cast<uint32_t>(~(b.size - 1) >> 32));
  } else {
    set_u32(off, (v & static_cast<uint32_t>(~(b.size - 1)) & ~0xfu) | b.flags);
  }
}

void ConfigSpace::write(uint32_t off, std::span<const uint8_t> data) {
  if (off >= bytes_.size() || data.size() > bytes_.size() - off) return;
  // BAR registers are only meaningful as whole dwords.
  if (off >= kCfgBar0 && off < kCfgBar0 + 24) {
    if (data.size() == 4 && off % 4 == 0) {
      uint32_t v;
      std::memcpy(&v, data.data(), 4);
      write_bar(static_cast<int>((off - kCfgBar0) / 4), v);
    }
    return;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    uint8_t m = wmask_[off + i];
    bytes_[off + i] = static_cast<uint8_t>((bytes_[off + i] & ~m) | (data[i] & m));
  }
}

}  // namespace runvm::vmm::pci
