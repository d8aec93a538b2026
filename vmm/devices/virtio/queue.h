// Split virtqueue (virtio 1.x section 2.7) as seen by the device.
//
// Everything in the rings is guest-controlled and hostile: every index, address
// and length read from guest memory is validated before use, descriptor walks
// are bounded by the queue size, and a malformed chain fails only that request
// (it is returned to the guest as used with length 0). Descriptors are copied
// out of guest memory once, so later guest writes cannot change a chain we
// already validated.
//
// Thread-safety: a Queue is used by one thread at a time (the device serialises).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::virtio {

// Ring layout constants (virtio 1.x 2.7.5 - 2.7.8).
inline constexpr uint16_t kDescFNext = 1;
inline constexpr uint16_t kDescFWrite = 2;
inline constexpr uint16_t kDescFIndirect = 4;
inline constexpr uint16_t kAvailFNoInterrupt = 1;
inline constexpr uint16_t kMaxQueueSize = 32768;

// One guest buffer of a chain, already checked to lie inside guest memory.
struct ChainBuffer {
  uint64_t gpa = 0;
  uint32_t len = 0;
  uint8_t* host = nullptr;  // translate(gpa, len); valid while guest memory lives
  bool writable = false;
};

// A validated descriptor chain popped from the avail ring. Move-only: it stands
// for a buffer the guest lent us and must be handed back with Queue::add_used.
// Readable buffers all come before writable ones (enforced when popped).
class DescriptorChain {
 public:
  DescriptorChain(DescriptorChain&&) noexcept = default;
  DescriptorChain& operator=(DescriptorChain&&) noexcept = default;
  DescriptorChain(const DescriptorChain&) = delete;
  DescriptorChain& operator=(const DescriptorChain&) = delete;

  uint16_t head() const { return head_; }
  const std::vector<ChainBuffer>& buffers() const { return buffers_; }
  std::span<const ChainBuffer> readable() const;
  std::span<const ChainBuffer> writable() const;
  uint64_t readable_len() const { return readable_len_; }
  uint64_t writable_len() const { return writable_len_; }

 private:
  friend class Queue;
  DescriptorChain() = default;
  uint16_t head_ = 0;
  size_t first_writable_ = 0;  // index into buffers_
  uint64_t readable_len_ = 0;
  uint64_t writable_len_ = 0;
  std::vector<ChainBuffer> buffers_;
};

// Guest-programmed queue registers, as the transport collected them.
struct QueueConfig {
  uint16_t size = 0;
  uint64_t desc_addr = 0;
  uint64_t avail_addr = 0;
  uint64_t used_addr = 0;
};

class Queue {
 public:
  // Validates the layout: size a power of two in [1, max_size], rings aligned
  // (desc 16, avail 2, used 4) and each ring wholly inside guest memory.
  // `mem` must outlive the queue.
  [[nodiscard]] static Result<Queue> create(const GuestMemory& mem, const QueueConfig& cfg,
                                            uint16_t max_size);

  Queue(Queue&&) noexcept = default;
  Queue& operator=(Queue&&) noexcept = default;

  uint16_t size() const { return size_; }

  // Next available chain, or nullopt when the ring is empty or the queue is
  // broken (see broken()). A malformed chain is returned to the guest as used
  // with length 0, counted in malformed_chains(), and skipped.
  std::optional<DescriptorChain> pop();
  // Gives the guest back a chain with `len` bytes written into its buffers.
  // len is clamped to the chain's writable length.
  void add_used(DescriptorChain&& chain, uint32_t len);
  // Like add_used, but the driver does not see the element until
  // publish_used(): a device that returns several chains for one message
  // (virtio-net's mergeable rx buffers, whose first header counts the others)
  // must make them visible together, or a polling driver can find the first
  // without the rest. Call publish_used() before needs_notification().
  void add_used_deferred(DescriptorChain&& chain, uint32_t len);
  // Makes every element added so far visible to the driver (used->idx).
  void publish_used();
  // Returns the head of an unconsumed chain to the avail side (peek-and-put-back
  // for devices that find they cannot serve it yet).
  void undo_pop(DescriptorChain&& chain);

  // True when the driver wants an interrupt for what was added since the last
  // call: VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX the driver's used_event.
  bool needs_notification();
  // VIRTIO_F_EVENT_IDX was negotiated (the transport calls this before activate).
  // Then the driver kicks only when avail->idx passes the avail_event we publish,
  // so a device about to wait for a kick must call arm_kick() first.
  void enable_event_idx() { event_idx_ = true; }
  bool event_idx() const { return event_idx_; }
  // Asks the driver to kick for the next chain it adds (avail_event = avail->idx).
  // Returns true when chains arrived meanwhile: the caller must look again
  // instead of waiting. Without EVENT_IDX the driver kicks anyway: false.
  [[nodiscard]] bool arm_kick();
  // After a snapshot's restore: the device held no chain when it was saved, so it had
  // consumed exactly what it returned; both indices continue from used->idx.
  void resume_from_used_ring();
  // True if any chain is waiting in the avail ring.
  bool has_available() const;

  // The guest moved avail->idx more than size entries ahead: an impossible
  // state. The queue stops serving (until the device is reset).
  bool broken() const { return broken_; }
  const std::string& last_error() const { return last_error_; }
  uint64_t malformed_chains() const { return malformed_; }
  uint16_t next_avail() const { return next_avail_; }
  uint16_t next_used() const { return next_used_; }

 private:
  Queue() = default;
  bool walk(uint16_t head, DescriptorChain* out, std::string* error) const;
  bool read_desc(uint64_t table_gpa, uint32_t table_len, uint16_t index, struct VirtqDesc* d) const;
  void write_used(uint16_t id, uint32_t len, bool publish = true);
  uint16_t avail_idx_acquire() const;
  uint16_t avail_flags() const;

  const GuestMemory* mem_ = nullptr;
  uint16_t size_ = 0;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
  uint16_t signalled_used_ = 0;  // next_used_ at the last needs_notification()
  bool event_idx_ = false;
  bool broken_ = false;
  uint64_t malformed_ = 0;
  std::string last_error_;
};

}  // namespace runvm::vmm::virtio
