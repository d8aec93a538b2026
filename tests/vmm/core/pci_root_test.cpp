#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "vmm/pci/pci_root.h"

namespace runvm::vmm {
namespace {

class FakeServices : public PciVmServices {
 public:
  int msi_route_add(uint64_t, uint32_t) override { return 24; }
  bool msi_route_update(int, uint64_t, uint32_t) override { return true; }
  bool irqfd_assign(int, int) override { return true; }
  bool irqfd_deassign(int, int) override { return true; }
  bool ioeventfd_assign(int, uint64_t, uint32_t) override { return true; }
  bool ioeventfd_deassign(int, uint64_t, uint32_t) override { return true; }
  bool signal_msi(uint64_t, uint32_t) override { return true; }
  bool set_irq_line(int, bool) override { return true; }
};

class FakeDevice : public PciDevice {
 public:
  explicit FakeDevice(std::vector<std::pair<int, PciBarRequest>> bars) : bars_(std::move(bars)) {
    cfg_[0] = 0xf4;
    cfg_[1] = 0x1a;
  }
  std::string name() const override { return "fake"; }
  std::vector<std::pair<int, PciBarRequest>> bar_requests() const override { return bars_; }
  void placed(std::span<const std::pair<int, uint64_t>> addrs, int gsi,
              PciVmServices* vm) override {
    for (auto& [b, a] : addrs) placed_[b] = a;
    gsi_ = gsi;
    vm_ = vm;
  }
  void config_read(uint32_t off, std::span<uint8_t> d) override {
    ASSERT_LE(off + d.size(), 256u);
    ASSERT_EQ(off % d.size(), 0u);
    std::memcpy(d.data(), cfg_ + off, d.size());
  }
  void config_write(uint32_t off, std::span<const uint8_t> d) override {
    ASSERT_LE(off + d.size(), 256u);
    std::memcpy(cfg_ + off, d.data(), d.size());
  }
  void bar_read(int bar, uint64_t off, std::span<uint8_t> d) override {
    last_bar_ = bar;
    last_off_ = off;
    std::memset(d.data(), 0x5a, d.size());
  }
  void bar_write(int bar, uint64_t off, std::span<const uint8_t>) override {
    last_bar_ = bar;
    last_off_ = off;
  }

  std::vector<std::pair<int, PciBarRequest>> bars_;
  std::map<int, uint64_t> placed_;
  int gsi_ = -1;
  PciVmServices* vm_ = nullptr;
  uint8_t cfg_[256] = {};
  int last_bar_ = -1;
  uint64_t last_off_ = 0;
};

uint32_t cfg_read32(Bus& pio, int dev, uint32_t reg) {
  uint32_t addr = 0x80000000u | (uint32_t(dev) << 11) | reg;
  EXPECT_TRUE(pio.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&addr), 4)));
  uint32_t v = 0;
  pio.read(0xcfc, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 4));
  return v;
}

class PciRootTest : public ::testing::Test {
 protected:
  Bus pio{"pio"}, mmio{"mmio"};
  FakeServices svc;
  std::shared_ptr<PciRoot> root = std::make_shared<PciRoot>(&mmio, &svc);
  void SetUp() override { ASSERT_TRUE(root->attach_pio(pio, root)); }
};

TEST_F(PciRootTest, HostBridgeAndEmptySlots) {
  EXPECT_EQ(cfg_read32(pio, 0, 0), 0x0d578086u);
  EXPECT_EQ(cfg_read32(pio, 0, 8) >> 8, 0x060000u);  // class: host bridge
  EXPECT_EQ(cfg_read32(pio, 5, 0), 0xffffffffu);     // nothing there
  // CONFIG_ADDRESS reads back (Linux's type-1 probe).
  uint32_t a = 0x80000000u, back = 0;
  ASSERT_TRUE(pio.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&a), 4)));
  pio.read(0xcf8, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&back), 4));
  EXPECT_EQ(back, a);
}

TEST_F(PciRootTest, AddDevicePlacesAlignedBarsAndMapsThem) {
  auto dev = std::make_shared<FakeDevice>(std::vector<std::pair<int, PciBarRequest>>{
      {0, {0x1000, false, false}}, {2, {0x4000, true, false}}});
  auto slot = root->add_device(dev);
  ASSERT_TRUE(slot) << slot.error().what();
  EXPECT_EQ(*slot, 1);
  EXPECT_EQ(cfg_read32(pio, 1, 0), 0x1af4u);
  ASSERT_EQ(dev->placed_.size(), 2u);
  EXPECT_EQ(dev->placed_[0] % 0x1000, 0u);
  EXPECT_EQ(dev->placed_[2] % 0x4000, 0u);
  EXPECT_GE(dev->placed_[0], root->layout().mmio_base);
  EXPECT_EQ(dev->gsi_, 16);
  EXPECT_EQ(dev->vm_, &svc);
  uint32_t v = 0;
  EXPECT_TRUE(
      mmio.read(dev->placed_[2] + 0x10, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 4)));
  EXPECT_EQ(dev->last_bar_, 2);
  EXPECT_EQ(dev->last_off_, 0x10u);
  EXPECT_EQ(v, 0x5a5a5a5au);
  auto routes = root->intx_routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].slot, 1);
  EXPECT_EQ(routes[0].gsi, 16);

  auto dev2 = std::make_shared<FakeDevice>(
      std::vector<std::pair<int, PciBarRequest>>{{0, {0x1000, false, false}}});
  ASSERT_TRUE(root->add_device(dev2));
  EXPECT_EQ(dev2->gsi_, 17);
  EXPECT_NE(dev2->placed_[0], dev->placed_[0]);
}

TEST_F(PciRootTest, RejectsBadBarRequests) {
  EXPECT_FALSE(root->add_device(std::make_shared<FakeDevice>(
      std::vector<std::pair<int, PciBarRequest>>{{0, {0x1800, false, false}}})));  // not pow2
  EXPECT_FALSE(root->add_device(std::make_shared<FakeDevice>(
      std::vector<std::pair<int, PciBarRequest>>{{5, {0x1000, true, false}}})));  // 64-bit at 5
  EXPECT_FALSE(
      root->add_device(std::make_shared<FakeDevice>(std::vector<std::pair<int, PciBarRequest>>{
          {0, {0x1000, true, false}}, {1, {0x1000, false, false}}})));
  EXPECT_FALSE(root->add_device(nullptr));
  EXPECT_TRUE(root->intx_routes().empty());
}

TEST_F(PciRootTest, MalformedConfigAccessesAreHarmless) {
  auto dev = std::make_shared<FakeDevice>(std::vector<std::pair<int, PciBarRequest>>{});
  ASSERT_TRUE(root->add_device(dev));
  uint32_t addr = 0x80000000u | (1u << 11);
  ASSERT_TRUE(pio.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&addr), 4)));
  uint8_t two[2];
  pio.read(0xcfd, two);  // misaligned 16-bit read
  EXPECT_EQ(two[0], 0xff);
  pio.read(0xcfe, two);  // aligned: fine
  uint8_t one = 0;
  pio.read(0xcfc, std::span<uint8_t>(&one, 1));
  EXPECT_EQ(one, 0xf4);
  // Disabled CONFIG_ADDRESS, other bus, other function: all-ones.
  for (uint32_t a : {0x00000800u, 0x80010800u, 0x80000900u}) {
    ASSERT_TRUE(pio.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&a), 4)));
    uint32_t v = 0;
    pio.read(0xcfc, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 4));
    EXPECT_EQ(v, 0xffffffffu);
  }
}

TEST_F(PciRootTest, RunsOutOfSlots) {
  for (int i = 1; i < 32; ++i)
    ASSERT_TRUE(root->add_device(
        std::make_shared<FakeDevice>(std::vector<std::pair<int, PciBarRequest>>{})));
  auto r =
      root->add_device(std::make_shared<FakeDevice>(std::vector<std::pair<int, PciBarRequest>>{}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("no free slot"), std::string::npos);
}

}  // namespace
}  // namespace runvm::vmm
