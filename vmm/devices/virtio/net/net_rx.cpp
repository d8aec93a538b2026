// VirtioNet RX: frames from the tap into queue 0's buffers.
//
// Chains are popped into rx_chains_ until they could take the largest frame
// (with MRG_RXBUF: any number of chains; without: the first chain alone).
// Then one frame is read with readv straight into them. With less room than
// that, a short guest buffer would truncate the frame, so it is read into
// rx_frame_ instead and copied once it fits: the one frame the VMM may hold.
#include <limits.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/net/virtio_net.h"

namespace runvm::vmm::virtio {

using net::kMaxPacketLen;
using net::kNetHdrSize;

void VirtioNet::process_rx_locked() {
  if (!rx_) return;
  RxStep step = RxStep::Progress;
  for (size_t i = 0; i < kRxBudget && step == RxStep::Progress; ++i) {
    step = rx_step_locked();
    // Out of buffers: have the driver kick when it posts more (EVENT_IDX),
    // and go on at once if it already did.
    if (step == RxStep::NoBuffers && rx_->arm_kick()) step = RxStep::Progress;
  }
  // One publish for the whole batch: a frame's chains appear together.
  rx_->publish_used();
  if (rx_->needs_notification()) interrupt_->notify_queue(kRxQueue);
  // Without buffers, stop reading until the driver kicks queue 0. After a
  // used-up budget stay registered: level-triggered epoll brings us back.
  watch_locked(step != RxStep::NoBuffers);
}

VirtioNet::RxStep VirtioNet::rx_step_locked() {
  if (rx_pending_ > 0) return deliver_pending_locked() ? RxStep::Progress : RxStep::NoBuffers;
  if (tap_dead_) return RxStep::TapEmpty;
  const bool mrg = acked_ & net::kFMrgRxbuf;
  take_rx_chains_locked(mrg ? kMaxPacketLen : 1);
  if (rx_chains_.empty()) return RxStep::NoBuffers;

  std::vector<iovec> iov;
  uint64_t room = mrg ? rx_room_ : rx_chains_.front().writable_len();
  if (room >= kMaxPacketLen) {
    size_t want = kMaxPacketLen;
    for (const DescriptorChain& c : rx_chains_) {
      for (const iovec& v : ChainWriter(c).iovecs(want)) {
        iov.push_back(v);
        want -= v.iov_len;
      }
      if (want == 0 || !mrg || iov.size() > IOV_MAX) break;
    }
  }
  size_t n = 0;
  if (!iov.empty() && iov.size() <= IOV_MAX) {
    if (!read_tap_locked(iov, &n)) return RxStep::TapEmpty;
    if (n < kNetHdrSize) {
      ++stats_.rx_dropped;  // nothing to deliver; the chains stay for the next frame
      return RxStep::Progress;
    }
    complete_rx_locked(n);
    return RxStep::Progress;
  }
  if (!read_tap_locked({iovec{rx_frame_.data(), rx_frame_.size()}}, &n)) return RxStep::TapEmpty;
  if (n < kNetHdrSize) {
    ++stats_.rx_dropped;
    return RxStep::Progress;
  }
  rx_pending_ = n;
  return deliver_pending_locked() ? RxStep::Progress : RxStep::NoBuffers;
}

void VirtioNet::take_rx_chains_locked(uint64_t want_room) {
  // Bounded by the queue size per call, however fast the guest republishes.
  for (size_t i = 0; i < kQueueSize && rx_room_ < want_room && rx_chains_.size() < kQueueSize;
       ++i) {
    auto chain = rx_->pop();
    if (!chain) return;
    if (chain->writable_len() < kNetHdrSize) {
      // Every frame starts with a header: no use for this one.
      ++stats_.rx_bad_buffers;
      rx_->add_used_deferred(std::move(*chain), 0);
      continue;
    }
    rx_room_ += chain->writable_len();
    rx_chains_.push_back(std::move(*chain));
  }
}

bool VirtioNet::read_tap_locked(const std::vector<iovec>& iov, size_t* n) {
  size_t cap = 0;
  for (const iovec& v : iov) cap += v.iov_len;
  for (;;) {
    ssize_t r = readv(tap_.get(), iov.data(), static_cast<int>(iov.size()));
    if (r > 0) {
      *n = std::min(static_cast<size_t>(r), cap);  // never trust a length beyond the buffers
      return true;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    // EOF (a socket peer went away) or an error such as EBADFD (the tap's
    // interface was deleted): no more frames will come, stop watching.
    if (r == 0)
      log_locked("rx: the tap fd reached end of file; receiving stops", true);
    else
      log_locked(Error::from_errno("rx: read from the tap").what() + "; receiving stops", true);
    tap_dead_ = true;
    return false;
  }
}

void VirtioNet::complete_rx_locked(size_t len) {
  const bool mrg = acked_ & net::kFMrgRxbuf;
  // The chains at the front hold the frame; count the ones it reached.
  uint16_t count = 0;
  uint64_t covered = 0;
  for (const DescriptorChain& c : rx_chains_) {
    ++count;
    covered += c.writable_len();
    if (covered >= len || !mrg) break;
  }
  // The first chain has room for a header (take_rx_chains_locked), though
  // perhaps over several buffers. A driver without GUEST_CSUM gets flags 0
  // (5.1.6.4.1): the tap may still mark a frame DATA_VALID. num_buffers is 1
  // without MRG_RXBUF.
  ChainWriter w(rx_chains_.front());
  if (!(acked_ & net::kFGuestCsum)) {
    const uint8_t no_flags = 0;
    (void)w.write(&no_flags, 1);
  }
  w.advance(net::kNumBuffersOffset - w.written());
  (void)w.write(&count, sizeof count);
  size_t left = len;
  for (uint16_t i = 0; i < count; ++i) {
    DescriptorChain c = std::move(rx_chains_.front());
    rx_chains_.pop_front();
    uint64_t take = std::min<uint64_t>(left, c.writable_len());
    left -= take;
    rx_room_ -= c.writable_len();
    rx_->add_used_deferred(std::move(c), static_cast<uint32_t>(take));
  }
  ++stats_.rx_frames;
}

bool VirtioNet::deliver_pending_locked() {
  const bool mrg = acked_ & net::kFMrgRxbuf;
  take_rx_chains_locked(mrg ? rx_pending_ : 1);
  if (rx_chains_.empty()) return false;
  if (!mrg && rx_chains_.front().writable_len() < rx_pending_) {
    // Without MRG_RXBUF one chain must hold the whole frame: drop the frame
    // and keep the chain for the next one.
    ++stats_.rx_dropped;
    rx_pending_ = 0;
    return true;
  }
  if (rx_room_ < rx_pending_) return false;  // keep it until the driver posts more
  size_t off = 0;
  for (const DescriptorChain& c : rx_chains_) {
    if (off == rx_pending_) break;
    ChainWriter w(c);
    off += w.write_some(std::span<const uint8_t>(rx_frame_.data() + off, rx_pending_ - off));
  }
  complete_rx_locked(rx_pending_);
  rx_pending_ = 0;
  return true;
}

}  // namespace runvm::vmm::virtio
