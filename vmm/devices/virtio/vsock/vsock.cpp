#include "vmm/devices/virtio/vsock/vsock.h"

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/vsock/trace.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace runvm::vmm::virtio {

Result<std::shared_ptr<VirtioVsock>> VirtioVsock::create(uint64_t guest_cid, std::string uds_path,
                                                         EventLoop& loop) {
  // Guest CIDs 0-2 are reserved (hypervisor, local, host); the u32 -1 is "any".
  if (guest_cid < 3 || guest_cid >= 0xffffffffull)
    return Error("vsock: invalid guest CID " + std::to_string(guest_cid));
  std::shared_ptr<VirtioVsock> dev(new VirtioVsock(guest_cid, std::move(uds_path), loop));
  std::lock_guard lk(dev->mu_);
  dev->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (dev->timer_fd_ < 0) return Error::from_errno("vsock: timerfd_create");
  if (Status st = dev->muxer_.listen(); !st) return st.error();
  return dev;
}

VirtioVsock::VirtioVsock(uint64_t guest_cid, std::string uds_path, EventLoop& loop)
    : guest_cid_(guest_cid), loop_(loop), muxer_(guest_cid, std::move(uds_path), this) {}

VirtioVsock::~VirtioVsock() {
  std::lock_guard lk(mu_);
  muxer_.close_all();  // while watch() can still reach the event loop
  if (timer_fd_ >= 0) {
    watch(timer_fd_, 0);
    close(timer_fd_);
  }
}

void VirtioVsock::watch(int fd, uint32_t events) {
  auto it = watched_.find(fd);
  if (events == 0) {
    if (it != watched_.end()) {
      loop_.remove(fd);
      watched_.erase(it);
    }
    return;
  }
  if (it == watched_.end()) {
    // Handlers hold a weak reference: an event racing with teardown is dropped.
    std::weak_ptr<VirtioVsock> weak = weak_from_this();
    bool ok = loop_.add(fd, events, [weak, fd](uint32_t ev) {
      if (auto self = weak.lock()) self->on_event(fd, ev);
    });
    if (ok) watched_[fd] = events;
  } else if (it->second != events) {
    if (loop_.modify(fd, events)) it->second = events;
  }
}

void VirtioVsock::on_event(int fd, uint32_t events) {
  std::lock_guard lk(mu_);
  if (fd == timer_fd_) {
    uint64_t ticks;
    [[maybe_unused]] ssize_t n = read(timer_fd_, &ticks, sizeof ticks);
    muxer_.on_timer(vsock::Muxer::now_ms());
  } else {
    muxer_.on_fd_event(fd, events);
  }
  process_rx_locked();
  update_timer_locked();
}

void VirtioVsock::update_timer_locked() {
  bool want = muxer_.wants_timer();
  if (want == timer_armed_ || timer_fd_ < 0) return;
  itimerspec its{};
  if (want) {
    its.it_value.tv_nsec = 500'000'000;
    its.it_interval.tv_nsec = 500'000'000;
  }
  if (timerfd_settime(timer_fd_, 0, &its, nullptr) != 0) return;
  timer_armed_ = want;
  watch(timer_fd_, want ? uint32_t{EPOLLIN} : 0u);
}

void VirtioVsock::read_config(uint32_t offset, std::span<uint8_t> data) {
  uint8_t cfg[8];
  std::memcpy(cfg, &guest_cid_, 8);
  for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < 8 ? cfg[offset + i] : 0;
}

Status VirtioVsock::activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                             std::shared_ptr<VirtioInterrupt> interrupt) {
  std::lock_guard lk(mu_);
  if (queues.size() != 3 || !queues[kRxQueue] || !queues[kTxQueue])
    return Error("vsock: rx and tx queues must be enabled");
  rx_ = std::move(queues[kRxQueue]);
  tx_ = std::move(queues[kTxQueue]);
  event_ = std::move(queues[kEventQueue]);  // kept posted: we never raise events
  interrupt_ = std::move(interrupt);
  // Host connections that arrived before the driver was up can proceed now.
  process_tx_locked();
  process_rx_locked();
  return {};
}

std::string VirtioVsock::snapshot_blocker() const {
  std::lock_guard lk(mu_);
  const size_t n = muxer_.connection_count();
  return n ? "virtio-vsock has " + std::to_string(n) + " open connection(s)" : "";
}

void VirtioVsock::reset() {
  std::lock_guard lk(mu_);
  muxer_.reset();
  rx_.reset();
  tx_.reset();
  event_.reset();
  interrupt_.reset();
  update_timer_locked();
}

void VirtioVsock::queue_notify(uint16_t index) {
  std::lock_guard lk(mu_);
  if (!rx_ || !tx_) return;
  if (index == kTxQueue) process_tx_locked();
  process_rx_locked();
  update_timer_locked();
}

void VirtioVsock::process_tx_locked() {
  if (!tx_) return;
  bool used = false;
  while (auto chain = tx_->pop()) {
    auto pkt = vsock::parse_tx(*chain, guest_cid_);
    if (pkt) {
      VSOCK_TRACE("tx %s %u->%u len %u flags %u buf %u fwd %u\n", vsock::op_name(pkt->hdr.op),
                  pkt->hdr.src_port, pkt->hdr.dst_port, pkt->hdr.len, pkt->hdr.flags,
                  pkt->hdr.buf_alloc, pkt->hdr.fwd_cnt);
      muxer_.on_guest_packet(*pkt);
    } else if (rejected_++ < 8) {
      std::fprintf(stderr, "virtio-vsock: dropped packet: %s\n", pkt.error().what().c_str());
    }
    tx_->add_used(std::move(*chain), 0);
    used = true;
  }
  if (used && tx_->needs_notification()) interrupt_->notify_queue(kTxQueue);
}

void VirtioVsock::process_rx_locked() {
  if (!rx_) return;
  bool used = false;
  while (muxer_.has_rx_work()) {
    auto chain = rx_->pop();
    if (!chain) {
      VSOCK_TRACE("rx: work pending, no buffers (broken=%d)\n", rx_->broken());
      break;  // the guest will kick rx when it posts buffers
    }
    if (chain->writable_len() < sizeof(vsock::Header)) {
      rx_->add_used(std::move(*chain), 0);  // unusable buffer: give it back
      used = true;
      continue;
    }
    uint32_t n = muxer_.fill_rx(*chain);
    if (n == 0) {
      rx_->undo_pop(std::move(*chain));
      break;
    }
#ifdef RUNVM_VSOCK_TRACE
    vsock::Header h;
    ChainWriter probe(*chain);
    if (auto iov = probe.iovecs(sizeof h); !iov.empty() && iov[0].iov_len >= sizeof h) {
      std::memcpy(&h, iov[0].iov_base, sizeof h);
      VSOCK_TRACE("rx %s %u->%u len %u flags %u fwd %u\n", vsock::op_name(h.op), h.src_port,
                  h.dst_port, h.len, h.flags, h.fwd_cnt);
    }
#endif
    rx_->add_used(std::move(*chain), n);
    used = true;
  }
  if (used) {
    bool notify = rx_->needs_notification();
    VSOCK_TRACE("rx: used idx %u, notify %d\n", rx_->next_used(), notify);
    if (notify) interrupt_->notify_queue(kRxQueue);
  }
}

size_t VirtioVsock::connection_count() {
  std::lock_guard lk(mu_);
  return muxer_.connection_count();
}

uint64_t VirtioVsock::rejected_packets() {
  std::lock_guard lk(mu_);
  return rejected_;
}

}  // namespace runvm::vmm::virtio
