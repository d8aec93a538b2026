// libFuzzer target: the virtio-vsock device as a guest driver and host programs
// drive it, on one thread: activation, tx packets and rx buffers with their kicks,
// host connections on real unix sockets that connect, write, are accepted and
// close, event-loop passes (EventLoop::run_once) and reset + re-activation at any
// point (a driver that reloads, a guest that resets the device mid-stream).
// Checked: every packet the device puts in an rx buffer is addressed host ->
// guest, fits the buffer, and says its own length; and when the device is gone
// no fd of it is left open.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#define FUZZ_TARGET "vsock_device_fuzzer"
#include "tests/fuzz/fuzz_input.h"
#include "tests/vmm/virtio/test_guest.h"
#include "vmm/devices/virtio/vsock/packet.h"
#include "vmm/devices/virtio/vsock/vsock.h"
#include "vmm/event/event_loop.h"

using namespace runvm::vmm;
using namespace runvm::vmm::virtio;
using runvm::vmm::virtio::testing::DriverQueue;
using runvm::vmm::virtio::testing::NullInterrupt;
using runvm::vmm::virtio::testing::TestGuest;
using vsock::Header;

namespace {

constexpr uint64_t kGuestCid = 3;
constexpr uint16_t kRing = 256;
constexpr uint32_t kListenPort = 5000;  // a host program listens on <uds>_5000
constexpr size_t kMaxHostFds = 8;
constexpr size_t kMaxRxPosted = 128;
constexpr uint32_t kSlot = 4096;  // one rx or tx buffer

// Guest memory: three rings, then the rx and tx buffer slots.
constexpr uint64_t kRxRing = TestGuest::kBase, kTxRing = kRxRing + 0x8000,
                   kEvRing = kTxRing + 0x8000, kRxBufs = kEvRing + 0x8000,
                   kTxBufs = kRxBufs + uint64_t{kRing} * kSlot;
constexpr size_t kGuestBytes = 0x18000 + 2ull * kRing * kSlot + 0x40000;

std::string socket_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/runvm-vsockdev-fuzz-XXXXXX";
    char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

int unix_socket_at(const std::string& path, bool listen_there) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  auto* sa = reinterpret_cast<sockaddr*>(&a);
  bool ok = listen_there ? (unlink(path.c_str()), bind(fd, sa, sizeof a) == 0 && listen(fd, 8) == 0)
                         : connect(fd, sa, sizeof a) == 0;
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

class Harness {
 public:
  explicit Harness(const std::string& uds) : g_(kGuestBytes), uds_(uds) {
    auto d = VirtioVsock::create(kGuestCid, uds, loop_);
    FUZZ_CHECK(d.ok());
    dev_ = *d;
    listener_ = unix_socket_at(uds + "_" + std::to_string(kListenPort), true);
  }
  ~Harness() {
    for (int fd : host_fds_) close(fd);
    if (listener_ >= 0) close(listener_);
    unlink((uds_ + "_" + std::to_string(kListenPort)).c_str());
  }

  // A driver (re)initialising the device: zeroed rings, all three queues. As
  // with the transport, DRIVER_OK activates only a device that is not running.
  void activate() {
    if (active_) return;
    std::memset(g_.host(kRxRing), 0, kRxBufs - kRxRing);
    rx_.emplace(g_, kRing, kRxRing);
    tx_.emplace(g_, kRing, kTxRing);
    ev_.emplace(g_, kRing, kEvRing);
    rx_posted_.clear();
    std::vector<std::optional<Queue>> qs;
    for (auto* q : {&*rx_, &*tx_, &*ev_}) {
      auto made = Queue::create(g_.mem(), q->config(), kRing);
      FUZZ_CHECK(made.ok());
      qs.emplace_back(std::move(*made));
    }
    FUZZ_CHECK(dev_->activate(g_.mem(), std::move(qs), std::make_shared<NullInterrupt>()).ok());
    active_ = true;
  }
  void reset() {
    dev_->reset();
    active_ = false;
  }

  void guest_tx(runvm::fuzz::FuzzInput& in) {
    if (!active_) return;
    Header h;
    static constexpr uint32_t kPorts[] = {1024, kListenPort, 49152, 7};
    h.src_cid = (in.u8() & 7) ? kGuestCid : in.u64();
    h.dst_cid = (in.u8() & 7) ? vsock::kHostCid : in.u64();
    h.src_port = kPorts[in.u8() & 3];
    h.dst_port = (in.u8() & 1) ? kPorts[in.u8() & 3] : last_host_port_;
    h.type = (in.u8() & 7) ? vsock::kTypeStream : in.u16();
    h.op = static_cast<uint16_t>(in.u8() % 9);
    h.flags = in.u8() & 3;
    h.buf_alloc = (in.u8() & 1) ? 64 * 1024 : in.u32();
    h.fwd_cnt = in.u32();
    uint32_t payload = h.op == vsock::kOpRw ? in.u8() * 8u : 0;
    // The header may lie about the length: the device must trust the chain.
    h.len = (in.u8() & 7) ? payload : in.u32();
    const uint64_t slot = kTxBufs + uint64_t{next_tx_++ % kRing} * kSlot;
    std::memcpy(g_.host(slot), &h, sizeof h);
    for (uint32_t i = 0; i < payload; ++i) g_.host(slot + sizeof h)[i] = in.u8();
    // Header and payload in one buffer, or split across two descriptors.
    const uint32_t total = static_cast<uint32_t>(sizeof h + payload);
    if (in.u8() & 1 && total > 8)
      tx_->add_chain({{slot, 8, false}, {slot + 8, total - 8, false}});
    else
      tx_->add_chain({{slot, total, false}});
    dev_->queue_notify(VirtioVsock::kTxQueue);
  }

  void guest_post_rx(runvm::fuzz::FuzzInput& in) {
    if (!active_) return;
    for (int n = in.u8() % 16; n > 0 && rx_posted_.size() < kMaxRxPosted; --n) {
      // Some buffers are too small for a header: the device must hand them back.
      uint32_t len = (in.u8() & 7) ? kSlot : in.u8();
      const uint64_t addr = kRxBufs + uint64_t{next_rx_++ % kRing} * kSlot;
      uint16_t head = rx_->add_chain({{addr, len, true}});
      rx_posted_[head] = {addr, len};
    }
    dev_->queue_notify(VirtioVsock::kRxQueue);
  }

  void host_connect(runvm::fuzz::FuzzInput& in) {
    if (host_fds_.size() >= kMaxHostFds) return;
    int fd = unix_socket_at(uds_, false);
    if (fd < 0) return;
    std::string line = (in.u8() & 7) ? "CONNECT " + std::to_string(in.u8() & 1 ? 1024 : in.u16())
                                     : std::string("GARBAGE");
    line += "\n";
    [[maybe_unused]] auto r = send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    host_fds_.push_back(fd);
  }
  void host_accept() {
    if (listener_ < 0 || host_fds_.size() >= kMaxHostFds) return;
    int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) host_fds_.push_back(fd);
  }
  void host_write(runvm::fuzz::FuzzInput& in) {
    if (host_fds_.empty()) return;
    char buf[512];
    size_t n = in.u8() * 2u;
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(in.u8());
    // The device may have closed its end: EPIPE, not SIGPIPE.
    [[maybe_unused]] auto r = send(host_fds_[in.u8() % host_fds_.size()], buf, n, MSG_NOSIGNAL);
  }
  void host_read_or_close(runvm::fuzz::FuzzInput& in) {
    if (host_fds_.empty()) return;
    size_t i = in.u8() % host_fds_.size();
    if (in.u8() & 1) {
      char buf[4096];
      [[maybe_unused]] auto r = read(host_fds_[i], buf, sizeof buf);
      return;
    }
    close(host_fds_[i]);
    host_fds_.erase(host_fds_.begin() + static_cast<long>(i));
  }
  void loop_pass() { FUZZ_CHECK(loop_.run_once(0) >= 0); }

  // Takes what the device put in rx buffers and checks each packet.
  void drain_rx() {
    if (!active_) return;
    while (auto used = rx_->take_used()) {
      auto it = rx_posted_.find(static_cast<uint16_t>(used->first));
      FUZZ_CHECK(it != rx_posted_.end());
      auto [addr, len] = it->second;
      rx_posted_.erase(it);
      FUZZ_CHECK(used->second <= len);
      if (used->second == 0) continue;  // a buffer too small for a header, given back
      FUZZ_CHECK(used->second >= sizeof(Header));
      Header h;
      std::memcpy(&h, g_.host(addr), sizeof h);
      FUZZ_CHECK(h.src_cid == vsock::kHostCid && h.dst_cid == kGuestCid);
      FUZZ_CHECK(h.type == vsock::kTypeStream);
      FUZZ_CHECK(h.op >= vsock::kOpRequest && h.op <= vsock::kOpCreditRequest);
      FUZZ_CHECK(sizeof h + h.len == used->second);
      if (h.op == vsock::kOpRequest) last_host_port_ = h.src_port;
    }
  }

 private:
  TestGuest g_;
  std::string uds_;
  EventLoop loop_;  // declared before the device, which must not outlive it
  std::shared_ptr<VirtioVsock> dev_;
  std::optional<DriverQueue> rx_, tx_, ev_;
  std::map<uint16_t, std::pair<uint64_t, uint32_t>> rx_posted_;
  std::vector<int> host_fds_;
  int listener_ = -1;
  bool active_ = false;
  uint32_t next_rx_ = 0, next_tx_ = 0, last_host_port_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runvm::fuzz::FuzzInput in(data, size);
  static const std::string uds = socket_dir() + "/v.sock";
  const size_t fds_before = runvm::fuzz::open_fd_count();
  {
    Harness h(uds);
    h.activate();
    for (int steps = 0; !in.empty() && steps < 512; ++steps) {
      switch (in.u8() % 9) {
        case 0:
          h.guest_tx(in);
          break;
        case 1:
          h.guest_post_rx(in);
          break;
        case 2:
          h.host_connect(in);
          break;
        case 3:
          h.host_accept();
          break;
        case 4:
          h.host_write(in);
          break;
        case 5:
          h.host_read_or_close(in);
          break;
        case 6:
          h.loop_pass();
          break;
        case 7:
          h.reset();
          break;
        case 8:
          h.activate();
          break;
      }
      h.drain_rx();
    }
    h.reset();
  }
  // The device, its listener, its connections and its timer are gone with it.
  FUZZ_CHECK(runvm::fuzz::open_fd_count() == fds_before);
  return 0;
}
