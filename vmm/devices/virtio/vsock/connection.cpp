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
  uint32_t unadvertised = fwd_cnt_ - last_fwd_cnt_sent_;
  if (unadvertised == 0) return false;
  // What the guest believes is free: kBufAlloc minus everything it sent that
  // we have not yet reported as forwarded.
  uint64_t guest_in_flight = uint64_t{unadvertised} + tx_buf_.size();
  uint64_t guest_view_free = guest_in_flight >= kBufAlloc ? 0 : kBufAlloc - guest_in_flight;
  // Tell it once a quarter of the buffer was freed, or as soon as it may be
  // about to stall (it never asks: Linux does not send CREDIT_REQUEST).
  return unadvertised >= kBufAlloc / 4 || guest_view_free < kMaxPayload;
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
