// virtio-net device (virtio 1.x 5.1) backed by a host tap: rx queue 0, tx
// queue 1, no control queue, one queue pair. Frames and their 12-byte
// virtio_net_hdr_v1 pass between the rings and the tap unchanged (the tap is
// opened with IFF_VNET_HDR and a 12-byte vnet header); TX headers are
// validated first (net_header.h), RX headers get num_buffers.
//
// Bounds: at most kMaxPacketLen bytes per frame either way, at most one RX
// frame held in the VMM (when the guest posted too little room for it), and
// bounded work per kick or tap wake-up. When the rx queue has no buffers the
// tap is not read (its epoll registration asks for no events) until the
// driver kicks queue 0.
//
// EVENT_IDX: the guest kicks only when asked (Queue::arm_kick(), done before
// tx goes idle and before rx waits for buffers) and takes interrupts only past
// its used_event, which saves most exits on both queues.
//
// Threads: queue_notify() arrives on the event loop (ioeventfd) or a vCPU
// thread, the tap handler runs on the event loop thread; mu_ serialises all
// state. Lock order: transport -> mu_ -> the event loop's own lock.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "vmm/devices/virtio/net/net_header.h"
#include "vmm/devices/virtio/virtio_device.h"
#include "vmm/event/event_loop.h"

namespace runvm::vmm::virtio {

class VirtioNet : public VirtioDevice, public std::enable_shared_from_this<VirtioNet> {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  // mac[6], status, max_virtqueue_pairs, mtu (virtio 1.x 5.1.4).
  static constexpr uint32_t kConfigSize = 12;
  static constexpr uint16_t kMinMtu = 68;
  static constexpr uint64_t kFeatures = net::kFCsum | net::kFGuestCsum | net::kFMtu | net::kFMac |
                                        net::kFGuestTso4 | net::kFGuestTso6 | net::kFHostTso4 |
                                        net::kFHostTso6 | net::kFMrgRxbuf | net::kFStatus |
                                        kFeatureRingEventIdx;
  // Chains served per tx kick and frames per rx wake-up, so one busy queue
  // cannot hold the event loop: tx resumes through tx_resume_ (with EVENT_IDX
  // the guest does not kick for chains it already published), rx because epoll
  // is level-triggered.
  static constexpr size_t kTxBudget = 2 * kQueueSize;
  static constexpr size_t kRxBudget = kQueueSize;

  struct Stats {
    uint64_t tx_frames = 0;       // written to the tap
    uint64_t tx_dropped = 0;      // malformed, rejected header, or tap error / back-pressure
    uint64_t rx_frames = 0;       // delivered to the guest
    uint64_t rx_dropped = 0;      // did not fit the guest's chain, or shorter than a header
    uint64_t rx_bad_buffers = 0;  // rx chains with room for no header (returned empty)
  };

  // Takes `tap`: a tap fd as described above, or any fd that keeps packet
  // boundaries (tests use a SOCK_SEQPACKET socket). `mtu` in [kMinMtu, 65535]
  // goes to the guest through config.mtu (VIRTIO_NET_F_MTU); 0 offers no MTU.
  // `loop` must outlive the device.
  [[nodiscard]] static Result<std::shared_ptr<VirtioNet>> create(UniqueFd tap,
                                                                 std::array<uint8_t, 6> mac,
                                                                 uint16_t mtu, EventLoop& loop);
  ~VirtioNet() override;

  std::string name() const override { return "net"; }
  uint32_t device_type() const override { return kDeviceTypeNet; }
  uint64_t device_features() const override { return mtu_ ? kFeatures : kFeatures & ~net::kFMtu; }
  // Sets the tap's offloads (TUNSETOFFLOAD) to what the driver can receive.
  void ack_features(uint64_t features) override;
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize, kQueueSize}; }
  uint32_t config_size() const override { return kConfigSize; }
  void read_config(uint32_t offset, std::span<uint8_t> data) override;
  [[nodiscard]] Status activate(const GuestMemory& mem, std::vector<std::optional<Queue>> queues,
                                std::shared_ptr<VirtioInterrupt> interrupt) override;
  void queue_notify(uint16_t index) override;
  // Also turns the tap's offloads off until the next driver acks features.
  void reset() override;
  // No snapshot_blocker(): receive buffers held in rx_chains_ are empty guest buffers,
  // popped in order after every used one, so a restore that resumes from the used ring
  // simply pops them again; transmits complete before the kick returns.

  // Test visibility.
  Stats stats();
  bool rx_frame_pending();  // a frame read from the tap waits for guest buffers
  // The epoll events the tap is registered for, or kNotWatched.
  static constexpr uint32_t kNotWatched = ~0u;
  uint32_t tap_events();

 private:
  enum class RxStep { Progress, NoBuffers, TapEmpty };

  VirtioNet(UniqueFd tap, UniqueFd tx_resume, std::array<uint8_t, 6> mac, uint16_t mtu,
            EventLoop& loop);
  void on_tap_event(uint32_t events);
  [[nodiscard]] bool add_watch_locked(uint32_t events);
  // Registers for EPOLLIN, or for nothing while the guest has no rx buffers.
  void watch_locked(bool want_input);
  void unwatch_locked();
  // To stderr; per-frame messages stop after a few, `always` ones (at most
  // once per negotiation or per tap failure) never do.
  void log_locked(const std::string& msg, bool always = false);
  void apply_tap_offloads_locked();  // TUNSETOFFLOAD from acked_

  void process_tx_locked();
  void on_tx_resume();
  void send_frame_locked(const DescriptorChain& chain);

  void process_rx_locked();
  RxStep rx_step_locked();
  void take_rx_chains_locked(uint64_t want_room);
  bool read_tap_locked(const std::vector<iovec>& iov, size_t* n);
  void complete_rx_locked(size_t len);
  bool deliver_pending_locked();

  const UniqueFd tap_;
  // An eventfd on the event loop: tx work left over after kTxBudget.
  const UniqueFd tx_resume_;
  bool tap_is_socket_ = false;  // set once by create(): send with MSG_NOSIGNAL
  const std::array<uint8_t, 6> mac_;
  const uint16_t mtu_;
  EventLoop& loop_;

  std::mutex mu_;
  uint64_t acked_ = 0;                          // GUARDED_BY(mu_)
  std::optional<Queue> rx_, tx_;                // GUARDED_BY(mu_)
  std::shared_ptr<VirtioInterrupt> interrupt_;  // GUARDED_BY(mu_)
  // RX chains popped but not yet used, oldest first, and their total room.
  std::deque<DescriptorChain> rx_chains_;  // GUARDED_BY(mu_)
  uint64_t rx_room_ = 0;                   // GUARDED_BY(mu_)
  // The one frame read from the tap into host memory that waits for room.
  std::vector<uint8_t> rx_frame_;  // GUARDED_BY(mu_); kMaxPacketLen bytes
  size_t rx_pending_ = 0;          // GUARDED_BY(mu_); 0: none
  std::vector<uint8_t> tx_copy_;   // GUARDED_BY(mu_); for chains beyond IOV_MAX
  bool watched_ = false;           // GUARDED_BY(mu_)
  bool resume_watched_ = false;    // GUARDED_BY(mu_); tx_resume_ is on the loop
  uint32_t watched_events_ = 0;    // GUARDED_BY(mu_)
  bool tap_hup_ = false;           // GUARDED_BY(mu_); peer gone: never leave it registered idle
  bool tap_dead_ = false;          // GUARDED_BY(mu_); EOF or a fatal read error: stop reading
  Stats stats_;                    // GUARDED_BY(mu_)
  int logged_ = 0;                 // GUARDED_BY(mu_)
};

}  // namespace runvm::vmm::virtio
