// The contract between a virtio device (rng, vsock, fs, ...) and the transport
// that carries it (virtio-pci). A device knows its queues and config space only;
// the transport owns registers, feature windows, status, interrupts and doorbells.
//
// Lifecycle: the transport calls read_config/write_config/ack_features at any
// time from vCPU threads; activate() once the driver sets DRIVER_OK; then
// queue_notify() for kicks (on the event loop thread, or a vCPU thread when a
// doorbell was not turned into an ioeventfd); reset() when the driver writes
// status 0 (after which activate() may come again). Implementations serialise
// their own state: these calls may come from different threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/devices/thread_start.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::virtio {

// Device type ids (virtio 1.x section 5).
inline constexpr uint32_t kDeviceTypeNet = 1;
inline constexpr uint32_t kDeviceTypeBlock = 2;
inline constexpr uint32_t kDeviceTypeConsole = 3;
inline constexpr uint32_t kDeviceTypeRng = 4;
inline constexpr uint32_t kDeviceType9p = 9;
inline constexpr uint32_t kDeviceTypeVsock = 19;
inline constexpr uint32_t kDeviceTypeFs = 26;

// Feature bits owned by the transport/core (virtio 1.x section 6).
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;
inline constexpr uint64_t kFeatureRingIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureRingEventIdx = 1ull << 29;

// How a device tells the driver something happened. Thread-safe; cheap to call.
class VirtioInterrupt {
 public:
  virtual ~VirtioInterrupt() = default;
  // Used-buffer notification for queue `index` (call after Queue::add_used,
  // when Queue::needs_notification() says so).
  virtual void notify_queue(uint16_t index) = 0;
  // Configuration-change notification.
  virtual void notify_config() = 0;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual std::string name() const = 0;
  virtual uint32_t device_type() const = 0;
  // Device-specific feature bits offered to the driver. The transport adds
  // VIRTIO_F_VERSION_1 and VIRTIO_RING_F_INDIRECT_DESC itself.
  virtual uint64_t device_features() const = 0;
  // The subset the driver accepted (called when it sets FEATURES_OK).
  virtual void ack_features(uint64_t /*features*/) {}

  // Maximum size of each queue; the number of entries is the queue count.
  virtual std::vector<uint16_t> queue_max_sizes() const = 0;

  // Device config space (virtio 1.x 4.1.4.6). Reads beyond config_size() are
  // not forwarded; implementations must still bounds-check offset+len.
  virtual uint32_t config_size() const = 0;
  virtual void read_config(uint32_t offset, std::span<uint8_t> data) = 0;
  virtual void write_config(uint32_t /*offset*/, std::span<const uint8_t> /*data*/) {}

  // Starts the device with the driver's queues (one per queue_max_sizes()
  // entry; a queue the driver did not enable is nullopt). `mem` outlives the
  // device. An error means the device cannot run with this setup; the
  // transport then sets DEVICE_NEEDS_RESET.
  [[nodiscard]] virtual Status activate(const GuestMemory& mem,
                                        std::vector<std::optional<Queue>> queues,
                                        std::shared_ptr<VirtioInterrupt> interrupt) = 0;
  // The driver kicked queue `index`. May arrive before activate() or after
  // reset() (a stale doorbell): ignore it then.
  virtual void queue_notify(uint16_t index) = 0;
  // Drops the queues and interrupt handed over by activate() and returns to the
  // initial state.
  virtual void reset() = 0;
  // Starts the device's own threads, if it has any, each running `on_start`
  // first (vmm/devices/thread_start.h). Called once, before the guest runs; a
  // device that was not asked starts them at its first activation (tests).
  [[nodiscard]] virtual Status start_threads(const ThreadStartHook& /*on_start*/) { return {}; }
  // Anything the device can tell about its work for a stuck-or-slow post-mortem (SIGUSR1,
  // vmm/main/README.md), on one line; "" for nothing.
  virtual std::string debug_state() const { return {}; }
  // Why the device's state cannot go into a snapshot now ("" when it can). The
  // transport saves queues as their used rings show them, so a device may be saved
  // only while it holds no chain it popped, and no session state (a FUSE session,
  // 9P fids, vsock connections) the guest relies on.
  virtual std::string snapshot_blocker() const { return {}; }
};

}  // namespace runvm::vmm::virtio
