// libFuzzer target: vsock packet handling. The input is a stream of guest tx
// packets (header fields mostly steered to hit live connections) fed through
// parse_tx() into a Muxer that has two real host connections and a listener;
// after each packet the rx side is drained into guest buffers and every
// packet the muxer produces is checked (addresses, length within the buffer
// and within the guest's advertised credit).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#define FUZZ_TARGET "vsock_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/vsock/muxer.h"
#include "vmm/devices/virtio/vsock/packet.h"

using namespace runvm::vmm::virtio;
using namespace runvm::vmm::virtio::vsock;
using runvm::vmm::virtio::testing::DriverQueue;
using runvm::vmm::virtio::testing::TestGuest;

namespace {

constexpr uint64_t kGuestCid = 3;

void check(bool ok) {
  if (!ok) std::abort();
}

class Watcher : public FdWatcher {
 public:
  void watch(int fd, uint32_t events) override {
    if (events)
      fds[fd] = events;
    else
      fds.erase(fd);
  }
  std::map<int, uint32_t> fds;
};

// Delivers "readiness" for every watched fd, as an event loop would.
void pump(Muxer& m, Watcher& w) {
  auto copy = w.fds;
  for (auto [fd, ev] : copy) m.on_fd_event(fd, ev);
}

std::string socket_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/runvm-vsock-fuzz-XXXXXX";
    char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

int connect_to(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

using Reader = runvm::fuzz::FuzzInput;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string uds = socket_dir() + "/v.sock";
  Watcher watcher;
  Muxer mux(kGuestCid, uds, &watcher);
  check(mux.listen().ok());

  // Two host clients asking for guest ports 5 and 6.
  int clients[2] = {connect_to(uds), connect_to(uds)};
  check(clients[0] >= 0 && clients[1] >= 0);
  check(write(clients[0], "CONNECT 5\n", 10) == 10);
  check(write(clients[1], "CONNECT 6\n", 10) == 10);
  pump(mux, watcher);
  pump(mux, watcher);

  TestGuest g(1 << 20);
  DriverQueue txd(g, 256, TestGuest::kBase), rxd(g, 256, TestGuest::kBase + 0x8000);
  auto tx = Queue::create(g.mem(), txd.config(), 256);
  auto rx = Queue::create(g.mem(), rxd.config(), 256);
  check(tx.ok() && rx.ok());
  const uint64_t tx_buf = g.alloc(sizeof(Header) + kMaxPayload);
  const uint64_t rx_buf = g.alloc(4096 + sizeof(Header));
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> guest_credit;  // (local, peer) -> buf_alloc

  auto drain_rx = [&] {
    for (int i = 0; i < 64 && mux.has_rx_work(); ++i) {
      uint32_t room = 4096 + sizeof(Header);
      rxd.add_chain({{rx_buf, room, true}});
      auto chain = rx->pop();
      check(chain.has_value());
      uint32_t n = mux.fill_rx(*chain);
      rx->add_used(std::move(*chain), n);
      if (n == 0) break;
      check(n >= sizeof(Header) && n <= room);
      Header h;
      std::memcpy(&h, g.host(rx_buf), sizeof h);
      check(h.src_cid == kHostCid && h.dst_cid == kGuestCid && h.type == kTypeStream);
      check(h.op >= kOpRequest && h.op <= kOpCreditRequest);
      check(n == sizeof(Header) + h.len);
      if (h.op == kOpRw) check(h.len > 0 && h.len <= guest_credit[{h.src_port, h.dst_port}]);
    }
  };
  drain_rx();

  Reader in(data, size);
  const uint32_t ports[] = {5, 6, 7, 1234};
  for (int step = 0; step < 64 && !in.empty(); ++step) {
    uint8_t ctl = in.u8();
    if (ctl == 0xff) {  // host clients write or close
      uint8_t which = in.u8() & 1;
      if (in.u8() & 1) {
        if (clients[which] >= 0) shutdown(clients[which], SHUT_WR);
      } else if (clients[which] >= 0) {
        // A client may write after its own shutdown(SHUT_WR): EPIPE, never SIGPIPE.
        [[maybe_unused]] ssize_t w =
            send(clients[which], "abcdefghijklmnop", in.u8() % 17, MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      pump(mux, watcher);
      drain_rx();
      continue;
    }
    Header h;
    h.src_cid = (ctl & 0x80) ? in.u32() : kGuestCid;
    h.dst_cid = (ctl & 0x40) ? in.u32() : kHostCid;
    h.src_port = ports[in.u8() % 4];
    uint8_t dp = in.u8();
    h.dst_port = dp < 128 ? Muxer::kFirstLocalPort + (dp % 3) : ports[dp % 4];
    h.type = (ctl & 0x20) ? in.u8() : kTypeStream;
    h.op = ctl & 0x7;
    if (ctl & 0x08) h.op = in.u8();
    h.flags = in.u8() & 3;
    h.buf_alloc = in.u32() % (1 << 20);
    h.fwd_cnt = in.u32();
    uint32_t len = h.op == kOpRw ? in.u8() * 16u : 0;
    if (ctl & 0x10) len = in.u32();  // lie about the length
    h.len = len;
    uint32_t real = std::min<uint32_t>(len, kMaxPayload);
    std::memcpy(g.host(tx_buf), &h, sizeof h);
    std::memset(g.host(tx_buf + sizeof h), 'p', real);
    txd.add_chain({{tx_buf, static_cast<uint32_t>(sizeof h + real), false}});
    auto chain = tx->pop();
    check(chain.has_value());
    auto pkt = parse_tx(*chain, kGuestCid);
    tx->add_used(std::move(*chain), 0);
    if (pkt) {
      check(pkt->hdr.src_cid == kGuestCid && pkt->hdr.dst_cid == kHostCid);
      check(pkt->payload.size() == pkt->hdr.len && pkt->hdr.len <= kMaxPayload);
      if (pkt->hdr.op != kOpRst)
        guest_credit[{pkt->hdr.dst_port, pkt->hdr.src_port}] = pkt->hdr.buf_alloc;
      mux.on_guest_packet(*pkt);
    }
    check(mux.connection_count() <= Muxer::kMaxConnections);
    pump(mux, watcher);
    drain_rx();
  }
  mux.on_timer(Muxer::now_ms() + Muxer::kConnectTimeoutMs + 1);
  drain_rx();
  for (int fd : clients)
    if (fd >= 0) close(fd);
  return 0;
}
