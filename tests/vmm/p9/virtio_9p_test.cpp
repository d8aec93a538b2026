// The virtio-9p device: config space and a Tversion round trip through a queue.
#include "vmm/devices/virtio/p9/virtio_9p.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/fs/passthrough_fs.h"

namespace runvm::vmm::virtio::p9 {
namespace {

using virtio::testing::DriverQueue;
using virtio::testing::TestGuest;

class NullInterrupt : public VirtioInterrupt {
 public:
  void notify_queue(uint16_t) override { ++count; }
  void notify_config() override {}
  std::atomic<int> count{0};
};

TEST(Virtio9pDevice, ConfigSpaceAndTags) {
  runvm::testing::TempDir d;
  auto pfs = fs::PassthroughFs::create(d.path());
  ASSERT_TRUE(pfs.ok());
  EXPECT_FALSE(Virtio9p::create("", *pfs).ok());
  EXPECT_FALSE(Virtio9p::create(std::string(65, 'x'), *pfs).ok());
  auto dev = Virtio9p::create("share0", *pfs);
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ((*dev)->device_type(), 9u);
  EXPECT_EQ((*dev)->device_features() & 1, 1u);
  EXPECT_EQ((*dev)->config_size(), 8u);
  uint8_t cfg[10];
  std::memset(cfg, 0xaa, sizeof(cfg));
  (*dev)->read_config(0, std::span(cfg, 10));
  EXPECT_EQ(cfg[0], 6);
  EXPECT_EQ(cfg[1], 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg + 2), 6), "share0");
  EXPECT_EQ(cfg[8], 0);
  std::string err;
  EXPECT_EQ(make_virtio_9p("t", d.path() + "/missing", {}, &err), nullptr);
  EXPECT_FALSE(err.empty());
  EXPECT_NE(make_virtio_9p("t", d.path(), {.read_only = true}, &err), nullptr);
}

TEST(Virtio9pDevice, ServesAVersionRequest) {
  runvm::testing::TempDir d;
  auto pfs = fs::PassthroughFs::create(d.path());
  ASSERT_TRUE(pfs.ok());
  auto dev = Virtio9p::create("t", *pfs, 2);
  ASSERT_TRUE(dev.ok());
  TestGuest g(1 << 20);
  DriverQueue q(g, 64, TestGuest::kBase);
  auto queue = Queue::create(g.mem(), q.config(), Virtio9p::kQueueSize);
  ASSERT_TRUE(queue.ok());
  std::vector<std::optional<Queue>> qs;
  qs.push_back(std::move(*queue));
  auto irq = std::make_shared<NullInterrupt>();
  ASSERT_TRUE((*dev)->activate(g.mem(), std::move(qs), irq).ok());

  // Tversion: size[4] type[1] tag[2] msize[4] version[s]
  std::vector<uint8_t> t = {0, 0, 0, 0, 100, 0xff, 0xff, 0, 0x20, 0, 0, 8, 0};
  const std::string v = "9P2000.L";
  t.insert(t.end(), v.begin(), v.end());
  t[0] = static_cast<uint8_t>(t.size());
  uint64_t in = g.alloc(t.size());
  g.fill(in, t);
  uint64_t out = g.alloc(256);
  q.add_chain({{in, static_cast<uint32_t>(t.size()), false}, {out, 256, true}});
  (*dev)->queue_notify(0);
  std::optional<std::pair<uint32_t, uint32_t>> used;
  for (int i = 0; i < 5000 && !used; ++i) {
    used = q.take_used();
    if (!used) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->second, 7u + 4 + 2 + 8);
  EXPECT_EQ(g.get<uint8_t>(out + 4), 101);  // Rversion
  EXPECT_EQ(g.get<uint32_t>(out + 7), 8192u);
  EXPECT_GE(irq->count.load(), 1);
  (*dev)->reset();
}

}  // namespace
}  // namespace runvm::vmm::virtio::p9
