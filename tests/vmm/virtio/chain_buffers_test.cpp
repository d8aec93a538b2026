#include "vmm/devices/virtio/chain_buffers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace runvm::vmm::virtio {
namespace {

TEST(ChainBuffers, ReaderCrossesBuffersAndStopsAtTheEnd) {
  char a[] = "abc", b[] = "defgh";
  iovec v[] = {{a, 3}, {nullptr, 0}, {b, 5}};
  ChainReader r(v);
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

TEST(ChainBuffers, ReaderLimitCapsTheMessage) {
  char a[16] = {};
  iovec v[] = {{a, 16}};
  ChainReader r(v);
  r.limit(5);
  char out[6];
  EXPECT_FALSE(r.read(out, 6));
  EXPECT_TRUE(r.read(out, 5));
}

TEST(ChainBuffers, LimitAlsoBoundsPartialReadsAndSkips) {
  char a[4] = {'a', 'b', 'c', 'd'}, b[4] = {'e', 'f', 'g', 'h'};
  iovec v[] = {{a, 4}, {b, 4}};
  ChainReader r(v);
  r.limit(6);
  uint8_t out[8] = {};
  EXPECT_EQ(r.read_some(std::span(out, 5)), 5u);
  EXPECT_EQ(r.skip(10), 1u);
  EXPECT_EQ(r.read_some(std::span(out, 8)), 0u);
  EXPECT_TRUE(r.iovecs(10).empty());
}

TEST(ChainBuffers, WriterPatchesAndNeverOverflows) {
  char a[3] = {}, b[4] = {};
  iovec v[] = {{a, 3}, {b, 4}};
  ChainWriter w(v);
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
}  // namespace runvm::vmm::virtio
