// virtio-rng (virtio 1.x 5.4): one request queue; every writable buffer the
// driver posts is filled from the host kernel's CSPRNG (getrandom).
#pragma once

#include <mutex>

#include "vmm/devices/virtio/virtio_device.h"

namespace runvm::vmm::virtio {

class VirtioRng : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // Upper bound on bytes served per chain, so one huge request cannot stall
  // the event loop; the driver simply asks again.
  static constexpr size_t kMaxBytesPerRequest = 64 * 1024;

  std::string name() const override { return "rng"; }
  uint32_t device_type() const override { return kDeviceTypeRng; }
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize}; }
  uint32_t config_size() const override { return 0; }
  void read_config(uint32_t, std::span<uint8_t> data) override;
  [[nodiscard]] Status activate(const GuestMemory& mem, std::vector<std::optional<Queue>> queues,
                                std::shared_ptr<VirtioInterrupt> interrupt) override;
  void queue_notify(uint16_t index) override;
  void reset() override;

 private:
  std::mutex mu_;
  std::optional<Queue> queue_;
  std::shared_ptr<VirtioInterrupt> interrupt_;
};

}  // namespace runvm::vmm::virtio
