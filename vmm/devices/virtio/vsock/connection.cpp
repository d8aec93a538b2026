#include "vmm/devices/virtio/vsock/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace runvm::vmm::virtio::vsock {

bool Connection::push_tx(const std::vector<uint8_t>& data) {
  if (data.size() > kBufAlloc - tx_buf_.size()) return false;
  tx_buf_.insert(tx_buf_.end(), data.begin(), data.end());
  return true;
}

bool Connection::flush_tx() {
  uint8_t chunk[16 * 1024];
  while (!tx_buf_.empty()) {
    size_t n = std::min(tx_buf_.size(), sizeof chunk);
    std::copy_n(tx_buf_.begin(), n, chunk);
    ssize_t w = send(fd_, chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    tx_buf_.erase(tx_buf_.begin(), tx_buf_.begin() + w);
    fwd_cnt_ += static_cast<uint32_t>(w);
    if (static_cast<size_t>(w) < n) break;  // socket full
  }
  return true;
}

bool Connection::credit_update_due() const {
  // The guest believes it has kBufAlloc - (tx_cnt - last_fwd_cnt_sent) free;
  // tell it once a quarter of the buffer has been freed since.
  return static_cast<uint32_t>(fwd_cnt_ - last_fwd_cnt_sent_) >= kBufAlloc / 4;
}

uint32_t Connection::peer_free() const {
  uint32_t in_flight = rx_cnt_ - peer_fwd_cnt_;
  return in_flight >= peer_buf_alloc_ ? 0 : peer_buf_alloc_ - in_flight;
}

Header Connection::header(uint64_t guest_cid, uint16_t op, uint32_t len, uint32_t flags) {
  Header h;
  h.src_cid = kHostCid;
  h.dst_cid = guest_cid;
  h.src_port = local_port_;
  h.dst_port = peer_port_;
  h.len = len;
  h.type = kTypeStream;
  h.op = op;
  h.flags = flags;
  h.buf_alloc = kBufAlloc;
  h.fwd_cnt = fwd_cnt_;
  last_fwd_cnt_sent_ = fwd_cnt_;
  return h;
}

}  // namespace runvm::vmm::virtio::vsock
