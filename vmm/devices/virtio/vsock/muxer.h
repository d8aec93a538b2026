// The host side of virtio-vsock in Firecracker's hybrid model: one listening
// unix socket per VM plus one unix stream per vsock connection.
//
//  - host -> guest: a client connects to `uds_path` and writes
//    "CONNECT <port>\n"; we send the guest a REQUEST for that port from a
//    fresh local port, and on RESPONSE answer the client "OK <local_port>\n"
//    and bridge the stream. A guest RST (nobody listening) closes the client.
//  - guest -> host: a guest REQUEST to host port P is bridged to the unix
//    socket `<uds_path>_<P>` when something listens there, else RST.
//
// All sockets are non-blocking and watched through an FdWatcher (the event
// loop). Memory per connection is bounded by Connection::kBufAlloc (guest to
// host) and by the guest's credit (host to guest: read straight from the
// socket into rx buffers). Not thread-safe: the device calls it under its lock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "base/result.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/vsock/connection.h"
#include "vmm/devices/virtio/vsock/packet.h"

namespace runvm::vmm::virtio::vsock {

// Where the muxer asks for readiness events on its sockets.
class FdWatcher {
 public:
  virtual ~FdWatcher() = default;
  // Sets the epoll interest for `fd`; 0 stops watching (required before close).
  virtual void watch(int fd, uint32_t events) = 0;
};

class Muxer {
 public:
  static constexpr size_t kMaxConnections = 1024;
  static constexpr size_t kMaxPendingHosts = 64;  // accepted, CONNECT line not yet read
  static constexpr size_t kMaxQueuedRsts = 1024;  // RSTs for unknown connections
  static constexpr size_t kMaxConnectLine = 32;   // "CONNECT 4294967295\n" fits
  static constexpr int64_t kConnectTimeoutMs = 10'000;
  static constexpr uint32_t kFirstLocalPort = 1u << 30;

  Muxer(uint64_t guest_cid, std::string uds_path, FdWatcher* watcher);
  ~Muxer();
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  // Creates the listening socket at uds_path (replacing a stale socket file).
  [[nodiscard]] Status listen();

  // A readiness event for one of our sockets.
  void on_fd_event(int fd, uint32_t events);
  // A validated packet from the guest's tx queue.
  void on_guest_packet(const TxPacket& pkt);
  // True when fill_rx() may have something for the guest.
  bool has_rx_work() const { return !rst_queue_.empty() || !rx_queue_.empty(); }
  // Writes the next packet for the guest into the writable part of `chain`;
  // returns the bytes written (0: nothing to send right now).
  uint32_t fill_rx(const DescriptorChain& chain);
  // Expires handshakes the guest never answered.
  void on_timer(int64_t now_ms);
  bool wants_timer() const;
  // The driver reset the device: every connection is dropped.
  void reset();
  // Closes every socket including the listener (and removes its file).
  // Idempotent; the destructor calls it too.
  void close_all();

  uint64_t guest_cid() const { return guest_cid_; }
  size_t connection_count() const { return conns_.size(); }
  const Connection* find(uint32_t local_port, uint32_t peer_port) const;

  static int64_t now_ms();

 private:
  using Key = uint64_t;  // local_port << 32 | peer_port
  static Key key(uint32_t local, uint32_t peer) { return (uint64_t{local} << 32) | peer; }
  struct PendingHost {
    std::string line;
    int64_t deadline_ms = 0;
  };

  void accept_all();
  void resume_listener();
  void on_pending_host(int fd, uint32_t events);
  void on_conn_event(Connection& c, uint32_t events);
  void start_host_connect(int fd, uint32_t port);
  void guest_request(const Header& h);
  uint32_t alloc_local_port();
  // Sends RST for `c` (queued) and drops it.
  void reset_conn(Connection& c);
  // Drops `c` without telling the guest (it sent RST, or the device reset).
  void drop_conn(Connection& c);
  void queue_rst(const Header& reply_to);
  // Recomputes epoll interest and rx-queue membership after a change.
  void refresh(Connection& c);
  bool has_work(const Connection& c) const;
  // Closes the stream when both directions are finished.
  void maybe_finish(Connection& c);
  uint32_t produce(Connection& c, const DescriptorChain& chain);
  Connection* lookup(Key k);

  uint64_t guest_cid_;
  std::string uds_path_;
  FdWatcher* watcher_;
  int listen_fd_ = -1;
  bool listener_paused_ = false;  // unwatched after EMFILE until a socket closes
  std::map<int, PendingHost> pending_hosts_;
  std::unordered_map<Key, std::unique_ptr<Connection>> conns_;
  std::unordered_map<int, Key> by_fd_;
  std::set<uint32_t> host_ports_;  // local ports of host-initiated connections
  std::deque<Key> rx_queue_;
  std::deque<Header> rst_queue_;
  uint32_t next_local_port_ = kFirstLocalPort;
};

}  // namespace runvm::vmm::virtio::vsock
