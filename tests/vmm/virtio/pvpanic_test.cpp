#include "vmm/devices/pvpanic/pvpanic_pci.h"

#include <gtest/gtest.h>

namespace runvm::vmm {
namespace {

TEST(PvPanic, IdentityAndPanicEvent) {
  int panics = 0;
  PvPanicPci dev([&] { ++panics; });
  ASSERT_EQ(dev.bar_requests().size(), 1u);
  EXPECT_EQ(dev.bar_requests()[0].first, 0);
  std::pair<int, uint64_t> bars[] = {{0, 0xd0001000}};
  dev.placed(bars, 18, nullptr);
  uint8_t id[4];
  dev.config_read(0, id);
  EXPECT_EQ(id[0] | id[1] << 8, 0x1b36);
  EXPECT_EQ(id[2] | id[3] << 8, 0x0011);
  uint8_t bar[4];
  dev.config_read(0x10, bar);
  EXPECT_EQ(bar[0] | bar[1] << 8 | bar[2] << 16 | bar[3] << 24, 0xd0001000);

  uint8_t caps = 0;
  dev.bar_read(0, 0, std::span(&caps, 1));
  EXPECT_EQ(caps, PvPanicPci::kEventPanicked | PvPanicPci::kEventCrashLoaded);

  uint8_t v = 0;
  dev.bar_write(0, 0, std::span<const uint8_t>(&v, 1));  // no event
  v = 4;
  dev.bar_write(0, 0, std::span<const uint8_t>(&v, 1));  // unknown event
  v = 1;
  dev.bar_write(0, 8, std::span<const uint8_t>(&v, 1));  // wrong register
  EXPECT_EQ(panics, 0);
  EXPECT_FALSE(dev.panicked());
  dev.bar_write(0, 0, std::span<const uint8_t>(&v, 1));
  EXPECT_EQ(panics, 1);
  dev.bar_write(0, 0, std::span<const uint8_t>(&v, 1));  // reported once
  EXPECT_EQ(panics, 1);
  EXPECT_TRUE(dev.panicked());
}

TEST(PvPanic, CrashLoadedCountsAsPanic) {
  int panics = 0;
  PvPanicPci dev([&] { ++panics; });
  uint8_t v = PvPanicPci::kEventCrashLoaded;
  dev.bar_write(0, 0, std::span<const uint8_t>(&v, 1));
  EXPECT_EQ(panics, 1);
}

}  // namespace
}  // namespace runvm::vmm
