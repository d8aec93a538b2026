// The split virtqueue walker against well-formed and hostile rings.
#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/chain_buffers.h"

#include <gtest/gtest.h>

#include "tests/vmm/virtio/test_guest.h"

namespace runvm::vmm::virtio {
namespace {

using testing::Buf;
using testing::DriverQueue;
using testing::TestGuest;

constexpr uint16_t kSize = 16;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() : dq(g, kSize, TestGuest::kBase) {}
  Queue make() {
    auto q = Queue::create(g.mem(), dq.config(), kSize);
    EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().what());
    return std::move(*q);
  }
  // Pops expecting a malformed chain: nothing returned, returned as used len 0.
  void expect_rejected(Queue& q, uint16_t head, const char* why) {
    uint64_t before = q.malformed_chains();
    EXPECT_FALSE(q.pop().has_value()) << why;
    EXPECT_EQ(q.malformed_chains(), before + 1) << why;
    EXPECT_FALSE(q.broken()) << why;
    auto used = dq.take_used();
    ASSERT_TRUE(used.has_value()) << why;
    EXPECT_EQ(used->first, head) << why;
    EXPECT_EQ(used->second, 0u) << why;
  }
  TestGuest g;
  DriverQueue dq;
};

TEST_F(QueueTest, CreateRejectsBadLayouts) {
  auto cfg = dq.config();
  EXPECT_FALSE(
      Queue::create(g.mem(), QueueConfig{12, cfg.desc_addr, cfg.avail_addr, cfg.used_addr}, 256)
          .ok());
  EXPECT_FALSE(
      Queue::create(g.mem(), QueueConfig{0, cfg.desc_addr, cfg.avail_addr, cfg.used_addr}, 256)
          .ok());
  EXPECT_FALSE(Queue::create(g.mem(), cfg, 8).ok());  // above the device maximum
  EXPECT_FALSE(Queue::create(g.mem(),
                             QueueConfig{kSize, cfg.desc_addr + 8, cfg.avail_addr, cfg.used_addr},
                             kSize)
                   .ok());
  EXPECT_FALSE(Queue::create(g.mem(),
                             QueueConfig{kSize, cfg.desc_addr, cfg.avail_addr + 1, cfg.used_addr},
                             kSize)
                   .ok());
  EXPECT_FALSE(Queue::create(g.mem(),
                             QueueConfig{kSize, cfg.desc_addr, cfg.avail_addr, cfg.used_addr + 2},
                             kSize)
                   .ok());
  EXPECT_FALSE(
      Queue::create(g.mem(), QueueConfig{kSize, g.end() - 64, cfg.avail_addr, cfg.used_addr}, kSize)
          .ok());
  EXPECT_FALSE(
      Queue::create(g.mem(), QueueConfig{kSize, 0, cfg.avail_addr, cfg.used_addr}, kSize).ok());
  EXPECT_FALSE(
      Queue::create(g.mem(), QueueConfig{kSize, cfg.desc_addr, cfg.avail_addr, g.end() - 8}, kSize)
          .ok());
  EXPECT_TRUE(Queue::create(g.mem(), cfg, kSize).ok());
}

TEST_F(QueueTest, PopReadsAndWritesAcrossBuffers) {
  Queue q = make();
  EXPECT_FALSE(q.pop().has_value());
  uint64_t r1 = g.alloc(3), r2 = g.alloc(5), w1 = g.alloc(4), w2 = g.alloc(8);
  const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  g.fill(r1, std::span(in, 3));
  g.fill(r2, std::span(in + 3, 5));
  uint16_t head = dq.add_chain({{r1, 3, false}, {r2, 5, false}, {w1, 4, true}, {w2, 8, true}});
  EXPECT_TRUE(q.has_available());
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head(), head);
  EXPECT_EQ(chain->readable_len(), 8u);
  EXPECT_EQ(chain->writable_len(), 12u);
  EXPECT_EQ(chain->readable().size(), 2u);
  EXPECT_EQ(chain->writable().size(), 2u);

  ChainReader r(*chain);
  uint8_t got[8];
  EXPECT_FALSE(r.read(got, 9));  // more than there is: nothing consumed
  EXPECT_EQ(r.remaining(), 8u);
  ASSERT_TRUE(r.read(got, 8));
  EXPECT_EQ(0, std::memcmp(got, in, 8));
  EXPECT_EQ(r.remaining(), 0u);

  ChainWriter w(*chain);
  const uint8_t out[10] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  ASSERT_TRUE(w.write(out, 10));
  EXPECT_FALSE(w.write(out, 3));  // only 2 bytes of room left
  EXPECT_EQ(w.write_some(std::span(out, 3)), 2u);
  EXPECT_EQ(w.remaining(), 0u);
  EXPECT_EQ(g.get<uint32_t>(w1), 0x06070809u);
  EXPECT_EQ(g.host(w2)[0], 5);
  q.add_used(std::move(*chain), 1000);  // clamped to the writable length
  auto used = dq.take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->first, head);
  EXPECT_EQ(used->second, 12u);
  EXPECT_FALSE(q.pop().has_value());
}

TEST_F(QueueTest, WriterIovecsAndAdvance) {
  Queue q = make();
  uint64_t w1 = g.alloc(4), w2 = g.alloc(8);
  dq.add_chain({{w1, 4, true}, {w2, 8, true}});
  auto chain = q.pop();
  ASSERT_TRUE(chain);
  ChainWriter w(*chain);
  auto iov = w.iovecs(6);
  ASSERT_EQ(iov.size(), 2u);
  EXPECT_EQ(iov[0].iov_len, 4u);
  EXPECT_EQ(iov[1].iov_len, 2u);
  EXPECT_EQ(w.advance(5), 5u);
  iov = w.iovecs(100);
  ASSERT_EQ(iov.size(), 1u);
  EXPECT_EQ(iov[0].iov_len, 7u);
  EXPECT_EQ(iov[0].iov_base, g.host(w2 + 1));
  EXPECT_EQ(w.advance(100), 7u);
  EXPECT_EQ(w.written(), 12u);
}

TEST_F(QueueTest, LoopIsRejected) {
  Queue q = make();
  uint64_t b = g.alloc(8);
  dq.set_desc(0, b, 8, kDescFNext, 1);
  dq.set_desc(1, b, 8, kDescFNext, 0);
  dq.publish(0);
  expect_rejected(q, 0, "loop");
}

TEST_F(QueueTest, SelfLoopIsRejected) {
  Queue q = make();
  dq.set_desc(3, g.alloc(8), 8, kDescFNext, 3);
  dq.publish(3);
  expect_rejected(q, 3, "self loop");
}

TEST_F(QueueTest, NextOutOfRangeIsRejected) {
  Queue q = make();
  dq.set_desc(0, g.alloc(8), 8, kDescFNext, kSize);
  dq.publish(0);
  expect_rejected(q, 0, "next out of range");
}

TEST_F(QueueTest, HeadOutOfRangeIsRejected) {
  Queue q = make();
  dq.publish(kSize + 5);
  expect_rejected(q, kSize + 5, "head out of range");
}

TEST_F(QueueTest, OutOfRangeAddressesAreRejected) {
  Queue q = make();
  dq.set_desc(0, g.end() - 4, 8, 0, 0);  // straddles the end of memory
  dq.publish(0);
  expect_rejected(q, 0, "straddles end");
  dq.set_desc(1, 0xffff'ffff'ffff'fff0ull, 0x20, 0, 0);  // addr + len overflows
  dq.publish(1);
  expect_rejected(q, 1, "overflow");
  dq.set_desc(2, 0x1000, 8, 0, 0);  // below the region
  dq.publish(2);
  expect_rejected(q, 2, "unmapped");
}

TEST_F(QueueTest, ZeroLengthBuffersAreHarmless) {
  Queue q = make();
  uint64_t b = g.alloc(8);
  dq.set_desc(0, 0xdead'0000'0000ull, 0, kDescFNext, 1);  // zero length, bogus address
  dq.set_desc(1, b, 8, kDescFWrite, 0);
  dq.publish(0);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->buffers().size(), 1u);
  EXPECT_EQ(chain->readable_len(), 0u);
  EXPECT_EQ(chain->writable_len(), 8u);
}

TEST_F(QueueTest, ReadableAfterWritableIsRejected) {
  Queue q = make();
  dq.add_chain({{g.alloc(8), 8, true}, {g.alloc(8), 8, false}});
  expect_rejected(q, 0, "ordering");
}

TEST_F(QueueTest, IndirectTableIsFollowed) {
  Queue q = make();
  uint64_t table = g.alloc(48);
  uint64_t r = g.alloc(4), w = g.alloc(16);
  dq.set_table_desc(table, 0, r, 4, kDescFNext, 2);
  dq.set_table_desc(table, 2, w, 10, kDescFNext | kDescFWrite, 1);
  dq.set_table_desc(table, 1, w + 10, 6, kDescFWrite, 0);
  dq.set_desc(5, table, 48, kDescFIndirect, 0);
  dq.publish(5);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head(), 5);
  EXPECT_EQ(chain->readable_len(), 4u);
  EXPECT_EQ(chain->writable_len(), 16u);
}

TEST_F(QueueTest, BadIndirectTablesAreRejected) {
  Queue q = make();
  uint64_t table = g.alloc(64);
  uint64_t b = g.alloc(8);
  dq.set_table_desc(table, 0, b, 8, 0, 0);

  dq.set_desc(0, table, 24, kDescFIndirect, 0);  // not a multiple of 16
  dq.publish(0);
  expect_rejected(q, 0, "len % 16");

  dq.set_desc(1, table, 0, kDescFIndirect, 0);  // empty
  dq.publish(1);
  expect_rejected(q, 1, "len 0");

  dq.set_desc(2, g.end() - 16, 32, kDescFIndirect, 0);  // outside memory
  dq.publish(2);
  expect_rejected(q, 2, "table out of range");

  uint64_t nested = g.alloc(32);
  dq.set_table_desc(nested, 0, table, 16, kDescFIndirect, 0);
  dq.set_desc(3, nested, 16, kDescFIndirect, 0);  // indirect inside indirect
  dq.publish(3);
  expect_rejected(q, 3, "nested");

  dq.set_desc(4, table, 16, kDescFIndirect | kDescFNext, 5);  // INDIRECT with NEXT
  dq.set_desc(5, b, 8, 0, 0);
  dq.publish(4);
  expect_rejected(q, 4, "indirect+next");

  uint64_t looped = g.alloc(32);
  dq.set_table_desc(looped, 0, b, 8, kDescFNext, 1);
  dq.set_table_desc(looped, 1, b, 8, kDescFNext, 0);
  dq.set_desc(6, looped, 32, kDescFIndirect, 0);  // loop inside the table
  dq.publish(6);
  expect_rejected(q, 6, "indirect loop");

  uint64_t past = g.alloc(32);
  dq.set_table_desc(past, 0, b, 8, kDescFNext, 2);  // next beyond the table's 2 entries
  dq.set_desc(7, past, 32, kDescFIndirect, 0);
  dq.publish(7);
  expect_rejected(q, 7, "indirect next out of range");
}

TEST_F(QueueTest, MalformedChainDoesNotBlockTheNext) {
  Queue q = make();
  dq.set_desc(0, g.alloc(8), 8, kDescFNext, 0);  // self loop
  dq.publish(0);
  dq.set_desc(1, g.alloc(8), 8, 0, 0);
  dq.publish(1);
  auto chain = q.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head(), 1);
  EXPECT_EQ(q.malformed_chains(), 1u);
}

TEST_F(QueueTest, AvailIndexJumpBreaksQueue) {
  Queue q = make();
  dq.set_desc(0, g.alloc(8), 8, 0, 0);
  dq.set_avail_idx(kSize + 1);  // more than size entries ahead
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_TRUE(q.broken());
  EXPECT_FALSE(q.last_error().empty());
  EXPECT_FALSE(q.has_available());
  dq.set_avail_idx(1);  // even a sane index later is not served until reset
  EXPECT_FALSE(q.pop().has_value());
  EXPECT_EQ(dq.used_idx(), 0);
}

TEST_F(QueueTest, ExactlySizeAheadIsFine) {
  Queue q = make();
  uint64_t b = g.alloc(8);
  for (uint16_t i = 0; i < kSize; ++i) dq.set_desc(i, b, 8, 0, 0);
  for (uint16_t i = 0; i < kSize; ++i) dq.publish(i);
  int n = 0;
  while (auto c = q.pop()) {
    ++n;
    q.add_used(std::move(*c), 0);
  }
  EXPECT_EQ(n, kSize);
  EXPECT_FALSE(q.broken());
  EXPECT_EQ(dq.used_idx(), kSize);
}

TEST_F(QueueTest, IndexWrapsAround) {
  Queue q = make();
  uint64_t b = g.alloc(8);
  for (int round = 0; round < 70000; ++round) {
    dq.set_desc(static_cast<uint16_t>(round % kSize), b, 8, kDescFWrite, 0);
    dq.publish(static_cast<uint16_t>(round % kSize));
    auto c = q.pop();
    ASSERT_TRUE(c.has_value()) << round;
    q.add_used(std::move(*c), 8);
  }
  EXPECT_EQ(q.next_used(), 70000 % 65536);
  EXPECT_EQ(dq.used_idx(), 70000 % 65536);
}

TEST_F(QueueTest, UndoPopGivesTheChainBack) {
  Queue q = make();
  uint16_t head = dq.add_chain({{g.alloc(8), 8, true}});
  auto c = q.pop();
  ASSERT_TRUE(c);
  q.undo_pop(std::move(*c));
  auto again = q.pop();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->head(), head);
}

TEST_F(QueueTest, NotificationHonoursNoInterrupt) {
  Queue q = make();
  EXPECT_FALSE(q.needs_notification());  // nothing used yet
  dq.add_chain({{g.alloc(8), 8, true}});
  auto c = q.pop();
  ASSERT_TRUE(c);
  q.add_used(std::move(*c), 8);
  dq.set_avail_flags(kAvailFNoInterrupt);
  EXPECT_FALSE(q.needs_notification());
  dq.set_avail_flags(0);
  dq.add_chain({{g.alloc(8), 8, true}});
  c = q.pop();
  ASSERT_TRUE(c);
  q.add_used(std::move(*c), 8);
  EXPECT_TRUE(q.needs_notification());
  EXPECT_FALSE(q.needs_notification());  // already signalled
}

TEST_F(QueueTest, DeferredUsedElementsAppearTogether) {
  Queue q = make();
  uint16_t h1 = dq.add_chain({{g.alloc(8), 8, true}});
  uint16_t h2 = dq.add_chain({{g.alloc(8), 8, true}});
  auto c1 = q.pop();
  auto c2 = q.pop();
  ASSERT_TRUE(c1 && c2);
  q.add_used_deferred(std::move(*c1), 8);
  q.add_used_deferred(std::move(*c2), 100);  // clamped to the chain's room
  EXPECT_EQ(dq.used_idx(), 0) << "visible before publish_used()";
  q.publish_used();
  EXPECT_EQ(dq.used_idx(), 2);
  auto u1 = dq.take_used();
  auto u2 = dq.take_used();
  ASSERT_TRUE(u1 && u2);
  EXPECT_EQ(u1->first, h1);
  EXPECT_EQ(u2->first, h2);
  EXPECT_EQ(u2->second, 8u);
  EXPECT_TRUE(q.needs_notification());
}

// EVENT_IDX (virtio 2.7.10): interrupts only when the used index passes the driver's
// used_event, whatever the NO_INTERRUPT flag says.
TEST_F(QueueTest, EventIdxInterruptsOnlyPastUsedEvent) {
  Queue q = make();
  q.enable_event_idx();
  dq.set_avail_flags(kAvailFNoInterrupt);  // ignored with EVENT_IDX
  auto use_one = [&] {
    dq.add_chain({{g.alloc(8), 8, true}});
    auto c = q.pop();
    ASSERT_TRUE(c);
    q.add_used(std::move(*c), 8);
  };
  dq.set_used_event(0);  // interrupt when used idx goes past 0
  use_one();             // used 0 -> 1
  EXPECT_TRUE(q.needs_notification());
  dq.set_used_event(2);  // the driver wants one once entry 2 is used
  use_one();             // 1 -> 2: not yet
  EXPECT_FALSE(q.needs_notification());
  use_one();  // 2 -> 3
  EXPECT_TRUE(q.needs_notification());
  use_one();  // 3 -> 4: used_event 2 is behind, no new interrupt
  EXPECT_FALSE(q.needs_notification());
  // Several used at once, used_event inside the batch.
  dq.set_used_event(5);
  use_one();  // 4 -> 5
  use_one();  // 5 -> 6
  EXPECT_TRUE(q.needs_notification());
  EXPECT_FALSE(q.needs_notification());  // nothing new
}

TEST_F(QueueTest, ArmKickAsksForTheNextChainAndSeesOnesThatSlippedIn) {
  Queue q = make();
  EXPECT_FALSE(q.arm_kick()) << "without EVENT_IDX the driver always kicks";
  EXPECT_EQ(dq.avail_event(), 0);
  q.enable_event_idx();
  dq.add_chain({{g.alloc(8), 8, true}});
  dq.add_chain({{g.alloc(8), 8, true}});
  ASSERT_TRUE(q.pop());
  // Armed with a chain still waiting: avail_event is the current avail idx, so the
  // driver kicks for the next one it adds (not for the one already there).
  EXPECT_FALSE(q.arm_kick());
  EXPECT_EQ(dq.avail_event(), 2);
  uint16_t old = dq.avail_idx();
  dq.add_chain({{g.alloc(8), 8, true}});
  EXPECT_TRUE(dq.would_kick(old));
  // Not armed again: the driver's next chain gets no kick (the device is busy).
  old = dq.avail_idx();
  dq.add_chain({{g.alloc(8), 8, true}});
  EXPECT_FALSE(dq.would_kick(old));
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.pop());
  EXPECT_FALSE(q.pop());
  EXPECT_FALSE(q.arm_kick());
  EXPECT_EQ(dq.avail_event(), 4);
}

}  // namespace
}  // namespace runvm::vmm::virtio
