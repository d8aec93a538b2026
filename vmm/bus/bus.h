// An address bus (port I/O or MMIO) that routes vCPU exits to devices.
// Devices are registered during VM setup, before vCPUs run; after that the
// layout is read-only, so lookups need no lock. A device serialises its own
// state (vCPU threads and the event loop may call it concurrently).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `offset` is relative to the base the device was registered at. `data` is 1..8 bytes.
  // Reads of unimplemented registers must fill `data` (usually with 0 or 0xff).
  virtual void bus_read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void bus_write(uint64_t offset, std::span<const uint8_t> data) = 0;
  // A snapshot (vmm/snapshot/README.md): the registers the guest programmed, saved while
  // no vCPU runs and put back before any does. restore_state() is false on a short or
  // inconsistent record.
  virtual void save_state(snapshot::StateWriter& /*w*/) const {}
  [[nodiscard]] virtual bool restore_state(snapshot::StateReader& /*r*/) { return true; }
};

class Bus {
 public:
  explicit Bus(std::string name) : name_(std::move(name)) {}

  // Registers [base, base+len). Fails (false) on overlap or zero/overflowing length.
  [[nodiscard]] bool insert(std::shared_ptr<BusDevice> dev, uint64_t base, uint64_t len);
  // Removes the range registered at exactly `base` (PCI BAR reprogramming).
  bool remove(uint64_t base);

  // Dispatch an access; false when nothing is mapped there (reads then return all-ones).
  bool read(uint64_t addr, std::span<uint8_t> data) const;
  bool write(uint64_t addr, std::span<const uint8_t> data) const;

  const std::string& name() const { return name_; }

 private:
  struct Range {
    uint64_t len;
    std::shared_ptr<BusDevice> dev;
  };
  // Finds the range holding [addr, addr+size); returns nullptr otherwise.
  const Range* find(uint64_t addr, uint64_t size, uint64_t* base) const;

  std::string name_;
  mutable std::mutex mu_;  // guards ranges_ (BAR moves can happen while vCPUs run)
  std::map<uint64_t, Range> ranges_;
};

}  // namespace runvm::vmm
