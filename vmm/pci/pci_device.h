// The contract between the PCI root (vmm/pci) and PCI devices (virtio-pci
// transport, pvpanic-pci). The root owns bus/slot numbering, config mechanism
// #1 and BAR address assignment; a device owns its 256-byte config space and
// serves its BARs once they are placed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/devices/thread_start.h"
#include "vmm/snapshot/state_buffer.h"

namespace runvm::vmm {

// What a PCI device needs from the VM to deliver interrupts and get doorbells.
// Implemented over KVM (KVM_SET_GSI_ROUTING, KVM_IRQFD, KVM_IOEVENTFD,
// KVM_SIGNAL_MSI). All calls are thread-safe.
class PciVmServices {
 public:
  virtual ~PciVmServices() = default;
  // Allocates a GSI routed to the MSI message (address, data); -1 on failure.
  virtual int msi_route_add(uint64_t address, uint32_t data) = 0;
  virtual bool msi_route_update(int gsi, uint64_t address, uint32_t data) = 0;
  // Writes to eventfd then inject the GSI's interrupt without leaving the kernel.
  virtual bool irqfd_assign(int eventfd, int gsi) = 0;
  virtual bool irqfd_deassign(int eventfd, int gsi) = 0;
  // A guest MMIO write of `len` bytes at `addr` signals eventfd instead of exiting to us.
  virtual bool ioeventfd_assign(int eventfd, uint64_t addr, uint32_t len) = 0;
  virtual bool ioeventfd_deassign(int eventfd, uint64_t addr, uint32_t len) = 0;
  // Injects one MSI directly (slow path; used when no irqfd is set up).
  virtual bool signal_msi(uint64_t address, uint32_t data) = 0;
  // Raises a legacy INTx level on the IOAPIC pin the root assigned (irq = gsi).
  virtual bool set_irq_line(int gsi, bool level) = 0;
};

struct PciBarRequest {
  uint64_t size = 0;  // power of two, >= 4096 for MMIO; 0 = BAR unused
  bool is_64bit = true;
  bool prefetchable = false;
};

class PciDevice {
 public:
  virtual ~PciDevice() = default;
  virtual std::string name() const = 0;

  // BARs this device wants (index 0..5; a 64-bit BAR also consumes index+1).
  virtual std::vector<std::pair<int, PciBarRequest>> bar_requests() const = 0;
  // Called once by the root before the guest runs: where each requested BAR lives,
  // the legacy IRQ (GSI) wired to INTA#, and the VM services to use.
  virtual void placed(std::span<const std::pair<int, uint64_t>> bar_addrs, int intx_gsi,
                      PciVmServices* vm) = 0;

  // Config space access, offset in [0, 256), 1/2/4 bytes, naturally aligned
  // (the root guarantees this). The device keeps BAR registers guest-visible
  // (including the size-probe protocol) but the root never moves BARs: guest
  // reprogramming to a different address is ignored (as firmware-fixed BARs).
  virtual void config_read(uint32_t offset, std::span<uint8_t> data) = 0;
  virtual void config_write(uint32_t offset, std::span<const uint8_t> data) = 0;

  // MMIO inside BAR `bar` at `offset`.
  virtual void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) = 0;

  // Starts the device's own threads (vmm/devices/thread_start.h); once, before
  // the guest runs.
  [[nodiscard]] virtual Status start_threads(const ThreadStartHook& /*on_start*/) { return {}; }

  // One-line snapshot of the device's state for a host operator (SIGUSR1 dump of a
  // stuck VM); empty when the device has nothing worth showing.
  virtual std::string debug_state() const { return {}; }

  // A snapshot (vmm/snapshot/README.md), taken while no vCPU runs: why this device
  // cannot be saved now ("" when it can), its state, and that state put back into a
  // device built from the same configuration before any vCPU runs.
  virtual std::string snapshot_blocker() const { return {}; }
  virtual void save_state(snapshot::StateWriter& /*w*/) const {}
  [[nodiscard]] virtual Status restore_state(snapshot::StateReader& /*r*/) { return {}; }
};

}  // namespace runvm::vmm
