// One vsock stream between a guest port and a host unix-socket stream: its
// handshake state, credit accounting in both directions and the bounded
// buffer of guest data not yet written to the unix socket.
//
// Credit (virtio 1.x 5.10.6.3): each side advertises buf_alloc (its receive
// buffer) and fwd_cnt (bytes it has consumed). We may have at most
// peer_buf_alloc - (rx_cnt - peer_fwd_cnt) bytes in flight to the guest; the
// guest may have at most kBufAlloc - (its tx_cnt - our fwd_cnt) in flight to
// us, which bounds tx_buf. All counters wrap as u32. Not thread-safe: the
// muxer (under the device lock) owns connections.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "vmm/devices/virtio/vsock/packet.h"

namespace runvm::vmm::virtio::vsock {

class Connection {
 public:
  // Our receive buffer per connection: the most guest data we hold unsent.
  static constexpr uint32_t kBufAlloc = 256 * 1024;

  enum class State {
    kLocalInit,    // host connected; REQUEST sent/pending, waiting for RESPONSE
    kEstablished,  // data flows
    kClosing,      // we sent SHUTDOWN(both); waiting for the guest's RST
  };

  // Pending control packets to the guest (bits).
  enum Pending : uint32_t {
    kPendRequest = 1,
    kPendResponse = 2,
    kPendCreditUpdate = 4,
    kPendShutdown = 8,
  };

  Connection(int fd, uint32_t local_port, uint32_t peer_port, State state)
      : fd_(fd), local_port_(local_port), peer_port_(peer_port), state_(state) {}

  int fd() const { return fd_; }
  uint32_t local_port() const { return local_port_; }
  uint32_t peer_port() const { return peer_port_; }
  State state() const { return state_; }
  void set_state(State s) { state_ = s; }

  // ---- guest -> host ----
  // Takes the credit the guest advertised in any packet.
  void update_peer_credit(uint32_t buf_alloc, uint32_t fwd_cnt) {
    peer_buf_alloc_ = buf_alloc;
    peer_fwd_cnt_ = fwd_cnt;
  }
  // Queues guest data for the unix socket; false if the guest overran the
  // credit we gave it (a protocol violation: the caller resets the stream).
  [[nodiscard]] bool push_tx(const std::vector<uint8_t>& data);
  size_t tx_pending() const { return tx_buf_.size(); }
  // Writes queued data to the unix socket. Returns false on a fatal socket
  // error; would-block leaves the rest queued.
  [[nodiscard]] bool flush_tx();
  uint32_t fwd_cnt() const { return fwd_cnt_; }
  // True when the guest's view of our free buffer lags enough that it may
  // stall; the muxer then sends CREDIT_UPDATE.
  bool credit_update_due() const;

  // ---- host -> guest ----
  // Bytes we may still send to the guest.
  uint32_t peer_free() const;
  void on_sent_to_peer(uint32_t n) { rx_cnt_ += n; }
  // Fills a header addressed to the guest with our current credit.
  Header header(uint64_t guest_cid, uint16_t op, uint32_t len = 0, uint32_t flags = 0);

  // ---- lifecycle flags ----
  uint32_t pending = 0;         // Pending bits
  uint32_t shutdown_flags = 0;  // to send with kPendShutdown
  bool readable = false;        // the unix socket reported data/EOF not yet read
  bool host_eof = false;        // the unix socket reached EOF (host will send no more)
  bool peer_no_send = false;    // guest SHUTDOWN with SEND: no more data from it
  bool peer_no_recv = false;    // guest SHUTDOWN with RCV: do not send it data
  bool in_rx_queue = false;     // listed in the muxer's rx work queue
  uint32_t watched_events = 0;  // epoll interest currently registered (0 = none)
  int64_t deadline_ms = 0;      // handshake/close timeout (0 = none)

 private:
  int fd_;
  uint32_t local_port_;
  uint32_t peer_port_;
  State state_;
  uint32_t peer_buf_alloc_ = 0;
  uint32_t peer_fwd_cnt_ = 0;
  uint32_t rx_cnt_ = 0;   // bytes we sent to the guest
  uint32_t fwd_cnt_ = 0;  // guest bytes written to the unix socket
  uint32_t last_fwd_cnt_sent_ = 0;
  std::deque<uint8_t> tx_buf_;
};

}  // namespace runvm::vmm::virtio::vsock
