// The request-worker fuzzers' common part (fs_workers_fuzzer: virtio-fs,
// p9_workers_fuzzer: virtio-9p): a device with its multi-threaded request
// workers, driven as a guest driver drives it. Requests (messages from the
// input) are laid out as descriptor chains in guest memory, the request split
// over one or two readable buffers and the reply room over one or two writable
// ones, some with hostile layouts (no room, a reply buffer on top of its own
// request, an address past guest memory); kicks come at any point, and the
// device is reset and re-activated while requests are in flight (a driver that
// reloads).
// Checked: every used entry names a chain that was posted and not yet used in
// this activation, with a length within its writable room; nothing outside the
// share changes; when the device is gone no fd of it is left open.
//
// `Device` supplies: kQueues (<= 2), kQueueSize, make() (the device over
// share_top()/share), first() (the driver's first request and its queue) and
// clamp() (keeps the host disk safe from a write far into a file).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "tests/fuzz/fuzz_input.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/fs/fuzz/sentinel_share.h"
#include "vmm/devices/virtio/virtio_device.h"

namespace runvm::fuzz {

template <class Device>
class WorkersHarness {
 public:
  using Buf = vmm::virtio::testing::Buf;
  using DriverQueue = vmm::virtio::testing::DriverQueue;
  using TestGuest = vmm::virtio::testing::TestGuest;
  static_assert(Device::kQueues >= 1 && Device::kQueues <= 2);

  // Rings much larger than what may be outstanding (16 chains of <= 4 buffers), so the
  // driver side never rewrites a descriptor the device may still be reading.
  static constexpr uint16_t kRing = 256;
  static constexpr size_t kMaxOutstanding = 16;
  static constexpr uint32_t kNumSlots = 64;
  static constexpr uint32_t kSlot = 16 * 1024;  // one request + reply area
  static constexpr uint64_t kRings = TestGuest::kBase, kSlots = kRings + 0x8000;
  static constexpr size_t kGuestBytes = 0x8000 + size_t{kNumSlots} * kSlot + 0x40000;

  WorkersHarness() : g_(kGuestBytes), dev_(Device::make()) { FUZZ_CHECK(dev_ != nullptr); }
  ~WorkersHarness() { reset(); }

  void activate() {
    if (active_) return;
    std::memset(g_.host(kRings), 0, kSlots - kRings);
    posted_.clear();
    outstanding_ = 0;
    std::vector<std::optional<vmm::virtio::Queue>> qs;
    for (int i = 0; i < Device::kQueues; ++i) {
      q_[i].emplace(g_, kRing, kRings + 0x4000 * static_cast<uint64_t>(i));
      auto made = vmm::virtio::Queue::create(g_.mem(), q_[i]->config(), Device::kQueueSize);
      FUZZ_CHECK(made.ok());
      qs.emplace_back(std::move(*made));
    }
    FUZZ_CHECK(dev_->activate(g_.mem(), std::move(qs),
                              std::make_shared<vmm::virtio::testing::NullInterrupt>())
                   .ok());
    active_ = true;
    auto [msg, queue] = Device::first();
    post(std::move(msg), queue, 4096, false);
    kick(queue);
  }

  // Stops the workers' session (in-flight requests finish first) and drops the queues.
  void reset() {
    if (!active_) return;
    dev_->reset();
    drain();  // what the workers finished before the reset is in the used ring
    active_ = false;
  }

  // Lays `msg` out in the next slot; layout bits choose scatter and hostile cases.
  void post(std::vector<uint8_t> msg, uint8_t queue, uint32_t room, bool hostile_layout,
            uint8_t layout = 0) {
    if (!active_ || outstanding_ >= kMaxOutstanding) return;
    queue %= Device::kQueues;
    Device::clamp(msg);
    msg.resize(std::min<size_t>(msg.size(), kSlot / 2));
    const uint64_t slot = kSlots + uint64_t{next_slot_++ % kNumSlots} * kSlot;
    if (!msg.empty()) std::memcpy(g_.host(slot), msg.data(), msg.size());
    const uint32_t len = static_cast<uint32_t>(msg.size());
    room = std::min(room, kSlot / 2);
    const uint64_t reply = slot + kSlot / 2;
    std::vector<Buf> bufs;
    if ((layout & 1) && len > 16) {
      bufs.push_back({slot, 16, false});
      bufs.push_back({slot + 16, len - 16, false});
    } else {
      bufs.push_back({slot, len, false});
    }
    uint32_t writable = room;
    if (hostile_layout && (layout & 6) == 2) {
      bufs.push_back({slot, room, true});  // the reply on top of its own request
    } else if (hostile_layout && (layout & 6) == 4) {
      bufs.push_back({g_.end() + 4096, room, true});  // past guest memory
    } else if ((layout & 8) && room > 64) {
      bufs.push_back({reply, 40, true});
      bufs.push_back({reply + 40, room - 40, true});
    } else if (room > 0) {
      bufs.push_back({reply, room, true});
    }
    uint16_t head = q_[queue]->add_chain(bufs);
    posted_[{queue, head}] = writable;
    ++outstanding_;
  }

  void kick(uint8_t queue) {
    if (active_) dev_->queue_notify(queue % Device::kQueues);
  }

  // Takes used entries from every ring and checks each.
  void drain() {
    if (!active_) return;
    for (uint8_t qi = 0; qi < Device::kQueues; ++qi) {
      while (auto used = q_[qi]->take_used()) {
        auto it = posted_.find({qi, static_cast<uint16_t>(used->first)});
        FUZZ_CHECK(it != posted_.end());  // posted, and used once
        FUZZ_CHECK(used->second <= it->second);
        posted_.erase(it);
        --outstanding_;
      }
    }
  }
  // Gives the workers a moment, as a guest would wait for a reply.
  void wait_a_little() {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    drain();
  }

 private:
  TestGuest g_;
  std::shared_ptr<vmm::virtio::VirtioDevice> dev_;
  std::array<std::optional<DriverQueue>, 2> q_;
  std::map<std::pair<uint8_t, uint16_t>, uint32_t> posted_;
  size_t outstanding_ = 0;
  uint32_t next_slot_ = 0;
  bool active_ = false;
};

// One fuzz input. Ops, each [op byte][...]: post a message ([le16 len][bytes],
// queue, room, layout), kick, wait, reset, re-activate.
template <class Device>
int run_workers_input(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  make_share_tree();
  const size_t fds_before = open_fd_count();
  {
    WorkersHarness<Device> h;
    h.activate();
    for (int steps = 0; !in.empty() && steps < 128; ++steps) {
      switch (in.u8() % 6) {
        case 0:
        case 1: {
          size_t n = in.u16() % 2048;
          std::vector<uint8_t> msg(n);
          for (auto& b : msg) b = in.u8();
          const uint8_t queue = in.u8() & 1;
          const uint32_t room = (in.u8() & 3) ? 4096 : in.u8();
          const uint8_t layout = in.u8();
          h.post(std::move(msg), queue, room, layout & 0x80, layout);
          break;
        }
        case 2:
          h.kick(in.u8() & 1);
          break;
        case 3:
          h.wait_a_little();
          break;
        case 4:
          h.reset();
          break;
        case 5:
          h.activate();
          break;
      }
      h.drain();
    }
  }
  FUZZ_CHECK(open_fd_count() == fds_before);
  // Containment: the directory beside the share is as it was.
  FUZZ_CHECK(outside_untouched());
  return 0;
}

}  // namespace runvm::fuzz
