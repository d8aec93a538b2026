#include "vmm/devices/virtio/fs/fuse_buffers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace runvm::vmm::virtio::fs {
namespace {

TEST(FuseBuffers, ReaderCrossesBuffersAndStopsAtTheEnd) {
  char a[] = "abc", b[] = "defgh";
  iovec v[] = {{a, 3}, {nullptr, 0}, {b, 5}};
  FuseReader r(v);
  EXPECT_EQ(r.remaining(), 8u);
  char out[8] = {};
  ASSERT_TRUE(r.read(out, 4));
  EXPECT_EQ(std::string(out, 4), "abcd");
  EXPECT_FALSE(r.read(out, 5));  // only 4 left: nothing is consumed
  EXPECT_EQ(r.remaining(), 4u);
  auto iov = r.iovecs(100);
  ASSERT_EQ(iov.size(), 1u);
  EXPECT_EQ(iov[0].iov_len, 4u);
  EXPECT_EQ(r.skip(10), 4u);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(FuseBuffers, ReaderLimitCapsTheMessage) {
  char a[16] = {};
  iovec v[] = {{a, 16}};
  FuseReader r(v);
  r.limit(5);
  char out[6];
  EXPECT_FALSE(r.read(out, 6));
  EXPECT_TRUE(r.read(out, 5));
}

TEST(FuseBuffers, WriterPatchesAndNeverOverflows) {
  char a[3] = {}, b[4] = {};
  iovec v[] = {{a, 3}, {b, 4}};
  FuseWriter w(v);
  ASSERT_TRUE(w.write("xxxxx", 5));
  EXPECT_FALSE(w.write("123", 3));  // 2 bytes of room left
  EXPECT_EQ(w.written(), 5u);
  ASSERT_TRUE(w.write_at(1, "ABC", 3));
  EXPECT_FALSE(w.write_at(4, "ZZ", 2));  // beyond what was written
  auto iov = w.iovecs(10);
  ASSERT_EQ(iov.size(), 1u);
  std::memcpy(iov[0].iov_base, "!?", 2);
  EXPECT_EQ(w.advance(10), 2u);
  EXPECT_EQ(std::string(a, 3) + std::string(b, 4), "xABCx!?");
}

}  // namespace
}  // namespace runvm::vmm::virtio::fs
