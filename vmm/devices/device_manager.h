// Wires the machine's devices from a VmConfig: the legacy PC devices on the
// port-I/O bus (COM1 8250, i8042, CMOS/RTC, port 0x80) and the PCI root.
// Other device areas plug in through the accessors: the virtio helper's
// `add_pci_devices(DeviceManager&, const VmConfig&)` (declared in
// vmm/devices/pci_devices.h) adds its PCI devices with pci_root().add_device().
// Everything here happens during setup, before vCPUs run.
#pragma once

#include <memory>
#include <mutex>

#include "base/result.h"
#include "vmm/bus/bus.h"
#include "vmm/devices/legacy/console_log.h"
#include "vmm/event/event_loop.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/pci_device.h"
#include "vmm/pci/pci_root.h"
#include "vmm/vm_config.h"
#include "vmm/vm_stop.h"

namespace runvm::vmm {

class Serial8250;

class DeviceManager {
 public:
  // All references must outlive the manager.
  DeviceManager(const GuestMemory& memory, Bus& pio, Bus& mmio, EventLoop& loop, PciVmServices& vm,
                VmStop& stop);
  ~DeviceManager();
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // Adds COM1 (console per cfg.console), i8042, CMOS/RTC, port 0x80 and the
  // PCI root's config ports.
  [[nodiscard]] Status add_legacy_devices(const VmConfig& cfg);

  PciRoot& pci_root() { return *pci_; }
  Bus& mmio_bus() { return mmio_; }
  Bus& pio_bus() { return pio_; }
  EventLoop& event_loop() { return loop_; }
  const GuestMemory& memory() const { return memory_; }
  PciVmServices& vm_services() { return vm_; }
  // Snapshot (vmm/snapshot/README.md): why the devices cannot be saved now ("" when
  // they can); the legacy devices' and the PCI root's state; that state put back.
  std::string snapshot_blocker() const { return pci_->snapshot_blocker(); }
  void save_state(snapshot::StateWriter& w) const;
  [[nodiscard]] Status restore_state(snapshot::StateReader& r);

  // Devices that end the VM (pvpanic: StopReason::GuestPanic) call vm_stop().request().
  VmStop& vm_stop() { return stop_; }

 private:
  [[nodiscard]] Status open_console(const ConsoleConfig& c, int* out_fd);
  void watch_stdin();
  bool add_stdin_handler();

  const GuestMemory& memory_;
  Bus& pio_;
  Bus& mmio_;
  EventLoop& loop_;
  PciVmServices& vm_;
  VmStop& stop_;
  std::shared_ptr<PciRoot> pci_;
  std::shared_ptr<Serial8250> serial_;
  // The legacy devices with guest-programmed state, by name, in a fixed order.
  std::vector<std::pair<std::string, std::shared_ptr<BusDevice>>> stateful_;
  std::shared_ptr<ConsoleLog> console_log_;  // when the console is a file
  bool stdin_watched_ = false;
  int stdin_flags_ = -1;
  std::mutex stdin_mu_;        // orders pausing/resuming the stdin watch
  bool stdin_paused_ = false;  // restored on destruction (O_NONBLOCK is shared with the parent)
};

}  // namespace runvm::vmm
