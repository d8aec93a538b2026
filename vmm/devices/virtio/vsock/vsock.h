// virtio-vsock device (virtio 1.x 5.10), served in userspace: queues rx (0),
// tx (1) and event (2); config space is the guest CID. Packets are validated
// (packet.h) and bridged to host unix sockets by the Muxer (muxer.h). All
// socket I/O happens on the event loop thread; kicks may also arrive from
// vCPU threads. One mutex serialises the device.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "vmm/devices/virtio/virtio_device.h"
#include "vmm/devices/virtio/vsock/muxer.h"
#include "vmm/event/event_loop.h"

namespace runvm::vmm::virtio {

class VirtioVsock : public VirtioDevice,
                    public std::enable_shared_from_this<VirtioVsock>,
                    private vsock::FdWatcher {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  static constexpr uint16_t kEventQueue = 2;

  // Listens on `uds_path` right away (host clients may connect before the
  // guest driver is up). `loop` must outlive the device.
  [[nodiscard]] static Result<std::shared_ptr<VirtioVsock>> create(uint64_t guest_cid,
                                                                   std::string uds_path,
                                                                   EventLoop& loop);
  ~VirtioVsock() override;

  std::string name() const override { return "vsock"; }
  uint32_t device_type() const override { return kDeviceTypeVsock; }
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override {
    return {kQueueSize, kQueueSize, kQueueSize};
  }
  uint32_t config_size() const override { return 8; }
  void read_config(uint32_t offset, std::span<uint8_t> data) override;
  [[nodiscard]] Status activate(const GuestMemory& mem, std::vector<std::optional<Queue>> queues,
                                std::shared_ptr<VirtioInterrupt> interrupt) override;
  void queue_notify(uint16_t index) override;
  void reset() override;
  // Open connections: their peers are this VM's host sockets.
  std::string snapshot_blocker() const override;

  // Test visibility.
  size_t connection_count();
  uint64_t rejected_packets();

 private:
  VirtioVsock(uint64_t guest_cid, std::string uds_path, EventLoop& loop);
  void watch(int fd, uint32_t events) override;
  void on_event(int fd, uint32_t events);
  void on_timer();
  void update_timer_locked();
  void process_tx_locked();
  void process_rx_locked();

  uint64_t guest_cid_;
  EventLoop& loop_;
  mutable std::mutex mu_;
  vsock::Muxer muxer_;
  std::unordered_map<int, uint32_t> watched_;  // fd -> registered epoll events
  int timer_fd_ = -1;
  bool timer_armed_ = false;
  std::optional<Queue> rx_, tx_, event_;
  std::shared_ptr<VirtioInterrupt> interrupt_;
  uint64_t rejected_ = 0;
};

}  // namespace runvm::vmm::virtio
