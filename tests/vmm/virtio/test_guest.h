// Test doubles for virtio unit tests: a small guest memory backed by a heap
// buffer, a driver-side split virtqueue that lays out rings and chains the
// way a guest driver would (including deliberately malformed ones), an
// interrupt that drops every notification, and wait_for().
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/virtio_device.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::virtio::testing {

class TestGuest {
 public:
  static constexpr uint64_t kBase = 0x100000;  // guest physical start of the region

  explicit TestGuest(size_t size = 1 << 20)
      : storage_(size / 8),
        mem_(GuestMemory::from_regions(
            {MemoryRegion{kBase, size, reinterpret_cast<uint8_t*>(storage_.data())}})),
        next_(kBase + 0x40000) {}

  const GuestMemory& mem() const { return mem_; }
  uint64_t end() const { return kBase + storage_.size() * 8; }
  uint8_t* host(uint64_t gpa) { return mem_.translate(gpa, 1); }

  template <typename T>
  void put(uint64_t gpa, T v) {
    std::memcpy(host(gpa), &v, sizeof v);
  }
  template <typename T>
  T get(uint64_t gpa) {
    T v;
    std::memcpy(&v, host(gpa), sizeof v);
    return v;
  }
  // Bump allocator for data buffers above the ring area.
  uint64_t alloc(size_t len, size_t align = 16) {
    next_ = (next_ + align - 1) / align * align;
    uint64_t at = next_;
    next_ += len;
    return at;
  }
  void fill(uint64_t gpa, std::span<const uint8_t> bytes) {
    std::memcpy(host(gpa), bytes.data(), bytes.size());
  }

 private:
  std::vector<uint64_t> storage_;  // uint64_t keeps the mapping 8-byte aligned
  GuestMemory mem_;
  uint64_t next_;
};

struct Buf {
  uint64_t addr;
  uint32_t len;
  bool writable;
};

// The driver's view of one split virtqueue.
class DriverQueue {
 public:
  DriverQueue(TestGuest& g, uint16_t size, uint64_t base)
      : g_(g),
        size_(size),
        desc_(base),
        avail_(base + 16ull * size),
        used_((avail_ + 6 + 2ull * size + 3) / 4 * 4) {}

  QueueConfig config() const { return QueueConfig{size_, desc_, avail_, used_}; }
  uint16_t size() const { return size_; }

  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    uint64_t at = desc_ + 16ull * i;
    g_.put<uint64_t>(at, addr);
    g_.put<uint32_t>(at + 8, len);
    g_.put<uint16_t>(at + 12, flags);
    g_.put<uint16_t>(at + 14, next);
  }
  // Writes a raw descriptor into an indirect table.
  void set_table_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                      uint16_t next) {
    uint64_t at = table + 16ull * i;
    g_.put<uint64_t>(at, addr);
    g_.put<uint32_t>(at + 8, len);
    g_.put<uint16_t>(at + 12, flags);
    g_.put<uint16_t>(at + 14, next);
  }
  // Publishes `head` in the avail ring.
  void publish(uint16_t head) {
    g_.put<uint16_t>(avail_ + 4 + 2ull * (avail_idx_ % size_), head);
    ++avail_idx_;
    g_.put<uint16_t>(avail_ + 2, avail_idx_);
  }
  void set_avail_idx(uint16_t idx) {
    avail_idx_ = idx;
    g_.put<uint16_t>(avail_ + 2, idx);
  }
  void set_avail_flags(uint16_t f) { g_.put<uint16_t>(avail_, f); }
  // Builds a chain in free descriptors and publishes it; returns the head.
  uint16_t add_chain(const std::vector<Buf>& bufs) {
    uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      uint16_t idx = static_cast<uint16_t>((head + i) % size_);
      uint16_t flags = bufs[i].writable ? kDescFWrite : 0;
      if (i + 1 < bufs.size()) flags |= kDescFNext;
      set_desc(idx, bufs[i].addr, bufs[i].len, flags, static_cast<uint16_t>((idx + 1) % size_));
    }
    next_desc_ = static_cast<uint16_t>((head + bufs.size()) % size_);
    publish(head);
    return head;
  }
  uint16_t used_idx() { return g_.get<uint16_t>(used_ + 2); }
  uint16_t avail_idx() const { return avail_idx_; }
  // EVENT_IDX fields: the driver's used_event (after the avail ring) and the
  // device's avail_event (after the used ring).
  void set_used_event(uint16_t v) { g_.put<uint16_t>(avail_ + 4 + 2ull * size_, v); }
  uint16_t avail_event() { return g_.get<uint16_t>(used_ + 4 + 8ull * size_); }
  // What a driver with EVENT_IDX decides after publishing from old_idx on
  // (vring_need_event): kick when avail_event is in [old_idx, avail_idx).
  bool would_kick(uint16_t old_idx) {
    return static_cast<uint16_t>(avail_idx_ - avail_event() - 1) <
           static_cast<uint16_t>(avail_idx_ - old_idx);
  }
  // Next used element (id, len) not yet seen by this driver.
  std::optional<std::pair<uint32_t, uint32_t>> take_used() {
    if (used_idx() == seen_used_) return std::nullopt;
    uint64_t at = used_ + 4 + 8ull * (seen_used_ % size_);
    ++seen_used_;
    return std::make_pair(g_.get<uint32_t>(at), g_.get<uint32_t>(at + 4));
  }

 private:
  TestGuest& g_;
  uint16_t size_;
  uint64_t desc_, avail_, used_;
  uint16_t avail_idx_ = 0;
  uint16_t next_desc_ = 0;
  uint16_t seen_used_ = 0;
};

// Polls `pred` every millisecond for up to `ms`: for results a device thread delivers.
template <typename F>
bool wait_for(F pred, int ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

// For a harness that reads the used rings itself (the fuzzers).
class NullInterrupt : public VirtioInterrupt {
 public:
  void notify_queue(uint16_t) override {}
  void notify_config() override {}
};

}  // namespace runvm::vmm::virtio::testing
