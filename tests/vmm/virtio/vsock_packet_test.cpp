// vsock packet validation and per-connection credit accounting.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/vsock/connection.h"
#include "vmm/devices/virtio/vsock/packet.h"

namespace runvm::vmm::virtio::vsock {
namespace {

using testing::DriverQueue;
using testing::TestGuest;

constexpr uint64_t kGuestCid = 3;

Header good_header(uint16_t op = kOpRw, uint32_t len = 0) {
  Header h;
  h.src_cid = kGuestCid;
  h.dst_cid = kHostCid;
  h.src_port = 1000;
  h.dst_port = 2000;
  h.len = len;
  h.type = kTypeStream;
  h.op = op;
  h.buf_alloc = 4096;
  return h;
}

TEST(VsockPacket, ValidatesHeaderFields) {
  EXPECT_TRUE(validate_tx_header(good_header(kOpRw, 10), kGuestCid, 10).ok());
  EXPECT_TRUE(validate_tx_header(good_header(kOpRequest), kGuestCid, 0).ok());

  Header h = good_header();
  h.src_cid = 4;  // spoofed source
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 0).ok());
  h = good_header();
  h.dst_cid = 7;  // another guest
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 0).ok());
  h = good_header();
  h.type = 2;  // seqpacket was not negotiated
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 0).ok());
  for (uint16_t op : {uint16_t{0}, uint16_t{8}, uint16_t{0xffff}}) {
    h = good_header(op);
    EXPECT_FALSE(validate_tx_header(h, kGuestCid, 0).ok()) << op;
  }
  h = good_header(kOpRw, kMaxPayload + 1);
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 1 << 20).ok());
  h = good_header(kOpRw, 100);  // claims more than the chain holds
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 99).ok());
  h = good_header(kOpShutdown, 4);  // control op with payload
  EXPECT_FALSE(validate_tx_header(h, kGuestCid, 4).ok());
}

TEST(VsockPacket, ParsesFromChain) {
  TestGuest g;
  DriverQueue q(g, 16, TestGuest::kBase);
  auto queue = Queue::create(g.mem(), q.config(), 16);
  ASSERT_TRUE(queue.ok());

  // Header and payload in separate descriptors, payload split too.
  Header h = good_header(kOpRw, 6);
  uint64_t hb = g.alloc(sizeof h), p1 = g.alloc(2), p2 = g.alloc(4);
  g.fill(hb, std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  const uint8_t payload[] = {'a', 'b', 'c', 'd', 'e', 'f'};
  g.fill(p1, std::span(payload, 2));
  g.fill(p2, std::span(payload + 2, 4));
  q.add_chain({{hb, sizeof h, false}, {p1, 2, false}, {p2, 4, false}});
  auto chain = queue->pop();
  ASSERT_TRUE(chain);
  auto pkt = parse_tx(*chain, kGuestCid);
  ASSERT_TRUE(pkt.ok()) << pkt.error().what();
  EXPECT_EQ(pkt->hdr.op, kOpRw);
  EXPECT_EQ(std::string(pkt->payload.begin(), pkt->payload.end()), "abcdef");

  // A chain shorter than the header.
  uint64_t small = g.alloc(20);
  q.add_chain({{small, 20, false}});
  chain = queue->pop();
  ASSERT_TRUE(chain);
  EXPECT_FALSE(parse_tx(*chain, kGuestCid).ok());

  // len larger than what follows the header.
  h = good_header(kOpRw, 100);
  g.fill(hb, std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  q.add_chain({{hb, sizeof h, false}, {p2, 4, false}});
  chain = queue->pop();
  ASSERT_TRUE(chain);
  EXPECT_FALSE(parse_tx(*chain, kGuestCid).ok());
}

TEST(VsockCredit, PeerFreeTracksWhatWeSent) {
  Connection c(-1, 1u << 30, 1000, Connection::State::kEstablished);
  EXPECT_EQ(c.peer_free(), 0u);  // no credit until the guest advertises some
  c.update_peer_credit(4096, 0);
  EXPECT_EQ(c.peer_free(), 4096u);
  c.on_sent_to_peer(4000);
  EXPECT_EQ(c.peer_free(), 96u);
  c.on_sent_to_peer(96);
  EXPECT_EQ(c.peer_free(), 0u);
  c.update_peer_credit(4096, 1000);  // the guest consumed 1000 bytes
  EXPECT_EQ(c.peer_free(), 1000u);
  c.update_peer_credit(512, 1000);  // it shrank its buffer below what is in flight
  EXPECT_EQ(c.peer_free(), 0u);
}

TEST(VsockCredit, CountersWrap) {
  Connection c(-1, 1, 2, Connection::State::kEstablished);
  c.update_peer_credit(4096, 0);
  for (int i = 0; i < 1100; ++i) {  // ~4.5 GiB through a 32-bit counter
    c.on_sent_to_peer(4096);
    c.update_peer_credit(4096, static_cast<uint32_t>((i + 1) * 4096ull));
  }
  EXPECT_EQ(c.peer_free(), 4096u);
  c.on_sent_to_peer(100);
  EXPECT_EQ(c.peer_free(), 3996u);
}

TEST(VsockCredit, GuestDataIsBoundedAndForwarded) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Connection c(sv[0], 1, 2, Connection::State::kEstablished);
  std::vector<uint8_t> chunk(Connection::kBufAlloc / 2, 'x');
  EXPECT_TRUE(c.push_tx(chunk));
  EXPECT_TRUE(c.push_tx(chunk));
  EXPECT_FALSE(c.push_tx(std::vector<uint8_t>(1, 'y')));  // beyond the credit we gave
  EXPECT_EQ(c.tx_pending(), Connection::kBufAlloc);
  ASSERT_TRUE(c.flush_tx());
  uint32_t forwarded = c.fwd_cnt();
  EXPECT_GT(forwarded, 0u);
  EXPECT_EQ(c.tx_pending(), Connection::kBufAlloc - forwarded);
  EXPECT_TRUE(c.credit_update_due());  // most of the buffer is still in flight
  // Our header advertises what we forwarded, and that resets the "due" state.
  Header h = c.header(3, kOpCreditUpdate);
  EXPECT_EQ(h.fwd_cnt, forwarded);
  EXPECT_EQ(h.buf_alloc, Connection::kBufAlloc);
  EXPECT_EQ(h.src_cid, kHostCid);
  EXPECT_EQ(h.dst_cid, 3u);
  EXPECT_FALSE(c.credit_update_due());
  // Drain the peer and flush the rest.
  std::vector<uint8_t> sink(1 << 20);
  size_t got = 0;
  while (c.tx_pending() > 0) {
    ssize_t n = read(sv[1], sink.data(), sink.size());
    if (n > 0) got += static_cast<size_t>(n);
    ASSERT_TRUE(c.flush_tx());
  }
  while (got < Connection::kBufAlloc) {
    ssize_t n = read(sv[1], sink.data(), sink.size());
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  EXPECT_EQ(c.fwd_cnt(), Connection::kBufAlloc);
  close(sv[1]);
  // Writing to a closed peer is a fatal error.
  EXPECT_TRUE(c.push_tx(chunk));
  EXPECT_FALSE(c.flush_tx());
  close(sv[0]);
}

}  // namespace
}  // namespace runvm::vmm::virtio::vsock
