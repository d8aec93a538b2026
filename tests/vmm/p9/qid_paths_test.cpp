// QidPaths: qid.path stays st_ino on the share's own filesystem and gets a
// per-device prefix elsewhere, so files of two host filesystems never share one.
#include "vmm/devices/virtio/p9/qid_paths.h"

#include <gtest/gtest.h>

namespace runvm::vmm::virtio::p9 {
namespace {

constexpr uint64_t kLow48 = (1ull << 48) - 1;

TEST(QidPaths, RootDeviceKeepsInodeNumbers) {
  QidPaths q;
  EXPECT_EQ(q.path(10, 2), 2u);  // the first device seen is the share's root
  EXPECT_EQ(q.path(10, 12345), 12345u);
  EXPECT_EQ(q.path(10, 2), 2u);
}

TEST(QidPaths, OtherDevicesGetStableDistinctPrefixes) {
  QidPaths q;
  ASSERT_EQ(q.path(10, 2), 2u);
  const uint64_t a = q.path(20, 2), b = q.path(30, 2);
  EXPECT_NE(a, 2u);
  EXPECT_NE(b, 2u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, (1ull << 48) | 2);
  EXPECT_EQ(b, (2ull << 48) | 2);
  EXPECT_EQ(q.path(20, 2), a) << "stable for the same device";
  EXPECT_EQ(q.path(20, 0x123456789abcdefull) & kLow48, 0x123456789abcdefull & kLow48);
  EXPECT_EQ(q.path(20, 0x123456789abcdefull) >> 48, 1u);
}

TEST(QidPaths, PrefixesStopAtTheLastOneInsteadOfWrapping) {
  QidPaths q;
  q.path(0, 1);
  for (dev_t d = 1; d <= QidPaths::kMaxPrefix + 10; ++d) {
    uint64_t p = q.path(d, 7);
    EXPECT_NE(p, 7u) << "never the root's value";
    EXPECT_LE(p >> 48, QidPaths::kMaxPrefix);
  }
  EXPECT_EQ(q.path(QidPaths::kMaxPrefix + 10, 7) >> 48, QidPaths::kMaxPrefix);
}

}  // namespace
}  // namespace runvm::vmm::virtio::p9
