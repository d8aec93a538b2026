// libFuzzer target: the virtio-fs device with its multi-threaded request
// workers, as a guest driver drives it. Requests (FUSE messages from the input)
// are laid out as descriptor chains in guest memory, the request split over one
// or two readable buffers and the reply room over one or two writable ones, some
// with hostile layouts (no room, a reply buffer on top of its own request, an
// address past guest memory); kicks come at any point, and the device is reset
// and re-activated while requests are in flight (a driver that reloads).
// Checked: every used entry names a chain that was posted and not yet used in
// this activation, with a length within its writable room; nothing outside the
// share changes; when the device is gone no fd of it is left open.
#include <linux/fuse.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#define FUZZ_TARGET "fs_workers_fuzzer"
#include "base/proc_self.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/fs/fuzz/sentinel_share.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/virtio_fs.h"

namespace {

using namespace runvm::vmm::virtio;
using runvm::vmm::virtio::testing::Buf;
using runvm::vmm::virtio::testing::DriverQueue;
using runvm::vmm::virtio::testing::NullInterrupt;
using runvm::vmm::virtio::testing::TestGuest;

// Rings much larger than what may be outstanding (16 chains of <= 4 buffers), so the
// driver side never rewrites a descriptor the device may still be reading.
constexpr uint16_t kRing = 256;
constexpr size_t kMaxOutstanding = 16;
constexpr uint32_t kNumSlots = 64;
constexpr uint32_t kSlot = 16 * 1024;  // one request + reply area
constexpr uint64_t kHiRing = TestGuest::kBase, kReqRing = kHiRing + 0x4000,
                   kSlots = kReqRing + 0x4000;
constexpr size_t kGuestBytes = 0x8000 + size_t{kNumSlots} * kSlot + 0x40000;

// Keeps the host disk safe from a fuzzed FALLOCATE or WRITE far into a file.
void clamp(std::vector<uint8_t>& msg) {
  fuse_in_header h;
  if (msg.size() < sizeof h) return;
  std::memcpy(&h, msg.data(), sizeof h);
  if (h.opcode == FUSE_FALLOCATE && msg.size() >= sizeof h + sizeof(fuse_fallocate_in)) {
    fuse_fallocate_in in;
    std::memcpy(&in, msg.data() + sizeof h, sizeof in);
    in.offset &= 0xfffff;
    in.length &= 0xfffff;
    std::memcpy(msg.data() + sizeof h, &in, sizeof in);
  }
  if (h.opcode == FUSE_WRITE && msg.size() >= sizeof h + sizeof(fuse_write_in)) {
    fuse_write_in in;
    std::memcpy(&in, msg.data() + sizeof h, sizeof in);
    in.offset &= 0xfffff;
    std::memcpy(msg.data() + sizeof h, &in, sizeof in);
  }
}

class Harness {
 public:
  Harness() : g_(kGuestBytes) {
    // Served as runvm serves a container's rootfs: cache=always with writeback.
    fs::PassthroughOptions po;
    po.content = fs::ShareContent::ContainerRoot;
    po.timeout_ns = fs::CachePolicy{fs::CacheMode::Always, true}.timeout_ns();
    po.writeback = true;
    auto pfs = fs::PassthroughFs::create(runvm::fuzz::share_top() + "/share", po);
    FUZZ_CHECK(pfs.ok());
    fs::FuseServerOptions so;
    so.cache = {fs::CacheMode::Always, true};
    auto dev = fs::VirtioFs::create("fz", *pfs, 3, so);
    FUZZ_CHECK(dev.ok());
    dev_ = *dev;
  }
  ~Harness() { reset(); }

  void activate() {
    if (active_) return;
    std::memset(g_.host(kHiRing), 0, kSlots - kHiRing);
    hi_.emplace(g_, kRing, kHiRing);
    req_.emplace(g_, kRing, kReqRing);
    posted_.clear();
    outstanding_ = 0;
    std::vector<std::optional<Queue>> qs;
    for (auto* q : {&*hi_, &*req_}) {
      auto made = Queue::create(g_.mem(), q->config(), fs::VirtioFs::kQueueSize);
      FUZZ_CHECK(made.ok());
      qs.emplace_back(std::move(*made));
    }
    FUZZ_CHECK(dev_->activate(g_.mem(), std::move(qs), std::make_shared<NullInterrupt>()).ok());
    active_ = true;
    // A driver's first request is INIT.
    fuse_init_in init{};
    init.major = FUSE_KERNEL_VERSION;
    init.minor = FUSE_KERNEL_MINOR_VERSION;
    init.max_readahead = 1 << 16;
    post(request(FUSE_INIT, 0, &init, sizeof init), 1, 4096, false);
    kick(1);
  }

  // Stops the workers (in-flight requests finish first) and drops the queues.
  void reset() {
    if (!active_) return;
    dev_->reset();
    drain();  // what the workers finished before the reset is in the used ring
    active_ = false;
  }

  static std::vector<uint8_t> request(uint32_t opcode, uint64_t node, const void* body, size_t n) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof h + n);
    h.opcode = opcode;
    h.unique = 1;
    h.nodeid = node;
    std::vector<uint8_t> m(sizeof h + n);
    std::memcpy(m.data(), &h, sizeof h);
    if (n) std::memcpy(m.data() + sizeof h, body, n);
    return m;
  }

  // Lays `msg` out in the next slot; layout bits choose scatter and hostile cases.
  void post(std::vector<uint8_t> msg, uint8_t queue, uint32_t room, bool hostile_layout,
            uint8_t layout = 0) {
    if (!active_ || outstanding_ >= kMaxOutstanding) return;
    clamp(msg);
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
    DriverQueue& q = queue == 0 ? *hi_ : *req_;
    uint16_t head = q.add_chain(bufs);
    posted_[{queue, head}] = writable;
    ++outstanding_;
  }

  void kick(uint8_t queue) {
    if (active_) dev_->queue_notify(queue);
  }

  // Takes used entries from both rings and checks each.
  void drain() {
    if (!active_) return;
    for (uint8_t qi = 0; qi < 2; ++qi) {
      DriverQueue& q = qi == 0 ? *hi_ : *req_;
      while (auto used = q.take_used()) {
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
  std::shared_ptr<fs::VirtioFs> dev_;
  std::optional<DriverQueue> hi_, req_;
  std::map<std::pair<uint8_t, uint16_t>, uint32_t> posted_;
  size_t outstanding_ = 0;
  uint32_t next_slot_ = 0;
  bool active_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  runvm::fuzz::make_share_top("fsworkers-fuzz");
  // Opened once per process and kept (base/proc_self.h): not a per-device fd.
  (void)runvm::proc_self_dir();
  return 0;
}

// Input: ops, each [op byte][...]: post a message ([le16 len][bytes], queue,
// room, layout), kick, wait, reset, re-activate.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runvm::fuzz::FuzzInput in(data, size);
  runvm::fuzz::make_share_tree();
  const size_t fds_before = runvm::fuzz::open_fd_count();
  {
    Harness h;
    h.activate();
    for (int steps = 0; !in.empty() && steps < 128; ++steps) {
      switch (in.u8() % 6) {
        case 0:
        case 1: {
          size_t n = in.u16() % 2048;
          std::vector<uint8_t> msg(n);
          for (auto& b : msg) b = in.u8();
          const uint8_t queue = in.u8() & 1 ? 1 : 0;
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
  FUZZ_CHECK(runvm::fuzz::open_fd_count() == fds_before);
  // Containment: the directory beside the share is as it was.
  FUZZ_CHECK(runvm::fuzz::outside_untouched());
  return 0;
}
