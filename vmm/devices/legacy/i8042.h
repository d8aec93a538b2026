// A minimal i8042 keyboard controller on ports 0x60 (data) and 0x64
// (status/command), registered as one range 0x60..0x64. It answers the
// controller commands Linux's probe sends quickly (self test, CTR read/write,
// interface tests) so the probe ends without timeouts, reports no keyboard or
// mouse, and turns the CPU-reset command 0xFE into a VM reset request.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "vmm/bus/bus.h"

namespace runvm::vmm {

class I8042 : public BusDevice {
 public:
  explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

  void bus_read(uint64_t offset, std::span<uint8_t> data) override;
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override;

  static constexpr uint16_t kBase = 0x60;
  static constexpr uint16_t kLen = 5;

 private:
  std::function<void()> on_reset_;
  std::mutex mu_;
  std::optional<uint8_t> out_;  // output buffer (OBF when set)
  uint8_t ctr_ = 0x30;          // both ports disabled, no interrupts
  uint8_t pending_cmd_ = 0;     // a command waiting for its data byte
};

// CMOS RAM and RTC on ports 0x70 (index; bit 7 = NMI mask) and 0x71 (data).
// Time registers read the host's UTC clock, in BCD unless the guest selects
// binary in status register B; writes to them are ignored.
class CmosRtc : public BusDevice {
 public:
  CmosRtc();
  void bus_read(uint64_t offset, std::span<uint8_t> data) override;
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override;

  static constexpr uint16_t kBase = 0x70;
  static constexpr uint16_t kLen = 2;

 private:
  uint8_t read_data(uint8_t index);
  std::mutex mu_;
  uint8_t index_ = 0;
  uint8_t ram_[128] = {};
};

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

// Ports whose writes are ignored and reads return `fill` (port 0x80 POST codes).
class IgnoredPorts : public BusDevice {
 public:
  explicit IgnoredPorts(uint8_t fill) : fill_(fill) {}
  void bus_read(uint64_t, std::span<uint8_t> data) override {
    for (auto& b : data) b = fill_;
  }
  void bus_write(uint64_t, std::span<const uint8_t>) override {}

 private:
  uint8_t fill_;
};

}  // namespace runvm::vmm
