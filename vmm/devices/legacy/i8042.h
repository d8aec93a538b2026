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
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] bool restore_state(snapshot::StateReader& r) override;

  static constexpr uint16_t kBase = 0x60;
  static constexpr uint16_t kLen = 5;

 private:
  std::function<void()> on_reset_;
  mutable std::mutex mu_;
  std::optional<uint8_t> out_;  // output buffer (OBF when set)
  uint8_t ctr_ = 0x30;          // both ports disabled, no interrupts
  uint8_t pending_cmd_ = 0;     // a command waiting for its data byte
};

}  // namespace runvm::vmm
