#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "vmm/bus/bus.h"

namespace runvm::vmm {

// CMOS RAM and RTC on ports 0x70 (index; bit 7 = NMI mask) and 0x71 (data).
// Time registers read the host's UTC clock, in BCD unless the guest selects
// binary in status register B; writes to them are ignored.
class CmosRtc : public BusDevice {
 public:
  CmosRtc();
  void bus_read(uint64_t offset, std::span<uint8_t> data) override;
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override;
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] bool restore_state(snapshot::StateReader& r) override;

  static constexpr uint16_t kBase = 0x70;
  static constexpr uint16_t kLen = 2;

 private:
  uint8_t read_data(uint8_t index);
  mutable std::mutex mu_;
  uint8_t index_ = 0;
  uint8_t ram_[128] = {};
};

}  // namespace runvm::vmm
