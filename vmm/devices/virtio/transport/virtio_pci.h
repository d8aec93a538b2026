// virtio-pci modern transport (virtio 1.x section 4.1): wraps any VirtioDevice
// as a non-transitional PCI function (vendor 0x1af4, device 0x1040 + type,
// revision 1). One 64-bit memory BAR carries the common, ISR, device-config and
// notify structures plus the MSI-X table and PBA; vendor capabilities point
// the driver at them. Queue doorbells become ioeventfds served on the event
// loop; interrupts go out through MSI-X (irqfd per vector) or INTx + ISR.
//
// Every guest access (config space or BAR, any offset, any length) is
// bounds-checked; unknown or malformed writes are dropped.
// Thread-safety: vCPU threads access registers concurrently with the event
// loop delivering kicks and interrupts; `mu_` serialises register state.
// Writes with side effects beyond registers (status, kicks, device config,
// MSI-X, config space) run on the event loop thread (EventLoop::call), so
// activation, reset and irqfd set-up never run on a vCPU thread.
// Lock order: mu_ -> device's own lock -> interrupt state.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "vmm/devices/virtio/virtio_device.h"
#include "vmm/event/event_loop.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/msix.h"
#include "vmm/pci/pci_config_space.h"
#include "vmm/pci/pci_device.h"

namespace runvm::vmm::virtio {

// Device status bits (virtio 1.x 2.1).
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

inline constexpr uint16_t kVirtioPciVendor = 0x1af4;
inline constexpr uint16_t kVirtioPciDeviceBase = 0x1040;
inline constexpr uint16_t kMsixNoVector = 0xffff;

// virtio_pci_cap cfg_type values and our BAR 0 layout.
inline constexpr uint8_t kPciCapCommonCfg = 1;
inline constexpr uint8_t kPciCapNotifyCfg = 2;
inline constexpr uint8_t kPciCapIsrCfg = 3;
inline constexpr uint8_t kPciCapDeviceCfg = 4;
inline constexpr uint8_t kPciCapPciCfg = 5;
inline constexpr uint8_t kCapIdVendor = 0x09;
inline constexpr int kVirtioBar = 0;
inline constexpr uint64_t kBarSize = 0x10000;
inline constexpr uint64_t kCommonOffset = 0x0000;
inline constexpr uint64_t kCommonSize = 0x38;
inline constexpr uint64_t kIsrOffset = 0x1000;
inline constexpr uint64_t kDeviceCfgOffset = 0x2000;
inline constexpr uint64_t kDeviceCfgMax = 0x1000;
inline constexpr uint64_t kNotifyOffset = 0x3000;
inline constexpr uint32_t kNotifyMultiplier = 4;
inline constexpr uint64_t kMsixTableOffset = 0x8000;
inline constexpr uint64_t kMsixPbaOffset = 0xc000;
// One MSI-X vector per queue plus the config vector must fit the table
// (0x8000..0xc000, 16 bytes each) below the PBA: 1023 queues. (The notify
// area, 0x3000..0x4000, would take 1024.)
inline constexpr uint32_t kMaxQueues = (kMsixPbaOffset - kMsixTableOffset) / 16 - 1;

// Common configuration structure offsets (virtio 1.x 4.1.4.3).
namespace common {
inline constexpr uint32_t kDeviceFeatureSelect = 0x00;
inline constexpr uint32_t kDeviceFeature = 0x04;
inline constexpr uint32_t kDriverFeatureSelect = 0x08;
inline constexpr uint32_t kDriverFeature = 0x0c;
inline constexpr uint32_t kMsixConfig = 0x10;
inline constexpr uint32_t kNumQueues = 0x12;
inline constexpr uint32_t kDeviceStatus = 0x14;
inline constexpr uint32_t kConfigGeneration = 0x15;
inline constexpr uint32_t kQueueSelect = 0x16;
inline constexpr uint32_t kQueueSize = 0x18;
inline constexpr uint32_t kQueueMsixVector = 0x1a;
inline constexpr uint32_t kQueueEnable = 0x1c;
inline constexpr uint32_t kQueueNotifyOff = 0x1e;
inline constexpr uint32_t kQueueDesc = 0x20;
inline constexpr uint32_t kQueueDriver = 0x28;
inline constexpr uint32_t kQueueDevice = 0x30;
}  // namespace common

class VirtioPciInterrupt;

class VirtioPciDevice : public PciDevice {
 public:
  // `mem` and `loop` must outlive this object. `loop` may be null (tests):
  // doorbells then only arrive as BAR writes.
  VirtioPciDevice(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem, EventLoop* loop);
  ~VirtioPciDevice() override;

  std::string name() const override;
  std::vector<std::pair<int, PciBarRequest>> bar_requests() const override;
  void placed(std::span<const std::pair<int, uint64_t>> bar_addrs, int intx_gsi,
              PciVmServices* vm) override;
  void config_read(uint32_t offset, std::span<uint8_t> data) override;
  void config_write(uint32_t offset, std::span<const uint8_t> data) override;
  void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) override;
  void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) override;
  // Status and, per enabled queue, the ring indices as the guest sees them plus the
  // MSI-X vector's mask/pending bits: tells a request the device never completed
  // (avail != used) from a completion whose interrupt the guest never took.
  std::string debug_state() const override;
  [[nodiscard]] Status start_threads(const ThreadStartHook& on_start) override {
    return device_->start_threads(on_start);
  }
  // Snapshot: config space, transport registers, queue registers and the MSI-X table.
  // Restore re-activates a running device with its queues resumed from the used rings
  // (Queue::resume_from_used_ring), its doorbells and interrupt routes made anew.
  std::string snapshot_blocker() const override { return device_->snapshot_blocker(); }
  void save_state(snapshot::StateWriter& w) const override;
  [[nodiscard]] Status restore_state(snapshot::StateReader& r) override;

  // Test visibility.
  uint8_t status() const;
  bool activated() const { return activated_.load(); }
  VirtioDevice& device() { return *device_; }
  const pci::Msix& msix() const { return *msix_; }

 private:
  struct QueueRegs {
    uint16_t size = 0;
    uint16_t max_size = 0;
    uint16_t msix_vector = kMsixNoVector;
    bool enabled = false;
    uint64_t desc = 0, driver = 0, device = 0;
  };
  void build_config_space();
  // Whether [offset, offset+size) touches the pci_cfg_data window; if so, the
  // BAR offset and access length to use (len 0: malformed, drop it).
  bool pci_cfg_window(uint32_t offset, size_t size, uint64_t* bar_offset, size_t* len) const;
  void on_loop_thread(const std::function<void()>& fn);
  void config_write_here(uint32_t offset, std::span<const uint8_t> data);
  void bar_write_here(uint64_t offset, std::span<const uint8_t> data);
  void apply_config_write_locked(uint32_t offset, std::span<const uint8_t> data);
  void common_read(uint64_t offset, std::span<uint8_t> data);
  void common_write(uint64_t offset, std::span<const uint8_t> data);
  void set_status(uint8_t v);
  void reset_locked();
  void log_error(const std::string& msg);
  // `resume`: the queues continue from their used rings (a snapshot's restore).
  bool activate_locked(bool resume = false);
  void kick(uint16_t queue);
  void register_doorbells();
  void unregister_doorbells();

  std::shared_ptr<VirtioDevice> device_;
  const GuestMemory& mem_;
  EventLoop* loop_;
  uint32_t num_queues_ = 0;
  uint64_t offered_ = 0;  // device features plus the transport's own
  std::shared_ptr<pci::Msix> msix_;
  std::shared_ptr<VirtioPciInterrupt> interrupt_;

  mutable std::mutex mu_;  // guards everything below
  pci::ConfigSpace cfg_;
  uint64_t bar_addr_ = 0;
  PciVmServices* vm_ = nullptr;
  std::vector<int> doorbells_;  // eventfd per queue (-1 when not registered)
  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;
  uint8_t status_ = 0;
  uint8_t config_generation_ = 0;
  uint16_t queue_select_ = 0;
  std::vector<QueueRegs> queues_;
  std::atomic<bool> activated_{false};
  int logged_errors_ = 0;
  uint8_t pci_cfg_cap_ = 0;  // offset of the VIRTIO_PCI_CAP_PCI_CFG capability
};

}  // namespace runvm::vmm::virtio
