// The virtio-fs device: config space, queues and the worker pool, driven by a
// driver-side virtqueue in fake guest memory.
#include "vmm/devices/virtio/fs/virtio_fs.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"

namespace runvm::vmm::virtio::fs {
namespace {

using virtio::testing::Buf;
using virtio::testing::DriverQueue;
using virtio::testing::TestGuest;

class CountingInterrupt : public VirtioInterrupt {
 public:
  void notify_queue(uint16_t index) override { ++count[index < 2 ? index : 1]; }
  void notify_config() override {}
  std::atomic<int> count[2] = {0, 0};
};

class VirtioFsDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pfs = PassthroughFs::create(dir_.path());
    ASSERT_TRUE(pfs.ok());
    auto dev = VirtioFs::create("myfs", *pfs, 3);
    ASSERT_TRUE(dev.ok()) << dev.error().what();
    dev_ = *dev;
  }
  void TearDown() override {
    if (dev_) dev_->reset();
  }

  // What a reloading driver does: reset, then new rings and DRIVER_OK again.
  void reactivate_with_new_rings() {
    dev_->reset();
    req_ = std::make_unique<DriverQueue>(guest_, 256, TestGuest::kBase + 0x20000);
    hiprio_ = std::make_unique<DriverQueue>(guest_, 64, TestGuest::kBase + 0x30000);
    activate();
  }

  void activate() {
    std::vector<std::optional<Queue>> qs;
    for (DriverQueue* q : {hiprio_.get(), req_.get()}) {
      auto queue = Queue::create(guest_.mem(), q->config(), VirtioFs::kQueueSize);
      ASSERT_TRUE(queue.ok()) << queue.error().what();
      qs.push_back(std::move(*queue));
    }
    ASSERT_TRUE(dev_->activate(guest_.mem(), std::move(qs), irq_).ok());
  }

  // Posts a request (header + body) with `reply_room` writable bytes; returns
  // the reply buffer's guest address.
  uint64_t post(DriverQueue& q, uint32_t opcode, uint64_t node, const std::vector<uint8_t>& body,
                uint32_t reply_room = 4096) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + body.size());
    h.opcode = opcode;
    h.unique = ++unique_;
    h.nodeid = node;
    uint64_t in = guest_.alloc(h.len);
    guest_.fill(in, {reinterpret_cast<const uint8_t*>(&h), sizeof(h)});
    if (!body.empty()) guest_.fill(in + sizeof(h), body);
    std::vector<Buf> bufs = {{in, h.len, false}};
    uint64_t out = 0;
    if (reply_room > 0) {
      out = guest_.alloc(reply_room);
      bufs.push_back({out, reply_room, true});
    }
    q.add_chain(bufs);
    return out;
  }

  // Waits until `n` used elements appeared; returns their lengths in order.
  std::vector<uint32_t> wait_used(DriverQueue& q, size_t n) {
    std::vector<uint32_t> lens;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (lens.size() < n && std::chrono::steady_clock::now() < deadline) {
      if (auto u = q.take_used()) {
        lens.push_back(u->second);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return lens;
  }

  void init_session() {
    fuse_init_in in{};
    in.major = 7;
    in.minor = 31;
    std::vector<uint8_t> b(sizeof(in));
    std::memcpy(b.data(), &in, sizeof(in));
    uint64_t out = post(*req_, FUSE_INIT, 0, b);
    dev_->queue_notify(1);
    auto lens = wait_used(*req_, 1);
    ASSERT_EQ(lens.size(), 1u);
    EXPECT_EQ(lens[0], sizeof(fuse_out_header) + sizeof(fuse_init_out));
    auto h = guest_.get<fuse_out_header>(out);
    EXPECT_EQ(h.error, 0);
    EXPECT_EQ(guest_.get<fuse_init_out>(out + sizeof(h)).major, 7u);
  }

  runvm::testing::TempDir dir_;
  TestGuest guest_{4 << 20};
  std::unique_ptr<DriverQueue> hiprio_ =
      std::make_unique<DriverQueue>(guest_, 64, TestGuest::kBase);
  std::unique_ptr<DriverQueue> req_ =
      std::make_unique<DriverQueue>(guest_, 256, TestGuest::kBase + 0x10000);
  std::shared_ptr<CountingInterrupt> irq_ = std::make_shared<CountingInterrupt>();
  std::shared_ptr<VirtioFs> dev_;
  uint64_t unique_ = 0;
};

TEST_F(VirtioFsDevice, ConfigSpaceHoldsTagAndQueueCount) {
  EXPECT_EQ(dev_->device_type(), 26u);
  EXPECT_EQ(dev_->queue_max_sizes().size(), 2u);
  EXPECT_EQ(dev_->config_size(), 40u);
  uint8_t cfg[48];
  std::memset(cfg, 0xaa, sizeof(cfg));
  dev_->read_config(0, std::span(cfg, 48));  // reads past the end come back 0
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg)), "myfs");
  EXPECT_EQ(cfg[35], 0);
  uint32_t nq;
  std::memcpy(&nq, cfg + 36, 4);
  EXPECT_EQ(nq, 1u);
  EXPECT_EQ(cfg[47], 0);
  uint8_t one;
  dev_->read_config(1, std::span(&one, 1));
  EXPECT_EQ(one, 'y');
  dev_->read_config(0xffffffffu, std::span(&one, 1));
  EXPECT_EQ(one, 0);
}

TEST_F(VirtioFsDevice, RejectsBadTags) {
  auto pfs = PassthroughFs::create(dir_.path());
  ASSERT_TRUE(pfs.ok());
  EXPECT_FALSE(VirtioFs::create("", *pfs).ok());
  EXPECT_FALSE(VirtioFs::create(std::string(37, 't'), *pfs).ok());
  EXPECT_TRUE(VirtioFs::create(std::string(36, 't'), *pfs).ok());
  std::string err;
  EXPECT_EQ(make_virtio_fs("t", dir_.path() + "/missing", {}, &err), nullptr);
  EXPECT_NE(err.find("missing"), std::string::npos);
  EXPECT_NE(make_virtio_fs("t", dir_.path(), {.read_only = true}, &err), nullptr);
  // Inodes are held as fds: the descriptor limit was raised to the hard limit.
  struct rlimit rl {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  EXPECT_EQ(rl.rlim_cur, rl.rlim_max);
}

TEST_F(VirtioFsDevice, ServesRequestsAndInterrupts) {
  activate();
  init_session();
  EXPECT_GE(irq_->count[1].load(), 1);

  // Many requests in flight at once, served by the pool.
  std::vector<uint8_t> getattr(sizeof(fuse_getattr_in), 0);
  std::vector<uint64_t> outs;
  for (int i = 0; i < 100; ++i) outs.push_back(post(*req_, FUSE_GETATTR, FUSE_ROOT_ID, getattr));
  dev_->queue_notify(1);
  auto lens = wait_used(*req_, 100);
  ASSERT_EQ(lens.size(), 100u);
  for (uint32_t l : lens) EXPECT_EQ(l, sizeof(fuse_out_header) + sizeof(fuse_attr_out));
  for (uint64_t o : outs) EXPECT_EQ(guest_.get<fuse_out_header>(o).error, 0);

  // FORGET on the hiprio queue: consumed, no reply bytes.
  std::vector<uint8_t> forget(sizeof(fuse_forget_in), 0);
  post(*hiprio_, FUSE_FORGET, 5, forget, 0);
  dev_->queue_notify(0);
  auto hl = wait_used(*hiprio_, 1);
  ASSERT_EQ(hl.size(), 1u);
  EXPECT_EQ(hl[0], 0u);

  // A request with no reply room is returned with length 0, not crashed on.
  post(*req_, FUSE_GETATTR, FUSE_ROOT_ID, getattr, 0);
  dev_->queue_notify(1);
  auto z = wait_used(*req_, 1);
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0], 0u);
}

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST_F(VirtioFsDevice, WorkersStartedBeforeTheGuestServeEverySession) {
  // runvm-vmm starts the workers before the guest runs, each running a hook first
  // (its seccomp filter); activation and reset then create no thread.
  std::mutex mu;
  std::set<std::thread::id> hooked;
  ASSERT_TRUE(dev_->start_threads([&]() -> Status {
                    std::lock_guard lk(mu);
                    hooked.insert(std::this_thread::get_id());
                    return {};
                  })
                  .ok());
  EXPECT_EQ(hooked.size(), 3u);
  EXPECT_FALSE(hooked.count(std::this_thread::get_id()));
  const size_t threads = thread_count();
  activate();
  init_session();
  reactivate_with_new_rings();
  init_session();
  EXPECT_EQ(thread_count(), threads);
}

TEST_F(VirtioFsDevice, AWorkerHookThatFailsIsAnError) {
  auto s = dev_->start_threads([]() -> Status { return Error("no filter for you"); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().what().find("no filter for you"), std::string::npos);
}

TEST_F(VirtioFsDevice, ResetStartsANewSession) {
  activate();
  init_session();
  // A fresh driver (new rings) must INIT again before anything else works.
  reactivate_with_new_rings();
  std::vector<uint8_t> getattr(sizeof(fuse_getattr_in), 0);
  uint64_t out = post(*req_, FUSE_GETATTR, FUSE_ROOT_ID, getattr);
  dev_->queue_notify(1);
  ASSERT_EQ(wait_used(*req_, 1).size(), 1u);
  EXPECT_EQ(guest_.get<fuse_out_header>(out).error, -EIO);
  init_session();
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs
