#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "vmm/bus/bus.h"

namespace runvm::vmm {

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
