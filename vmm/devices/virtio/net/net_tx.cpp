// VirtioNet TX: guest frames from queue 1 to the tap.
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/net/virtio_net.h"

namespace runvm::vmm::virtio {

using net::kMaxPacketLen;
using net::kNetHdrSize;

void VirtioNet::process_tx_locked() {
  if (!tx_) return;
  bool used = false;
  size_t served = 0;
  // `rounds` bounds the re-checks too: a guest flipping avail->idx around arm_kick()
  // must not keep the event loop here without a chain to serve.
  for (size_t rounds = 0;; ++rounds) {
    for (; served < kTxBudget; ++served) {
      auto chain = tx_->pop();
      if (!chain) break;
      send_frame_locked(*chain);
      tx_->add_used(std::move(*chain), 0);
      used = true;
    }
    if (served == kTxBudget || rounds == kTxBudget) {
      // Come back after the loop's other work: with EVENT_IDX no kick would
      // announce chains that are already published.
      const uint64_t one = 1;
      if (write(tx_resume_.get(), &one, sizeof one) != sizeof one)
        log_locked(Error::from_errno("tx: schedule the rest of the queue").what());
      break;
    }
    // Idle now: have the next chain kicked, unless one slipped in meanwhile.
    if (!tx_->arm_kick()) break;
  }
  if (used && tx_->needs_notification()) interrupt_->notify_queue(kTxQueue);
}

void VirtioNet::on_tx_resume() {
  std::lock_guard lk(mu_);
  uint64_t n;
  (void)!read(tx_resume_.get(), &n, sizeof n);
  process_tx_locked();
}

void VirtioNet::send_frame_locked(const DescriptorChain& chain) {
  auto drop = [&](const std::string& why) {
    ++stats_.tx_dropped;
    log_locked("tx: dropped a frame: " + why);
  };
  if (chain.writable_len() > 0) return drop("chain has device-writable buffers");
  const uint64_t total = chain.readable_len();
  if (total < kNetHdrSize)
    return drop("chain of " + std::to_string(total) + " bytes cannot hold the header");
  if (total > kMaxPacketLen)
    return drop("chain of " + std::to_string(total) + " bytes is longer than " +
                std::to_string(kMaxPacketLen));

  ChainReader reader(chain);
  net::VirtioNetHdr hdr;
  if (!reader.read_obj(&hdr)) return drop("header unreadable");
  const size_t frame_len = total - kNetHdrSize;
  if (Status st = net::validate_tx_header(hdr, frame_len, acked_); !st)
    return drop(st.error().what());

  // The tap gets our validated copy of the header: the guest can rewrite its
  // own bytes after the check. The frame itself goes straight from guest memory.
  std::vector<iovec> iov{iovec{&hdr, kNetHdrSize}};
  std::vector<iovec> body = reader.iovecs(frame_len);
  if (body.size() < IOV_MAX) {
    iov.insert(iov.end(), body.begin(), body.end());
  } else {
    // More buffers than one writev takes: gather them (the frame is bounded).
    if (tx_copy_.size() < frame_len) tx_copy_.resize(net::kMaxFrameLen);
    size_t got = reader.read_some(std::span(tx_copy_.data(), frame_len));
    iov.push_back(iovec{tx_copy_.data(), got});
  }

  ssize_t n;
  do {
    if (tap_is_socket_) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = iov.size();
      n = sendmsg(tap_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      n = writev(tap_.get(), iov.data(), static_cast<int>(iov.size()));
    }
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    ++stats_.tx_frames;
    return;
  }
  // A full tap queue drops the frame, as a real NIC under back-pressure does;
  // so does a tap whose interface is down (EIO), as a NIC without carrier.
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EIO) {
    ++stats_.tx_dropped;
    return;
  }
  drop(Error::from_errno("write to the tap").what());
}

}  // namespace runvm::vmm::virtio
