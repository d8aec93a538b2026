// libFuzzer target: the virtio-net device against hostile rings. The input
// picks the features the driver acknowledges, then up to 64 steps: tx chains
// (lengths, addresses, writable flags and header fields from the input), rx
// chains, frames the "tap" (a SOCK_SEQPACKET socketpair) sends towards the
// guest, raw descriptors with arbitrary flags/next, indirect chains of up to
// 2048 buffers, config reads, avail index jumps, and device resets. RX is driven by rx kicks (the
// event loop is never run).
//
// Checked after every step: each frame that reached the tap has a header
// that validate_tx_header() accepts for the acknowledged features, and is
// within the size bounds; the device never accounts for more frames than
// were offered to it either way.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#define FUZZ_TARGET "net_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/net/net_header.h"
#include "vmm/devices/virtio/net/virtio_net.h"

using namespace runvm::vmm;
using namespace runvm::vmm::virtio;
using runvm::UniqueFd;
using runvm::vmm::virtio::testing::Buf;
using runvm::vmm::virtio::testing::DriverQueue;
using runvm::vmm::virtio::testing::TestGuest;

namespace {

constexpr uint16_t kQueueSize = 64;  // small rings wrap often
constexpr uint64_t kRxRing = TestGuest::kBase;
constexpr uint64_t kTxRing = TestGuest::kBase + 0x4000;
constexpr uint64_t kArea = TestGuest::kBase + 0x40000;  // buffers live above the rings
constexpr uint64_t kGuestSize = 1 << 20;

void check(bool ok) {
  if (!ok) std::abort();
}

using runvm::vmm::virtio::testing::NullInterrupt;

using Reader = runvm::fuzz::FuzzInput;

// A header mostly steered to plausible values, sometimes wholly arbitrary.
net::VirtioNetHdr make_header(Reader& in) {
  net::VirtioNetHdr h;
  uint8_t ctl = in.u8();
  h.flags = (ctl & 0x80) ? in.u8() : (ctl & 1);
  h.gso_type = (ctl & 0x40) ? in.u8() : static_cast<uint8_t>((ctl >> 1) % 6);
  h.hdr_len = (ctl & 0x20) ? in.u16() : in.u8();
  h.gso_size = in.u16();
  h.csum_start = (ctl & 0x10) ? in.u16() : in.u8();
  h.csum_offset = (ctl & 0x08) ? in.u16() : in.u8() % 32;
  h.num_buffers = in.u16();
  return h;
}

uint32_t buffer_len(Reader& in) {
  uint8_t sel = in.u8();
  if (sel < 0x40) return sel;                                     // tiny, including 0 and < header
  if (sel < 0xf0) return in.u16() % 4096;                         // typical
  if (sel < 0xfe) return in.u16();                                // up to 64 KiB
  return static_cast<uint32_t>(net::kMaxPacketLen + sel - 0xfe);  // at the limit
}

uint64_t buffer_addr(Reader& in, uint32_t len) {
  uint8_t sel = in.u8();
  if (sel == 0xff) return in.u32() + (uint64_t{in.u8()} << 32);  // anywhere, even outside
  uint64_t span = kGuestSize - (kArea - TestGuest::kBase);
  uint64_t off = (uint64_t{in.u16()} * 64) % span;
  if (off + len > span) off = len < span ? span - len : 0;
  return kArea + off;
}

struct Harness {
  Harness(const uint8_t* data, size_t size) : in(data, size), g(kGuestSize) {}

  Reader in;
  TestGuest g;
  EventLoop loop;
  int peer = -1;
  std::shared_ptr<VirtioNet> dev;
  std::optional<DriverQueue> rxd, txd;
  std::shared_ptr<NullInterrupt> irq = std::make_shared<NullInterrupt>();
  uint64_t features = 0;
  uint64_t tx_offered = 0;  // chains published on tx since activation
  uint64_t rx_sent = 0;     // frames the peer managed to send
  std::vector<uint8_t> buf = std::vector<uint8_t>(net::kMaxPacketLen + 64);

  void activate() {
    std::memset(g.host(kRxRing), 0, kArea - kRxRing);
    rxd.emplace(g, kQueueSize, kRxRing);
    txd.emplace(g, kQueueSize, kTxRing);
    dev->ack_features(features);
    std::vector<std::optional<Queue>> qs;
    auto rq = Queue::create(g.mem(), rxd->config(), VirtioNet::kQueueSize);
    auto tq = Queue::create(g.mem(), txd->config(), VirtioNet::kQueueSize);
    check(rq.ok() && tq.ok());
    if (features & kFeatureRingEventIdx) {  // as the transport does
      rq->enable_event_idx();
      tq->enable_event_idx();
    }
    qs.emplace_back(std::move(*rq));
    qs.emplace_back(std::move(*tq));
    check(dev->activate(g.mem(), std::move(qs), irq).ok());
  }

  // Everything the device wrote to the tap must be a valid packet.
  void drain_peer() {
    for (;;) {
      ssize_t n = recv(peer, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) return;
      check(static_cast<size_t>(n) >= net::kNetHdrSize);
      check(static_cast<size_t>(n) <= net::kMaxPacketLen);
      net::VirtioNetHdr h;
      std::memcpy(&h, buf.data(), sizeof h);
      check(net::validate_tx_header(h, n - net::kNetHdrSize, features).ok());
    }
  }

  void check_stats() {
    auto st = dev->stats();
    check(st.tx_frames + st.tx_dropped <= tx_offered);
    check(st.rx_frames + st.rx_dropped + (dev->rx_frame_pending() ? 1 : 0) <= rx_sent);
  }

  void tx_chain() {
    int nbufs = 1 + in.u8() % 4;
    std::vector<Buf> bufs;
    for (int i = 0; i < nbufs; ++i) {
      uint32_t len = buffer_len(in);
      bool writable = (in.u8() & 0x0f) == 0;
      bufs.push_back({buffer_addr(in, len), len, writable});
    }
    // The header goes to the front of the chain, wherever its buffers are.
    net::VirtioNetHdr h = make_header(in);
    const auto* hb = reinterpret_cast<const uint8_t*>(&h);
    size_t done = 0;
    for (const Buf& b : bufs) {
      if (done == sizeof h) break;
      size_t n = std::min<size_t>(sizeof h - done, b.len);
      if (g.mem().contains(b.addr, n)) g.fill(b.addr, std::span(hb + done, n));
      done += n;
    }
    txd->add_chain(bufs);
    ++tx_offered;
    dev->queue_notify(VirtioNet::kTxQueue);
  }

  void rx_chains() {
    int chains = 1 + in.u8() % 8;
    for (int c = 0; c < chains; ++c) {
      int nbufs = 1 + in.u8() % 3;
      std::vector<Buf> bufs;
      for (int i = 0; i < nbufs; ++i) {
        uint32_t len = buffer_len(in);
        bool readable = (in.u8() & 0x1f) == 0;
        bufs.push_back({buffer_addr(in, len), len, !readable});
      }
      rxd->add_chain(bufs);
    }
    dev->queue_notify(VirtioNet::kRxQueue);
  }

  void peer_frame() {
    uint8_t sel = in.u8();
    size_t len = sel < 0x10 ? sel : net::kNetHdrSize + in.u16() % (net::kMaxFrameLen + 1);
    net::VirtioNetHdr h = make_header(in);
    std::memcpy(buf.data(), &h, std::min(len, sizeof h));
    for (size_t i = sizeof h; i < len; ++i) buf[i] = static_cast<uint8_t>(i * 13);
    if (send(peer, buf.data(), len, MSG_DONTWAIT) == static_cast<ssize_t>(len)) ++rx_sent;
    dev->queue_notify(VirtioNet::kRxQueue);
  }

  void raw_descriptor() {
    DriverQueue& q = (in.u8() & 1) ? *rxd : *txd;
    uint16_t idx = in.u16() % kQueueSize;
    uint64_t addr = (in.u8() & 1) ? buffer_addr(in, 0) : in.u32();
    q.set_desc(idx, addr, in.u32(), in.u16(), in.u16());
    if (in.u8() & 1) {
      q.publish(in.u16());  // any head, even out of range
      if (&q == &*txd) ++tx_offered;
      dev->queue_notify(&q == &*txd ? VirtioNet::kTxQueue : VirtioNet::kRxQueue);
    }
  }

  // A chain through an indirect table of up to 2048 small buffers: more
  // than one readv/writev takes (IOV_MAX).
  void indirect_chain() {
    bool tx = in.u8() & 1;
    DriverQueue& q = tx ? *txd : *rxd;
    uint16_t n = 1 + in.u16() % 2048;
    uint32_t each = 1 + in.u8() % 64;
    uint64_t table = kArea;  // 32 KiB of descriptors at most
    uint64_t data = kArea + 0x8000;
    uint64_t room = kGuestSize - (data - TestGuest::kBase);
    if (uint64_t{n} * each > room) each = static_cast<uint32_t>(room / n);
    for (uint16_t i = 0; i < n; ++i) {
      uint16_t flags = (tx ? 0 : kDescFWrite) | (i + 1 < n ? kDescFNext : 0);
      q.set_table_desc(table, i, data + uint64_t{i} * each, each, flags, i + 1);
    }
    if (tx) {
      net::VirtioNetHdr h = make_header(in);
      const auto* hb = reinterpret_cast<const uint8_t*>(&h);
      for (size_t i = 0; i < sizeof h; ++i) g.put<uint8_t>(data + i, hb[i]);
    }
    uint16_t head = in.u16() % kQueueSize;
    q.set_desc(head, table, 16u * n, kDescFIndirect, 0);
    q.publish(head);
    if (tx) ++tx_offered;
    dev->queue_notify(tx ? VirtioNet::kTxQueue : VirtioNet::kRxQueue);
  }

  void read_config() {
    uint8_t out[16];
    uint32_t off = in.u8() < 0xf0 ? in.u8() % 16 : in.u32();
    dev->read_config(off, std::span(out, 1 + in.u8() % sizeof out));
  }

  void avail_jump() {
    DriverQueue& q = (in.u8() & 1) ? *rxd : *txd;
    uint16_t idx = in.u16();
    q.set_avail_idx(idx);
    if (&q == &*txd) tx_offered += kQueueSize * 1024;  // no longer countable
    dev->queue_notify(in.u8() & 1);
  }

  void reset() {
    dev->reset();
    check(!dev->rx_frame_pending());
    check(dev->tap_events() == VirtioNet::kNotWatched);
    features = in.u32() & VirtioNet::kFeatures;
    activate();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness h(data, size);
  check(h.loop.ok());
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  h.peer = sv[0];
  std::array<uint8_t, 6> mac{0x02, 0, 0, 0, 0, 1};
  auto dev = VirtioNet::create(UniqueFd(sv[1]), mac, 1500, h.loop);
  check(dev.ok());
  h.dev = *dev;
  h.features = h.in.u32() & VirtioNet::kFeatures;
  h.activate();

  for (int step = 0; step < 64 && !h.in.empty(); ++step) {
    switch (h.in.u8() % 10) {
      case 0:
      case 1:
        h.tx_chain();
        break;
      case 2:
      case 3:
        h.rx_chains();
        break;
      case 4:
      case 5:
        h.peer_frame();
        break;
      case 6:
        h.raw_descriptor();
        break;
      case 7:
        h.indirect_chain();
        break;
      case 8:
        h.read_config();
        break;
      case 9:
        if (h.in.u8() & 1)
          h.avail_jump();
        else
          h.reset();
        break;
    }
    h.drain_peer();
    h.check_stats();
  }
  h.dev.reset();
  close(h.peer);
  return 0;
}
