// The PCI root complex: bus 0 behind configuration mechanism #1 (ports
// 0xCF8-0xCFF), a host bridge at 00:00.0 and the devices added by the VMM.
// The root assigns each device a slot, fixed BAR addresses from an MMIO window
// inside the 32-bit PCI hole, and a legacy INTx GSI (IOAPIC pins 16-23), and
// maps the BARs on the MMIO bus. Devices are added during setup, before vCPUs
// run; afterwards config accesses may come from any vCPU thread (serialised
// here by a mutex; BAR accesses go straight to the device).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "base/result.h"
#include "vmm/bus/bus.h"
#include "vmm/pci/pci_device.h"

namespace runvm::vmm {

// Where the root puts BARs and which GSIs it hands out for INTx.
struct PciRootLayout {
  uint64_t mmio_base = 0xC000'0000;  // start of the 32-bit BAR window (PCI hole start)
  uint64_t mmio_end = 0xFEC0'0000;   // exclusive; the IOAPIC/LAPIC pages sit above
  int first_intx_gsi = 16;           // IOAPIC pins 16..23 carry PCI INTx
  int num_intx_gsis = 8;
};

// One INTx wire, as the MP table must describe it.
struct PciIntxRoute {
  int slot;  // device number on bus 0
  int pin;   // 0 = INTA#
  int gsi;   // IOAPIC pin
};

class PciRoot : public BusDevice {
 public:
  // `mmio` receives the BAR mappings; `vm` is handed to devices in placed().
  // Both must outlive the root.
  PciRoot(Bus* mmio, PciVmServices* vm, PciRootLayout layout = {});

  // Gives `dev` the next free slot (1..31), places its BARs, wires INTA# to a
  // GSI and calls dev->placed(). Returns the slot number.
  [[nodiscard]] Result<int> add_device(std::shared_ptr<PciDevice> dev);

  // Registers the config ports 0xCF8-0xCFF on the port-I/O bus.
  [[nodiscard]] Status attach_pio(Bus& pio, std::shared_ptr<PciRoot> self);

  // INTx wiring of every added device (for the MP table).
  std::vector<PciIntxRoute> intx_routes() const;
  const PciRootLayout& layout() const { return layout_; }
  // debug_state() of every added device, one line each ("slot N: ...").
  std::string debug_state() const;
  // start_threads() of every added device (before the guest runs).
  [[nodiscard]] Status start_device_threads(const ThreadStartHook& on_start);

  // Snapshot: CONFIG_ADDRESS, then each device in slot order under its name. Restore
  // needs the same devices in the same slots; the first one that is not, or whose
  // state does not fit, is the error. snapshot_blocker(): the first device's reason.
  std::string snapshot_blocker() const;
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] Status restore_devices(snapshot::StateReader& r);
  // BusDevice on ports 0xCF8..0xCFF: offset 0..3 = CONFIG_ADDRESS, 4..7 = CONFIG_DATA.
  void bus_read(uint64_t offset, std::span<uint8_t> data) override;
  void bus_write(uint64_t offset, std::span<const uint8_t> data) override;

  static constexpr uint16_t kConfigAddressPort = 0xCF8;
  static constexpr uint16_t kHostBridgeVendor = 0x8086;
  static constexpr uint16_t kHostBridgeDevice = 0x0d57;

 private:
  struct Slot {
    std::shared_ptr<PciDevice> dev;
    int gsi = -1;
  };
  // Resolves CONFIG_ADDRESS to a device and register offset; nullptr if none.
  PciDevice* target(uint32_t config_address, uint32_t* reg);

  Bus* mmio_;
  PciVmServices* vm_;
  PciRootLayout layout_;
  uint64_t next_mmio_;
  std::shared_ptr<PciDevice> host_bridge_;
  std::vector<Slot> slots_;  // index = device number; [0] is the host bridge

  mutable std::mutex mu_;  // guards config_address_ and serialises config cycles
  uint32_t config_address_ = 0;
};

}  // namespace runvm::vmm
