// virtio-vsock end to end inside the process: the test plays the guest driver
// on the rx/tx queues and a host program on real unix sockets, while the
// device runs on a real event loop thread.
#include "vmm/devices/virtio/vsock/vsock.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/vmm/virtio/test_guest.h"

namespace runvm::vmm::virtio {
namespace {

using testing::DriverQueue;
using testing::TestGuest;
using testing::wait_for;
using vsock::Header;

constexpr uint64_t kGuestCid = 42;
constexpr uint32_t kRxBuf = sizeof(Header) + 4096;

class CountingInterrupt : public VirtioInterrupt {
 public:
  void notify_queue(uint16_t) override { ++queue; }
  void notify_config() override { ++config; }
  std::atomic<int> queue{0}, config{0};
};

struct Packet {
  Header hdr;
  std::string payload;
};

int unix_connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int unix_listen(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until `n` bytes or EOF/timeout.
std::string read_n(int fd, size_t n, int ms = 5000) {
  std::string out;
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) break;
    char buf[4096];
    ssize_t r = read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// Reads one line (up to '\n').
std::string read_line(int fd) {
  std::string out;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return out;
    char c;
    if (read(fd, &c, 1) != 1) return out;
    if (c == '\n') return out;
    out.push_back(c);
  }
}

// True once the device closed its end (EOF, or ECONNRESET when it closed with
// bytes of ours still unread).
bool at_eof(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return false;
  char c;
  ssize_t n = read(fd, &c, 1);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

class VsockDeviceTest : public ::testing::Test {
 protected:
  VsockDeviceTest()
      : g(32 << 20),
        rx(g, 256, TestGuest::kBase),
        tx(g, 256, TestGuest::kBase + 0x8000),
        ev(g, 256, TestGuest::kBase + 0x10000) {}

  void SetUp() override {
    uds = dir / "v.sock";
    auto d = VirtioVsock::create(kGuestCid, uds, loop);
    ASSERT_TRUE(d.ok()) << d.error().what();
    dev = *d;
    loop_thread = std::thread([this] { (void)loop.run(); });
    std::vector<std::optional<Queue>> qs;
    qs.emplace_back(std::move(*Queue::create(g.mem(), rx.config(), 256)));
    qs.emplace_back(std::move(*Queue::create(g.mem(), tx.config(), 256)));
    qs.emplace_back(std::move(*Queue::create(g.mem(), ev.config(), 256)));
    ASSERT_TRUE(dev->activate(g.mem(), std::move(qs), irq).ok());
    for (int i = 0; i < 128; ++i) post_rx(g.alloc(kRxBuf));
    dev->queue_notify(VirtioVsock::kRxQueue);
  }
  void TearDown() override {
    dev.reset();
    loop.stop();
    if (loop_thread.joinable()) loop_thread.join();
  }

  void post_rx(uint64_t addr) {
    uint16_t head = rx.add_chain({{addr, kRxBuf, true}});
    rx_bufs[head] = addr;
  }
  // Next packet the device sent to the "guest"; reposts the buffer.
  std::optional<Packet> recv(int ms = 5000) {
    std::optional<std::pair<uint32_t, uint32_t>> used;
    if (!wait_for([&] { return (used = rx.take_used()).has_value(); }, ms)) return std::nullopt;
    uint64_t addr = rx_bufs.at(static_cast<uint16_t>(used->first));
    Packet p;
    std::memcpy(&p.hdr, g.host(addr), sizeof(Header));
    EXPECT_EQ(used->second, sizeof(Header) + p.hdr.len);
    p.payload.assign(reinterpret_cast<char*>(g.host(addr + sizeof(Header))), p.hdr.len);
    rx_bufs.erase(static_cast<uint16_t>(used->first));
    post_rx(addr);
    dev->queue_notify(VirtioVsock::kRxQueue);
    return p;
  }
  // Next packet with an op other than CREDIT_UPDATE.
  std::optional<Packet> recv_skip_credit(int ms = 5000) {
    for (;;) {
      auto p = recv(ms);
      if (!p || p->hdr.op != vsock::kOpCreditUpdate) return p;
    }
  }
  void send(uint16_t op, uint32_t src_port, uint32_t dst_port, const std::string& payload = "",
            uint32_t flags = 0, uint32_t buf_alloc = 64 * 1024, uint32_t fwd_cnt = 0) {
    Header h;
    h.src_cid = kGuestCid;
    h.dst_cid = vsock::kHostCid;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.len = static_cast<uint32_t>(payload.size());
    h.type = vsock::kTypeStream;
    h.op = op;
    h.flags = flags;
    h.buf_alloc = buf_alloc;
    h.fwd_cnt = fwd_cnt;
    uint64_t addr = g.alloc(sizeof h + payload.size());
    std::memcpy(g.host(addr), &h, sizeof h);
    if (!payload.empty()) std::memcpy(g.host(addr + sizeof h), payload.data(), payload.size());
    tx.add_chain({{addr, static_cast<uint32_t>(sizeof h + payload.size()), false}});
    dev->queue_notify(VirtioVsock::kTxQueue);
  }
  // Host CONNECT + guest accept; returns the host fd and the local port.
  std::pair<int, uint32_t> host_connect(uint32_t guest_port, uint32_t guest_buf = 64 * 1024) {
    int fd = unix_connect(uds);
    EXPECT_GE(fd, 0);
    std::string line = "CONNECT " + std::to_string(guest_port) + "\n";
    EXPECT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    auto req = recv();
    EXPECT_TRUE(req.has_value());
    if (!req) return {fd, 0};
    EXPECT_EQ(req->hdr.op, vsock::kOpRequest);
    EXPECT_EQ(req->hdr.dst_port, guest_port);
    send(vsock::kOpResponse, guest_port, req->hdr.src_port, "", 0, guest_buf);
    EXPECT_EQ(read_line(fd), "OK " + std::to_string(req->hdr.src_port));
    return {fd, req->hdr.src_port};
  }

  TestGuest g;
  DriverQueue rx, tx, ev;
  std::map<uint16_t, uint64_t> rx_bufs;
  EventLoop loop;
  std::thread loop_thread;
  std::shared_ptr<CountingInterrupt> irq = std::make_shared<CountingInterrupt>();
  std::shared_ptr<VirtioVsock> dev;
  runvm::testing::TempDir dir;
  std::string uds;
};

// The socket reaches the guest agent (root in the guest): owner only, even with umask 0.
TEST_F(VsockDeviceTest, UnixSocketIsOwnerOnly) {
  mode_t old = umask(0);
  EventLoop other;
  auto d = VirtioVsock::create(kGuestCid, dir / "u0.sock", other);
  umask(old);
  ASSERT_TRUE(d.ok()) << d.error().what();
  struct stat st {};
  ASSERT_EQ(stat((dir / "u0.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(VsockDeviceTest, ConfigIsGuestCid) {
  uint8_t cfg[8];
  dev->read_config(0, cfg);
  uint64_t cid;
  std::memcpy(&cid, cfg, 8);
  EXPECT_EQ(cid, kGuestCid);
  EXPECT_EQ(dev->device_type(), 19u);
  EXPECT_EQ(dev->queue_max_sizes().size(), 3u);
}

TEST_F(VsockDeviceTest, HostConnectHandshakeAndData) {
  auto [fd, local] = host_connect(1234);
  ASSERT_GE(local, vsock::Muxer::kFirstLocalPort);
  EXPECT_EQ(dev->connection_count(), 1u);

  // host -> guest
  ASSERT_EQ(write(fd, "hello", 5), 5);
  auto p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpRw);
  EXPECT_EQ(p->hdr.src_cid, vsock::kHostCid);
  EXPECT_EQ(p->hdr.dst_cid, kGuestCid);
  EXPECT_EQ(p->hdr.src_port, local);
  EXPECT_EQ(p->hdr.dst_port, 1234u);
  EXPECT_EQ(p->payload, "hello");
  EXPECT_GT(irq->queue.load(), 0);

  // guest -> host
  send(vsock::kOpRw, 1234, local, "world");
  EXPECT_EQ(read_n(fd, 5), "world");

  // The host half-closes: the guest hears SHUTDOWN(SEND) and can still send.
  shutdown(fd, SHUT_WR);
  p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpShutdown);
  EXPECT_TRUE(p->hdr.flags & vsock::kShutdownSend);
  send(vsock::kOpRw, 1234, local, "late");
  EXPECT_EQ(read_n(fd, 4), "late");
  // The guest closes too: the device answers RST and closes the stream.
  send(vsock::kOpShutdown, 1234, local, "", vsock::kShutdownSend | vsock::kShutdownRcv);
  p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpRst);
  EXPECT_TRUE(at_eof(fd));
  EXPECT_TRUE(wait_for([&] { return dev->connection_count() == 0; }));
  close(fd);
}

TEST_F(VsockDeviceTest, HostConnectRefusedByGuest) {
  int fd = unix_connect(uds);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "CONNECT 99\n", 11), 11);
  auto req = recv();
  ASSERT_TRUE(req);
  ASSERT_EQ(req->hdr.op, vsock::kOpRequest);
  send(vsock::kOpRst, 99, req->hdr.src_port);
  EXPECT_TRUE(at_eof(fd));  // no "OK": the client sees the stream close
  EXPECT_TRUE(wait_for([&] { return dev->connection_count() == 0; }));
  close(fd);
}

TEST_F(VsockDeviceTest, BadConnectLineIsClosed) {
  for (const char* line : {"HELLO 5\n", "CONNECT\n", "CONNECT 99999999999\n", "CONNECT 5x\n",
                           "CONNECT 1234567890123456789012345678901234567890"}) {
    int fd = unix_connect(uds);
    ASSERT_GE(fd, 0);
    ASSERT_GT(write(fd, line, strlen(line)), 0);
    EXPECT_TRUE(at_eof(fd)) << line;
    close(fd);
  }
  EXPECT_EQ(dev->connection_count(), 0u);
  EXPECT_FALSE(recv(100).has_value());  // nothing reached the guest
}

TEST_F(VsockDeviceTest, HostToGuestRespectsGuestCredit) {
  auto [fd, local] = host_connect(7, /*guest_buf=*/8);
  std::string data(20, 'z');
  ASSERT_EQ(write(fd, data.data(), data.size()), 20);
  auto p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload.size(), 8u);  // only what the guest has room for
  EXPECT_FALSE(recv(200).has_value());
  // The guest consumed 8 bytes: 8 more may come.
  send(vsock::kOpCreditUpdate, 7, local, "", 0, 8, 8);
  p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload.size(), 8u);
  send(vsock::kOpCreditUpdate, 7, local, "", 0, 8, 16);
  p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload.size(), 4u);
  close(fd);
}

TEST_F(VsockDeviceTest, CreditRequestIsAnswered) {
  auto [fd, local] = host_connect(8);
  send(vsock::kOpCreditRequest, 8, local);
  auto p = recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpCreditUpdate);
  EXPECT_EQ(p->hdr.buf_alloc, vsock::Connection::kBufAlloc);
  close(fd);
}

TEST_F(VsockDeviceTest, GuestConnectsToHostListener) {
  int lfd = unix_listen(uds + "_5000");
  ASSERT_GE(lfd, 0);
  send(vsock::kOpRequest, 777, 5000);
  auto p = recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpResponse);
  EXPECT_EQ(p->hdr.src_port, 5000u);
  EXPECT_EQ(p->hdr.dst_port, 777u);
  int cfd = accept(lfd, nullptr, nullptr);
  ASSERT_GE(cfd, 0);
  send(vsock::kOpRw, 777, 5000, "ping");
  EXPECT_EQ(read_n(cfd, 4), "ping");
  ASSERT_EQ(write(cfd, "pong", 4), 4);
  p = recv_skip_credit();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payload, "pong");
  // The guest resets: the host stream closes.
  send(vsock::kOpRst, 777, 5000);
  EXPECT_TRUE(at_eof(cfd));
  close(cfd);
  close(lfd);
}

TEST_F(VsockDeviceTest, GuestConnectToNobodyIsReset) {
  send(vsock::kOpRequest, 778, 6000);
  auto p = recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpRst);
  EXPECT_EQ(p->hdr.src_port, 6000u);
  EXPECT_EQ(p->hdr.dst_port, 778u);
  // Data for a connection that does not exist is answered with RST too.
  send(vsock::kOpRw, 779, 6001, "x");
  p = recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hdr.op, vsock::kOpRst);
}

TEST_F(VsockDeviceTest, MalformedPacketsAreDropped) {
  Header h;
  h.src_cid = 9;  // not the guest
  h.dst_cid = vsock::kHostCid;
  h.type = vsock::kTypeStream;
  h.op = vsock::kOpRequest;
  uint64_t addr = g.alloc(sizeof h);
  std::memcpy(g.host(addr), &h, sizeof h);
  tx.add_chain({{addr, sizeof h, false}});
  tx.add_chain({{addr, 10, false}});  // truncated header
  dev->queue_notify(VirtioVsock::kTxQueue);
  EXPECT_TRUE(wait_for([&] { return dev->rejected_packets() == 2; }));
  EXPECT_EQ(tx.used_idx(), 2);  // both chains were returned
  EXPECT_FALSE(recv(100).has_value());
}

TEST_F(VsockDeviceTest, ManyConnectionsAtOnce) {
  constexpr int kConns = 24;
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    int fd = unix_connect(uds);
    ASSERT_GE(fd, 0);
    std::string line = "CONNECT " + std::to_string(100 + i) + "\n";
    ASSERT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    fds.push_back(fd);
  }
  std::map<uint32_t, uint32_t> local_of;  // guest port -> local port
  while (local_of.size() < kConns) {
    auto p = recv();
    ASSERT_TRUE(p);
    ASSERT_EQ(p->hdr.op, vsock::kOpRequest);
    local_of[p->hdr.dst_port] = p->hdr.src_port;
    send(vsock::kOpResponse, p->hdr.dst_port, p->hdr.src_port);
  }
  for (int i = 0; i < kConns; ++i) {
    EXPECT_EQ(read_line(fds[i]), "OK " + std::to_string(local_of[100 + i]));
    send(vsock::kOpRw, 100 + i, local_of[100 + i], "msg" + std::to_string(i));
  }
  for (int i = 0; i < kConns; ++i) {
    std::string want = "msg" + std::to_string(i);
    EXPECT_EQ(read_n(fds[i], want.size()), want);
    std::string back = "back" + std::to_string(i);
    ASSERT_EQ(write(fds[i], back.data(), back.size()), static_cast<ssize_t>(back.size()));
  }
  std::map<uint32_t, std::string> got;
  while (got.size() < kConns) {
    auto p = recv_skip_credit();
    ASSERT_TRUE(p);
    ASSERT_EQ(p->hdr.op, vsock::kOpRw);
    got[p->hdr.dst_port] += p->payload;
  }
  for (int i = 0; i < kConns; ++i) EXPECT_EQ(got[100 + i], "back" + std::to_string(i));
  EXPECT_EQ(dev->connection_count(), static_cast<size_t>(kConns));
  for (int fd : fds) close(fd);
}

TEST_F(VsockDeviceTest, LargeTransferBothWays) {
  constexpr uint32_t kGuestBuf = 128 * 1024;
  // Not a structured binding: clang before 16 cannot capture one in a lambda.
  const auto conn = host_connect(9, kGuestBuf);
  const int fd = conn.first;
  const uint32_t local = conn.second;
  // guest -> host: 1 MiB in 4 KiB packets, sent only within the credit the
  // device advertises (as a Linux guest does); the host reads concurrently.
  std::string blob(1 << 20, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 + i / 4096);
  std::string received;
  std::thread reader([&] { received = read_n(fd, blob.size(), 10000); });
  uint32_t sent = 0, host_fwd = 0, host_buf = vsock::Connection::kBufAlloc;
  while (sent < blob.size()) {
    if (sent - host_fwd + 4096 > host_buf) {
      auto p = recv();  // wait for the device to report progress
      ASSERT_TRUE(p) << "stalled at " << sent << " bytes, host fwd_cnt " << host_fwd;
      host_fwd = p->hdr.fwd_cnt;
      host_buf = p->hdr.buf_alloc;
      continue;
    }
    send(vsock::kOpRw, 9, local, blob.substr(sent, 4096), 0, kGuestBuf, 0);
    sent += 4096;
  }
  reader.join();
  EXPECT_EQ(received.size(), blob.size());
  EXPECT_TRUE(received == blob);
  EXPECT_EQ(dev->connection_count(), 1u);  // no credit violation was detected

  // host -> guest: 1 MiB; the guest gives credit back as it consumes.
  std::thread writer([&] {
    size_t off = 0;
    while (off < blob.size()) {
      ssize_t n = write(fd, blob.data() + off, blob.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  });
  std::string got;
  uint32_t consumed = 0, announced = 0;
  while (got.size() < blob.size()) {
    auto p = recv_skip_credit();
    ASSERT_TRUE(p) << "stalled at " << got.size();
    ASSERT_EQ(p->hdr.op, vsock::kOpRw);
    ASSERT_LE(p->hdr.len, kGuestBuf);
    got += p->payload;
    consumed += p->hdr.len;
    ASSERT_LE(got.size() - announced, kGuestBuf);  // never beyond the credit we gave
    if (consumed - announced >= kGuestBuf / 2) {
      send(vsock::kOpCreditUpdate, 9, local, "", 0, kGuestBuf, consumed);
      announced = consumed;
    }
  }
  writer.join();
  EXPECT_TRUE(got == blob);
  close(fd);
}

TEST_F(VsockDeviceTest, ResetDropsConnections) {
  auto [fd, local] = host_connect(11);
  (void)local;
  EXPECT_EQ(dev->connection_count(), 1u);
  dev->reset();
  EXPECT_EQ(dev->connection_count(), 0u);
  EXPECT_TRUE(at_eof(fd));
  close(fd);
  // The listener survives a driver reset.
  int again = unix_connect(uds);
  EXPECT_GE(again, 0);
  close(again);
}

}  // namespace
}  // namespace runvm::vmm::virtio
