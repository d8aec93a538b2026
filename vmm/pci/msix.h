// MSI-X capability state for one PCI function: the vector table and pending-bit
// array the guest programs through a BAR, and delivery of each vector through a
// KVM MSI route + irqfd (falling back to a direct MSI when no route could be
// made). Masked vectors (per entry or function-wide) latch their pending bit
// and fire when unmasked. Thread-safe: the guest programs it from vCPU threads
// while devices fire vectors from the event loop.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "vmm/pci/pci_device.h"
#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm::pci {

// Capability layout (PCI 3.0 6.8.2).
inline constexpr uint8_t kCapIdMsix = 0x11;
inline constexpr uint16_t kMsixCtrlEnable = 1 << 15;
inline constexpr uint16_t kMsixCtrlFunctionMask = 1 << 14;
inline constexpr uint32_t kMsixEntrySize = 16;
inline constexpr uint32_t kMsixEntryMasked = 1;

class Msix {
 public:
  explicit Msix(uint16_t num_vectors);
  ~Msix();
  Msix(const Msix&) = delete;
  Msix& operator=(const Msix&) = delete;

  // Must be called before anything fires; `vm` outlives this object.
  void set_vm(PciVmServices* vm);

  uint16_t num_vectors() const { return static_cast<uint16_t>(entries_.size()); }
  uint64_t table_bytes() const { return uint64_t{kMsixEntrySize} * entries_.size(); }
  uint64_t pba_bytes() const { return ((entries_.size() + 63) / 64) * 8; }

  // The enable / function-mask bits of the capability's message control.
  void set_control(bool enabled, bool function_mask);
  bool enabled() const;

  // Guest accesses relative to the start of the table / PBA. Any offset and
  // length is accepted: out-of-range reads give zeros, odd writes are dropped.
  void table_read(uint64_t offset, std::span<uint8_t> data) const;
  void table_write(uint64_t offset, std::span<const uint8_t> data);
  void pba_read(uint64_t offset, std::span<uint8_t> data) const;

  // Snapshot: the table and pending bits. restore() takes a table of the same size;
  // the caller then sets the control bits (set_control), which routes the vectors.
  void save(snapshot::StateWriter& w) const;
  [[nodiscard]] bool restore(snapshot::StateReader& r);

  // Delivers vector `v` (ignored when out of range or MSI-X is disabled).
  void fire(uint16_t v);

  // Test visibility.
  bool pending(uint16_t v) const;
  bool masked(uint16_t v) const;

 private:
  struct Entry {
    uint32_t addr_lo = 0;
    uint32_t addr_hi = 0;
    uint32_t data = 0;
    uint32_t ctrl = kMsixEntryMasked;  // all vectors start masked
    bool pending = false;
    // Delivery: an MSI route (gsi) with an irqfd (eventfd), made on first unmask.
    int gsi = -1;
    int eventfd = -1;
    uint64_t routed_addr = 0;
    uint32_t routed_data = 0;
  };
  uint64_t address(const Entry& e) const { return (uint64_t{e.addr_hi} << 32) | e.addr_lo; }
  bool active_locked(const Entry& e) const;
  // Brings the route up to date and delivers a latched interrupt once unmasked.
  void sync_locked(Entry& e);
  void deliver_locked(Entry& e);

  mutable std::mutex mu_;
  PciVmServices* vm_ = nullptr;
  bool enabled_ = false;
  bool function_mask_ = false;
  std::vector<Entry> entries_;
};

}  // namespace runvm::vmm::pci
