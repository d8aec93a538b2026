#include "vmm/devices/virtio/rng/rng.h"

#include "vmm/devices/virtio/chain_buffers.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>

namespace runvm::vmm::virtio {

void VirtioRng::read_config(uint32_t, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
}

Status VirtioRng::activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                           std::shared_ptr<VirtioInterrupt> interrupt) {
  std::lock_guard lk(mu_);
  if (queues.size() != 1 || !queues[0]) return Error("virtio-rng: request queue not enabled");
  queue_ = std::move(queues[0]);
  interrupt_ = std::move(interrupt);
  return {};
}

void VirtioRng::reset() {
  std::lock_guard lk(mu_);
  queue_.reset();
  interrupt_.reset();
}

void VirtioRng::queue_notify(uint16_t index) {
  std::lock_guard lk(mu_);
  if (index != 0 || !queue_) return;
  bool used = false;
  while (auto chain = queue_->pop()) {
    ChainWriter w(*chain);
    for (const iovec& iov : w.iovecs(kMaxBytesPerRequest)) {
      auto* p = static_cast<uint8_t*>(iov.iov_base);
      size_t left = iov.iov_len;
      while (left > 0) {
        ssize_t n = getrandom(p, left, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        p += n;
        left -= static_cast<size_t>(n);
        w.advance(static_cast<size_t>(n));
      }
      if (left > 0) break;
    }
    queue_->add_used(std::move(*chain), static_cast<uint32_t>(w.written()));
    used = true;
  }
  if (used && queue_->needs_notification()) interrupt_->notify_queue(0);
}

}  // namespace runvm::vmm::virtio
