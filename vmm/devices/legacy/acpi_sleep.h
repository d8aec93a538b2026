#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "vmm/bus/bus.h"

namespace runvm::vmm {

// The FADT's sleep control (offset 0) and status (offset 1) registers:
// writing SLP_EN with SLP_TYP = S5 powers the VM off.
class AcpiSleepPorts : public BusDevice {
 public:
  explicit AcpiSleepPorts(std::function<void()> on_poweroff)
      : on_poweroff_(std::move(on_poweroff)) {}
  void bus_read(uint64_t, std::span<uint8_t> data) override {
    for (auto& b : data) b = 0;
  }
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override {
    if (offset != 0 || data.size() != 1) return;
    const uint8_t v = data[0];
    if ((v & 0x20) && ((v >> 2) & 0x7) == 5 && on_poweroff_) on_poweroff_();
  }

 private:
  std::function<void()> on_poweroff_;
};

}  // namespace runvm::vmm
