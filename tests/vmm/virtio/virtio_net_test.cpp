// virtio-net inside the process: the test plays the guest driver on the rx
// and tx queues and the host network on the other end of a SOCK_SEQPACKET
// socketpair that stands in for the tap (it keeps frame boundaries), while
// the device runs on a real event loop thread.
#include "vmm/devices/virtio/net/virtio_net.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
// <net/if.h> before any linux/ header (both define the interface structs).
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "tests/vmm/virtio/test_guest.h"

namespace runvm::vmm::virtio {
namespace {

using net::kMaxPacketLen;
using net::kNetHdrSize;
using net::VirtioNetHdr;
using testing::Buf;
using testing::DriverQueue;
using testing::TestGuest;
using testing::wait_for;

constexpr std::array<uint8_t, 6> kMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
constexpr uint64_t kTxOffloads = net::kFCsum | net::kFHostTso4 | net::kFHostTso6;

class CountingInterrupt : public VirtioInterrupt {
 public:
  void notify_queue(uint16_t q) override { ++queue[q & 1]; }
  void notify_config() override {}
  std::atomic<int> queue[2] = {0, 0};
};

// A packet as it crosses the tap: header then frame, with recognisable bytes.
std::string packet(size_t frame_len, uint8_t seed, VirtioNetHdr h = {}) {
  std::string p(kNetHdrSize + frame_len, '\0');
  std::memcpy(p.data(), &h, sizeof h);
  for (size_t i = 0; i < frame_len; ++i)
    p[kNetHdrSize + i] = static_cast<char>(seed + i * 7 + (i >> 8));
  return p;
}

// Equal bytes, or where they first differ (frames are too long to print).
::testing::AssertionResult same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at offset " << i;
}

// `pkt` as the guest should see it: num_buffers set by the device.
std::string with_num_buffers(std::string pkt, uint16_t n) {
  std::memcpy(pkt.data() + net::kNumBuffersOffset, &n, 2);
  return pkt;
}

uint16_t num_buffers_of(const std::string& pkt) {
  uint16_t v;
  std::memcpy(&v, pkt.data() + net::kNumBuffersOffset, 2);
  return v;
}

class VirtioNetTest : public ::testing::Test {
 protected:
  VirtioNetTest()
      : g(16 << 20), rxq(g, 256, TestGuest::kBase), txq(g, 256, TestGuest::kBase + 0x8000) {}

  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    peer = sv[0];
    dev_fd = sv[1];
    // Room for a few maximum-size frames in flight either way.
    int sz = 1 << 20;
    setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    auto d = VirtioNet::create(UniqueFd(dev_fd), kMac, 9000, loop);
    ASSERT_TRUE(d.ok()) << d.error().what();
    dev = *d;
    loop_thread = std::thread([this] { (void)loop.run(); });
  }
  void TearDown() override {
    dev.reset();
    loop.stop();
    if (loop_thread.joinable()) loop_thread.join();
    close(peer);
  }

  void activate(uint64_t features) {
    dev->ack_features(features);
    std::vector<std::optional<Queue>> qs;
    qs.emplace_back(std::move(*Queue::create(g.mem(), rxq.config(), 256)));
    qs.emplace_back(std::move(*Queue::create(g.mem(), txq.config(), 256)));
    if (features & kFeatureRingEventIdx)  // as the transport does
      for (auto& q : qs) q->enable_event_idx();
    ASSERT_TRUE(dev->activate(g.mem(), std::move(qs), irq).ok());
  }

  // One-descriptor rx chain of `len` bytes; returns its guest address.
  uint64_t post_rx(uint32_t len, bool kick = true) {
    uint64_t addr = g.alloc(len);
    uint16_t head = rxq.add_chain({{addr, len, true}});
    rx_addr[head] = addr;
    if (kick) dev->queue_notify(VirtioNet::kRxQueue);
    return addr;
  }
  std::optional<std::pair<uint32_t, uint32_t>> next_rx_used(int ms = 5000) {
    std::optional<std::pair<uint32_t, uint32_t>> used;
    wait_for([&] { return (used = rxq.take_used()).has_value(); }, ms);
    return used;
  }
  // Collects one received packet: its used entries and the bytes they hold.
  std::string receive(std::vector<uint32_t>* lens = nullptr) {
    auto first = next_rx_used();
    if (!first) return "";
    std::string out(reinterpret_cast<char*>(g.host(rx_addr.at(first->first))), first->second);
    if (lens) lens->push_back(first->second);
    uint16_t n = out.size() >= kNetHdrSize ? num_buffers_of(out) : 1;
    for (uint16_t i = 1; i < n; ++i) {
      auto more = rxq.take_used();  // published together with the first
      EXPECT_TRUE(more.has_value()) << "buffer " << i << " of " << n << " missing";
      if (!more) break;
      out.append(reinterpret_cast<char*>(g.host(rx_addr.at(more->first))), more->second);
      if (lens) lens->push_back(more->second);
    }
    return out;
  }

  // Publishes a tx chain made of `parts` (readable unless marked) and kicks.
  uint16_t send_tx(const std::vector<std::pair<std::string, bool>>& parts) {
    std::vector<Buf> bufs;
    for (auto& [bytes, writable] : parts) {
      uint64_t a = g.alloc(bytes.size() + 1);
      g.fill(a, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      bufs.push_back({a, static_cast<uint32_t>(bytes.size()), writable});
    }
    uint16_t head = txq.add_chain(bufs);
    dev->queue_notify(VirtioNet::kTxQueue);
    return head;
  }
  uint16_t send_tx(const std::string& pkt) { return send_tx({{pkt, false}}); }

  // The next packet the device wrote to the "tap", or "" after `ms`.
  std::string peer_recv(int ms = 5000) {
    pollfd p{peer, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return "";
    std::string buf(kMaxPacketLen + 16, '\0');
    ssize_t n = recv(peer, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) return "";
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  void peer_send(const std::string& pkt) {
    ASSERT_EQ(send(peer, pkt.data(), pkt.size(), MSG_DONTWAIT), static_cast<ssize_t>(pkt.size()));
  }
  // Size of the next frame still queued towards the device (0: none).
  int queued_for_device() {
    int n = 0;
    EXPECT_EQ(ioctl(dev_fd, FIONREAD, &n), 0);
    return n;
  }
  void expect_tx_dropped(uint16_t head, uint64_t dropped_before, const char* what) {
    std::optional<std::pair<uint32_t, uint32_t>> used;
    ASSERT_TRUE(wait_for([&] { return (used = txq.take_used()).has_value(); })) << what;
    EXPECT_EQ(used->first, head) << what;
    EXPECT_EQ(used->second, 0u) << what;
    EXPECT_EQ(dev->stats().tx_dropped, dropped_before + 1) << what;
    EXPECT_EQ(peer_recv(20), "") << what;
  }

  TestGuest g;
  DriverQueue rxq, txq;
  EventLoop loop;
  std::thread loop_thread;
  int peer = -1, dev_fd = -1;
  std::shared_ptr<VirtioNet> dev;
  std::shared_ptr<CountingInterrupt> irq = std::make_shared<CountingInterrupt>();
  std::map<uint16_t, uint64_t> rx_addr;  // head -> buffer
};

TEST_F(VirtioNetTest, ConfigSpaceAndFeatures) {
  EXPECT_EQ(dev->device_type(), 1u);
  EXPECT_EQ(dev->queue_max_sizes(), (std::vector<uint16_t>{256, 256}));
  ASSERT_EQ(dev->config_size(), 12u);
  uint8_t cfg[12];
  dev->read_config(0, cfg);
  EXPECT_EQ(std::memcmp(cfg, kMac.data(), 6), 0);
  uint16_t status, pairs, mtu;
  std::memcpy(&status, cfg + 6, 2);
  std::memcpy(&pairs, cfg + 8, 2);
  std::memcpy(&mtu, cfg + 10, 2);
  EXPECT_EQ(status, net::kStatusLinkUp);
  EXPECT_EQ(pairs, 1);
  EXPECT_EQ(mtu, 9000);
  // Partial and out-of-range reads: bytes past the config read as zero.
  uint8_t part[4] = {0xaa, 0xaa, 0xaa, 0xaa};
  dev->read_config(10, part);
  EXPECT_EQ(part[0], 9000 & 0xff);
  EXPECT_EQ(part[1], 9000 >> 8);
  EXPECT_EQ(part[2], 0);
  EXPECT_EQ(part[3], 0);
  dev->read_config(0xffffffff, part);
  EXPECT_EQ(part[0], 0);

  uint64_t f = dev->device_features();
  for (uint64_t bit :
       {net::kFMac, net::kFMtu, net::kFStatus, net::kFMrgRxbuf, net::kFCsum, net::kFGuestCsum,
        net::kFGuestTso4, net::kFGuestTso6, net::kFHostTso4, net::kFHostTso6})
    EXPECT_TRUE(f & bit) << bit;
  // Not implemented: must not be offered.
  for (uint64_t bit : {net::kFCtrlVq, net::kFMq, net::kFHostUfo, net::kFGuestUfo, net::kFHostEcn,
                       net::kFGuestEcn, net::kFHostUso})
    EXPECT_FALSE(f & bit) << bit;
}

TEST_F(VirtioNetTest, CreateRejectsBadArguments) {
  EventLoop l;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[0]);
  EXPECT_FALSE(VirtioNet::create(UniqueFd(dup(sv[1])), kMac, 67, l).ok());
  EXPECT_FALSE(VirtioNet::create(UniqueFd(dup(sv[1])), {0x01, 0, 0, 0, 0, 1}, 1500, l).ok());
  EXPECT_FALSE(VirtioNet::create(UniqueFd(), kMac, 1500, l).ok());
  EXPECT_TRUE(VirtioNet::create(UniqueFd(dup(sv[1])), kMac, 68, l).ok());
  // No MTU given: VIRTIO_NET_F_MTU is not offered (the guest's MTU is free).
  auto free_mtu = VirtioNet::create(UniqueFd(sv[1]), kMac, 0, l);
  ASSERT_TRUE(free_mtu.ok());
  EXPECT_FALSE((*free_mtu)->device_features() & net::kFMtu);
  EXPECT_TRUE((*free_mtu)->device_features() & net::kFMrgRxbuf);
}

TEST_F(VirtioNetTest, ActivateNeedsBothQueues) {
  std::vector<std::optional<Queue>> qs;
  qs.emplace_back(std::move(*Queue::create(g.mem(), rxq.config(), 256)));
  qs.emplace_back(std::nullopt);
  EXPECT_FALSE(dev->activate(g.mem(), std::move(qs), irq).ok());
  EXPECT_EQ(dev->tap_events(), VirtioNet::kNotWatched);
}

TEST_F(VirtioNetTest, TxFrameReachesTheTapByteExact) {
  activate(kTxOffloads);
  // A TSO frame with a partial checksum, its header split over two buffers.
  VirtioNetHdr h;
  h.flags = net::kHdrFNeedsCsum;
  h.gso_type = net::kGsoTcpV4;
  h.hdr_len = 54;
  h.gso_size = 1448;
  h.csum_start = 34;
  h.csum_offset = 16;
  std::string pkt = packet(3000, 5, h);
  uint16_t head =
      send_tx({{pkt.substr(0, 5), false}, {pkt.substr(5, 1000), false}, {pkt.substr(1005), false}});
  EXPECT_TRUE(same_bytes(peer_recv(), pkt));
  auto used = txq.take_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->first, head);
  EXPECT_EQ(used->second, 0u);
  EXPECT_EQ(dev->stats().tx_frames, 1u);
  EXPECT_EQ(irq->queue[VirtioNet::kTxQueue].load(), 1);

  // A plain frame too.
  std::string small = packet(60, 9);
  send_tx(small);
  EXPECT_EQ(peer_recv(), small);
  EXPECT_EQ(dev->stats().tx_frames, 2u);
  EXPECT_EQ(dev->stats().tx_dropped, 0u);
}

TEST_F(VirtioNetTest, TxChainWithMoreBuffersThanOneWritevTakes) {
  activate(0);
  // An indirect table of 1500 buffers (IOV_MAX is 1024): header, then 40-byte pieces.
  constexpr uint16_t kPieces = 1500;
  std::string pkt = packet(40 * (kPieces - 1), 11);
  uint64_t table = g.alloc(16 * kPieces);
  uint64_t data = g.alloc(pkt.size());
  g.fill(data, std::span(reinterpret_cast<const uint8_t*>(pkt.data()), pkt.size()));
  for (uint16_t i = 0; i < kPieces; ++i) {
    uint32_t len = i == 0 ? kNetHdrSize : 40;
    uint64_t at = i == 0 ? data : data + kNetHdrSize + 40ull * (i - 1);
    txq.set_table_desc(table, i, at, len, i + 1 < kPieces ? kDescFNext : 0, i + 1);
  }
  txq.set_desc(100, table, 16 * kPieces, kDescFIndirect, 0);
  txq.publish(100);
  dev->queue_notify(VirtioNet::kTxQueue);
  EXPECT_TRUE(same_bytes(peer_recv(), pkt));
  EXPECT_EQ(dev->stats().tx_frames, 1u);
}

TEST_F(VirtioNetTest, MalformedTxIsDroppedAndCounted) {
  activate(kTxOffloads);
  uint64_t d = 0;
  expect_tx_dropped(send_tx(std::string(8, 'x')), d++, "chain shorter than the header");
  VirtioNetHdr bad_gso;
  bad_gso.gso_type = 2;
  bad_gso.flags = net::kHdrFNeedsCsum;
  bad_gso.gso_size = 100;
  expect_tx_dropped(send_tx(packet(200, 1, bad_gso)), d++, "unknown gso type");
  VirtioNetHdr bad_csum;
  bad_csum.flags = net::kHdrFNeedsCsum;
  bad_csum.csum_start = 190;
  bad_csum.csum_offset = 16;
  expect_tx_dropped(send_tx(packet(200, 1, bad_csum)), d++, "checksum beyond the frame");
  expect_tx_dropped(send_tx({{packet(100, 1), true}}), d++, "writable-only chain");
  expect_tx_dropped(send_tx({{packet(100, 1), false}, {std::string(16, 'w'), true}}), d++,
                    "chain with a writable buffer");
  expect_tx_dropped(send_tx(packet(kMaxPacketLen - kNetHdrSize + 1, 1)), d++, "oversized frame");
  expect_tx_dropped(send_tx(packet(4, 1)), d++, "no Ethernet header");
  // A descriptor pointing outside guest memory never reaches the device.
  txq.set_desc(200, g.end() + 0x1000, 100, 0, 0);
  txq.publish(200);
  dev->queue_notify(VirtioNet::kTxQueue);
  ASSERT_TRUE(wait_for([&] { return txq.take_used().has_value(); }));
  EXPECT_EQ(dev->stats().tx_dropped, d) << "the queue rejects it, not the device";

  // The device still works.
  std::string ok = packet(100, 3);
  send_tx(ok);
  EXPECT_EQ(peer_recv(), ok);
  EXPECT_EQ(dev->stats().tx_frames, 1u);
}

TEST_F(VirtioNetTest, TxGsoNeedsNegotiation) {
  activate(net::kFCsum);  // no HOST_TSO4
  VirtioNetHdr h;
  h.flags = net::kHdrFNeedsCsum;
  h.gso_type = net::kGsoTcpV4;
  h.gso_size = 1448;
  h.csum_start = 34;
  h.csum_offset = 16;
  expect_tx_dropped(send_tx(packet(3000, 1, h)), 0, "TSO4 not acked");
}

TEST_F(VirtioNetTest, RxWithoutMergeableBuffers) {
  activate(net::kFGuestCsum);
  uint64_t buf = post_rx(kNetHdrSize + 1514);
  VirtioNetHdr h;
  h.flags = net::kHdrFDataValid;
  h.num_buffers = 0xbeef;  // whatever the tap leaves there, the device sets it
  std::string pkt = packet(1000, 7, h);
  peer_send(pkt);
  std::vector<uint32_t> lens;
  std::string got = receive(&lens);
  ASSERT_EQ(lens, std::vector<uint32_t>{static_cast<uint32_t>(pkt.size())});
  EXPECT_EQ(num_buffers_of(got), 1);
  std::string want = with_num_buffers(pkt, 1);
  EXPECT_TRUE(same_bytes(got, want));
  EXPECT_EQ(got[0], char(net::kHdrFDataValid));
  EXPECT_TRUE(same_bytes(std::string(reinterpret_cast<char*>(g.host(buf)), pkt.size()), want));
  EXPECT_TRUE(wait_for([&] { return irq->queue[VirtioNet::kRxQueue].load() >= 1; }));
  EXPECT_EQ(dev->stats().rx_frames, 1u);
}

TEST_F(VirtioNetTest, RxFlagsAreClearedWithoutGuestCsum) {
  activate(0);
  post_rx(kNetHdrSize + 1514);
  VirtioNetHdr h;
  h.flags = net::kHdrFDataValid;
  std::string pkt = packet(100, 1, h);
  peer_send(pkt);
  std::string got = receive();
  ASSERT_EQ(got.size(), pkt.size());
  EXPECT_EQ(got[0], 0) << "DATA_VALID without VIRTIO_NET_F_GUEST_CSUM";
  std::string want = with_num_buffers(pkt, 1);
  want[0] = 0;
  EXPECT_TRUE(same_bytes(got, want));
}

TEST_F(VirtioNetTest, RxWithoutMergeableBuffersDropsWhatDoesNotFitOneChain) {
  activate(0);
  post_rx(kNetHdrSize + 100);
  peer_send(packet(500, 1));  // larger than the chain
  ASSERT_TRUE(wait_for([&] { return dev->stats().rx_dropped == 1; }));
  // The chain was kept: the next frame that fits lands in it.
  std::string small = packet(80, 2);
  peer_send(small);
  std::string got = receive();
  ASSERT_EQ(got.size(), small.size());
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), small.substr(kNetHdrSize)));
  EXPECT_EQ(num_buffers_of(got), 1);
  EXPECT_EQ(dev->stats().rx_frames, 1u);
}

TEST_F(VirtioNetTest, RxBigChainWithoutMergeableBuffersIsReadDirectly) {
  activate(net::kFGuestCsum | net::kFGuestTso4);  // "big packets" mode
  post_rx(kMaxPacketLen);
  std::string pkt = packet(60000, 4);
  peer_send(pkt);
  std::string got = receive();
  ASSERT_EQ(got.size(), pkt.size());
  EXPECT_EQ(num_buffers_of(got), 1);
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), pkt.substr(kNetHdrSize)));
}

TEST_F(VirtioNetTest, RxMergeableFrameSpreadsOverChains) {
  activate(net::kFMrgRxbuf | net::kFGuestCsum | net::kFGuestTso4);
  // Enough room for any frame: the frame is read straight into guest buffers.
  for (int i = 0; i < 64; ++i) post_rx(1536, false);
  dev->queue_notify(VirtioNet::kRxQueue);
  // A GSO frame from the tap: its header reaches the guest as it was.
  VirtioNetHdr h;
  h.flags = net::kHdrFNeedsCsum;
  h.gso_type = net::kGsoTcpV4;
  h.hdr_len = 66;
  h.gso_size = 1448;
  h.csum_start = 34;
  h.csum_offset = 16;
  std::string pkt = packet(4000, 3, h);
  peer_send(pkt);
  std::vector<uint32_t> lens;
  std::string got = receive(&lens);
  EXPECT_EQ(lens, (std::vector<uint32_t>{1536, 1536, 4012 - 2 * 1536}));
  EXPECT_EQ(num_buffers_of(got), 3);
  EXPECT_TRUE(same_bytes(got, with_num_buffers(pkt, 3)));
  // A small one next uses one chain.
  std::string small = packet(64, 8);
  peer_send(small);
  lens.clear();
  got = receive(&lens);
  EXPECT_EQ(lens, std::vector<uint32_t>{static_cast<uint32_t>(small.size())});
  EXPECT_EQ(num_buffers_of(got), 1);
  EXPECT_EQ(dev->stats().rx_frames, 2u);
}

TEST_F(VirtioNetTest, RxMergeableFrameCopiedWhenRoomIsShort) {
  activate(net::kFMrgRxbuf);
  // Less room than a maximum frame: the frame goes through host memory.
  for (int i = 0; i < 3; ++i) post_rx(1536, false);
  dev->queue_notify(VirtioNet::kRxQueue);
  std::string pkt = packet(4000, 6);
  peer_send(pkt);
  std::vector<uint32_t> lens;
  std::string got = receive(&lens);
  EXPECT_EQ(lens, (std::vector<uint32_t>{1536, 1536, 4012 - 2 * 1536}));
  ASSERT_EQ(got.size(), pkt.size());
  EXPECT_EQ(num_buffers_of(got), 3);
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), pkt.substr(kNetHdrSize)));
}

TEST_F(VirtioNetTest, RxChainWithMoreBuffersThanOneReadvTakes) {
  activate(net::kFMrgRxbuf);
  // Room for any frame, but in 2000 buffers of 40 bytes: read through host memory.
  constexpr uint16_t kPieces = 2000;
  uint64_t table = g.alloc(16 * kPieces);
  uint64_t data = g.alloc(40 * kPieces);
  for (uint16_t i = 0; i < kPieces; ++i)
    rxq.set_table_desc(table, i, data + 40ull * i, 40,
                       kDescFWrite | (i + 1 < kPieces ? kDescFNext : 0), i + 1);
  rxq.set_desc(100, table, 16 * kPieces, kDescFIndirect, 0);
  rxq.publish(100);
  dev->queue_notify(VirtioNet::kRxQueue);
  std::string pkt = packet(30000, 12);
  peer_send(pkt);
  auto used = next_rx_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->first, 100u);
  ASSERT_EQ(used->second, pkt.size());
  std::string got(reinterpret_cast<char*>(g.host(data)), pkt.size());
  EXPECT_TRUE(same_bytes(got, with_num_buffers(pkt, 1)));
}

TEST_F(VirtioNetTest, RxBackPressureWithoutBuffers) {
  activate(net::kFMrgRxbuf);
  // No buffers: the device stops reading and asks epoll for nothing.
  EXPECT_TRUE(wait_for([&] { return dev->tap_events() == 0; }));
  std::string a = packet(300, 1), b = packet(400, 2);
  peer_send(a);
  peer_send(b);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // FIONREAD on a SOCK_SEQPACKET socket counts every queued byte.
  EXPECT_EQ(queued_for_device(), static_cast<int>(a.size() + b.size())) << "a frame was read";
  EXPECT_FALSE(rxq.take_used().has_value());

  post_rx(2048);  // the kick resumes rx
  std::string got = receive();
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), a.substr(kNetHdrSize)));
  // One buffer, one frame: the second stays in the socket, not in the VMM.
  EXPECT_TRUE(wait_for([&] { return dev->tap_events() == 0; }));
  EXPECT_EQ(queued_for_device(), static_cast<int>(b.size()));
  EXPECT_FALSE(dev->rx_frame_pending());

  post_rx(2048);
  got = receive();
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), b.substr(kNetHdrSize)));
  EXPECT_EQ(dev->stats().rx_frames, 2u);
  EXPECT_EQ(dev->stats().rx_dropped, 0u);
}

TEST_F(VirtioNetTest, RxBackPressureHoldsOneFrame) {
  activate(net::kFMrgRxbuf);
  post_rx(100);  // room for a header, not for the frame
  std::string a = packet(1000, 1), b = packet(700, 2);
  peer_send(a);
  ASSERT_TRUE(wait_for([&] { return dev->rx_frame_pending(); }));
  peer_send(b);
  EXPECT_TRUE(wait_for([&] { return dev->tap_events() == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(queued_for_device(), static_cast<int>(b.size())) << "a second frame was read";
  EXPECT_FALSE(rxq.take_used().has_value());

  for (int i = 0; i < 4; ++i) post_rx(256, false);
  dev->queue_notify(VirtioNet::kRxQueue);
  std::vector<uint32_t> lens;
  std::string got = receive(&lens);
  EXPECT_EQ(lens, (std::vector<uint32_t>{100, 256, 256, 256, 1012 - 100 - 3 * 256}));
  EXPECT_EQ(num_buffers_of(got), 5);
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), a.substr(kNetHdrSize)));
  EXPECT_FALSE(dev->rx_frame_pending());
  // All five chains went to the frame (the last one partly): b needs more.
  for (int i = 0; i < 4; ++i) post_rx(256, false);
  dev->queue_notify(VirtioNet::kRxQueue);
  got = receive();
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), b.substr(kNetHdrSize)));
}

TEST_F(VirtioNetTest, RxBuffersTooSmallForAHeaderAreReturned) {
  activate(net::kFMrgRxbuf);
  uint64_t tiny = g.alloc(8);
  uint16_t head = rxq.add_chain({{tiny, 8, true}});
  dev->queue_notify(VirtioNet::kRxQueue);
  auto used = next_rx_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->first, head);
  EXPECT_EQ(used->second, 0u);
  EXPECT_EQ(dev->stats().rx_bad_buffers, 1u);
  // A readable-only chain on the rx queue: no room at all.
  uint64_t ro = g.alloc(2048);
  head = rxq.add_chain({{ro, 2048, false}});
  dev->queue_notify(VirtioNet::kRxQueue);
  used = next_rx_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->first, head);
  EXPECT_EQ(dev->stats().rx_bad_buffers, 2u);
}

TEST_F(VirtioNetTest, ResetWhileAFrameIsPending) {
  activate(net::kFMrgRxbuf);
  post_rx(100);
  std::string a = packet(1000, 1), b = packet(500, 2);
  peer_send(a);
  ASSERT_TRUE(wait_for([&] { return dev->rx_frame_pending(); }));
  peer_send(b);
  dev->reset();
  EXPECT_FALSE(dev->rx_frame_pending());
  EXPECT_EQ(dev->tap_events(), VirtioNet::kNotWatched);
  // Stale doorbells after reset are ignored.
  dev->queue_notify(VirtioNet::kRxQueue);
  dev->queue_notify(VirtioNet::kTxQueue);
  EXPECT_EQ(queued_for_device(), static_cast<int>(b.size()));

  // The driver comes back with fresh rings.
  DriverQueue rx2(g, 256, TestGuest::kBase + 0x10000), tx2(g, 256, TestGuest::kBase + 0x18000);
  dev->ack_features(net::kFMrgRxbuf);
  std::vector<std::optional<Queue>> qs;
  qs.emplace_back(std::move(*Queue::create(g.mem(), rx2.config(), 256)));
  qs.emplace_back(std::move(*Queue::create(g.mem(), tx2.config(), 256)));
  ASSERT_TRUE(dev->activate(g.mem(), std::move(qs), irq).ok());
  uint64_t buf = g.alloc(2048);
  rx2.add_chain({{buf, 2048, true}});
  dev->queue_notify(VirtioNet::kRxQueue);
  std::optional<std::pair<uint32_t, uint32_t>> used;
  ASSERT_TRUE(wait_for([&] { return (used = rx2.take_used()).has_value(); }));
  EXPECT_EQ(used->second, b.size());
  std::string got(reinterpret_cast<char*>(g.host(buf)), used->second);
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), b.substr(kNetHdrSize)));
}

TEST_F(VirtioNetTest, PeerHangupStopsWatchingWithoutSpinning) {
  activate(net::kFMrgRxbuf);
  ASSERT_TRUE(wait_for([&] { return dev->tap_events() == 0; }));  // no buffers yet
  std::string a = packet(100, 1);
  peer_send(a);
  close(peer);
  peer = -1;
  // The hang-up is reported even with no events requested: the fd must go.
  EXPECT_TRUE(wait_for([&] { return dev->tap_events() == VirtioNet::kNotWatched; }));
  // Frames already queued are still delivered when the driver posts buffers.
  post_rx(2048);
  std::string got = receive();
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), a.substr(kNetHdrSize)));
  EXPECT_TRUE(wait_for([&] { return dev->tap_events() == VirtioNet::kNotWatched; }));
}

// EVENT_IDX: the device asks for a kick only when it would otherwise wait (tx idle, rx
// out of buffers) and interrupts only past the driver's used_event.
TEST_F(VirtioNetTest, EventIdxKicksOnlyWhenTheDeviceWaits) {
  EXPECT_TRUE(dev->device_features() & kFeatureRingEventIdx);
  activate(net::kFMrgRxbuf | kFeatureRingEventIdx);
  // tx: a frame goes out, then the device is idle and armed for the next chain.
  std::string a = packet(200, 1);
  send_tx(a);
  EXPECT_TRUE(same_bytes(peer_recv(), a));
  ASSERT_TRUE(wait_for([&] { return txq.take_used().has_value(); }));
  EXPECT_EQ(txq.avail_event(), txq.avail_idx());
  uint16_t old = txq.avail_idx();
  std::string b = packet(300, 2);
  uint64_t at = g.alloc(b.size());
  g.fill(at, std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  txq.add_chain({{at, static_cast<uint32_t>(b.size()), false}});
  EXPECT_TRUE(txq.would_kick(old)) << "the idle device asked for no kick";
  dev->queue_notify(VirtioNet::kTxQueue);
  EXPECT_TRUE(same_bytes(peer_recv(), b));
  // Interrupts: none while the driver's used_event is ahead, one once it is passed.
  ASSERT_TRUE(wait_for([&] { return txq.take_used().has_value(); }));
  const int tx_irqs = irq->queue[1];
  txq.set_used_event(static_cast<uint16_t>(txq.used_idx() + 1));
  send_tx(packet(100, 3));
  ASSERT_TRUE(wait_for([&] { return txq.take_used().has_value(); }));
  EXPECT_FALSE(peer_recv().empty());
  EXPECT_EQ(irq->queue[1], tx_irqs) << "interrupted before used_event was passed";
  send_tx(packet(100, 4));
  EXPECT_FALSE(peer_recv().empty());
  ASSERT_TRUE(wait_for([&] { return irq->queue[1] >= tx_irqs + 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(irq->queue[1], tx_irqs + 1) << "one interrupt, for the chain past used_event";

  // rx: a frame with no buffers posted makes the device arm the rx queue, so the
  // driver's first buffer is kicked, and the held frame lands in it.
  std::string r = packet(400, 5);
  peer_send(r);
  ASSERT_TRUE(wait_for([&] { return dev->tap_events() == 0; }));  // waits for buffers
  old = rxq.avail_idx();
  post_rx(2048, false);
  ASSERT_TRUE(rxq.would_kick(old)) << "the device waits for buffers but asked for no kick";
  dev->queue_notify(VirtioNet::kRxQueue);
  std::string got = receive();
  EXPECT_TRUE(same_bytes(got.substr(kNetHdrSize), r.substr(kNetHdrSize)));
}

// A real tap in a private network namespace (forked child): the offloads the device sets
// with TUNSETOFFLOAD follow the driver: on with GUEST_CSUM+GUEST_TSO4 acked, off again after
// a reset, so a new driver that takes no GSO frames is never handed one.
int tap_tso(int sock, const char* name) {
  ethtool_value v{};
  v.cmd = ETHTOOL_GTSO;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  ifr.ifr_data = reinterpret_cast<char*>(&v);
  return ioctl(sock, SIOCETHTOOL, &ifr) == 0 ? static_cast<int>(v.data) : -1;
}

int reset_turns_offloads_off() {
  if (unshare(CLONE_NEWNET) != 0) return 77;
  int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0) return 77;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "rvtest0");
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  int hdr = static_cast<int>(kNetHdrSize);
  if (ioctl(tun, TUNSETIFF, &ifr) != 0 || ioctl(tun, TUNSETVNETHDRSZ, &hdr) != 0) return 77;
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return 2;
  EventLoop loop;
  auto dev = VirtioNet::create(UniqueFd(tun), kMac, 1500, loop);
  if (!dev.ok()) return 3;
  if (tap_tso(sock, "rvtest0") != 0) return 4;  // a new tap: no offloads yet
  (*dev)->ack_features(net::kFGuestCsum | net::kFGuestTso4 | net::kFGuestTso6);
  if (tap_tso(sock, "rvtest0") != 1) return 5;
  (*dev)->reset();
  if (tap_tso(sock, "rvtest0") != 0) return 6;
  (*dev)->ack_features(net::kFGuestCsum);  // a driver without TSO: the tap stays off
  if (tap_tso(sock, "rvtest0") != 0) return 7;
  return 0;
}

TEST(VirtioNetTap, OffloadsFollowTheDriverAndResetTurnsThemOff) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) _exit(reset_turns_offloads_off());
  int ws = 0;
  ASSERT_EQ(waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws));
  if (WEXITSTATUS(ws) == 77) GTEST_SKIP() << "no network namespaces or tun here";
  EXPECT_EQ(WEXITSTATUS(ws), 0) << "failed step (see reset_turns_offloads_off)";
}

}  // namespace
}  // namespace runvm::vmm::virtio
