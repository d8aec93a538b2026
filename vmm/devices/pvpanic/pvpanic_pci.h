// pvpanic-pci (PCI 1b36:0011): a guest kernel with the pvpanic-pci driver
// writes an event byte into BAR 0 when it panics. Reading BAR 0 offset 0 gives
// the events we support; a write with bit 0 (PANICKED) or bit 1
// (CRASH_LOADED) set calls on_panic once, which the VMM wires to stopping the
// VM with a non-zero "guest kernel panic" status. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "vmm/pci/pci_config_space.h"
#include "vmm/pci/pci_device.h"

namespace runvm::vmm {

class PvPanicPci : public PciDevice {
 public:
  static constexpr uint16_t kVendor = 0x1b36;
  static constexpr uint16_t kDevice = 0x0011;
  static constexpr uint8_t kEventPanicked = 1 << 0;
  static constexpr uint8_t kEventCrashLoaded = 1 << 1;
  static constexpr uint64_t kBarSize = 4096;  // 16 bytes used; BARs come in pages

  explicit PvPanicPci(std::function<void()> on_panic);

  std::string name() const override { return "pvpanic-pci"; }
  std::vector<std::pair<int, PciBarRequest>> bar_requests() const override;
  void placed(std::span<const std::pair<int, uint64_t>> bar_addrs, int intx_gsi,
              PciVmServices* vm) override;
  void config_read(uint32_t offset, std::span<uint8_t> data) override;
  void config_write(uint32_t offset, std::span<const uint8_t> data) override;
  void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) override;
  void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) override;
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] Status restore_state(snapshot::StateReader& r) override;

  bool panicked() const { return panicked_.load(); }

 private:
  std::function<void()> on_panic_;
  std::atomic<bool> panicked_{false};
  mutable std::mutex mu_;
  pci::ConfigSpace cfg_;
};

}  // namespace runvm::vmm
