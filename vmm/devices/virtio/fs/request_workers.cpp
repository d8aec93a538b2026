#include "vmm/devices/virtio/fs/request_workers.h"

#include <algorithm>

namespace runvm::vmm::virtio::fs {

void RequestWorkers::start(std::vector<std::optional<Queue>> queues,
                           std::shared_ptr<VirtioInterrupt> interrupt, Handler handler,
                           unsigned threads) {
  stop();
  {
    std::lock_guard lk(mu_);
    queues_ = std::move(queues);
    interrupt_ = std::move(interrupt);
    handler_ = std::move(handler);
    stop_ = false;
    kicked_ = true;  // serve anything posted before the first kick
  }
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { run(); });
}

void RequestWorkers::kick() {
  {
    std::lock_guard lk(mu_);
    kicked_ = true;
  }
  cv_.notify_one();
}

void RequestWorkers::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lk(mu_);
  queues_.clear();
  interrupt_.reset();
  kicked_ = false;
}

void RequestWorkers::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return stop_ || kicked_; });
    if (stop_) return;
    // Take one chain; leave the rest for the other workers.
    std::optional<DescriptorChain> chain;
    size_t qi = 0;
    for (; qi < queues_.size(); ++qi) {
      if (queues_[qi] && (chain = queues_[qi]->pop())) break;
    }
    if (!chain) {
      kicked_ = false;
      continue;
    }
    // Wake a peer only for work that is there: a spurious wake-up per request costs a
    // context switch and the lock, which a single-stream guest pays on every request.
    if (std::any_of(queues_.begin(), queues_.end(),
                    [](const std::optional<Queue>& q) { return q && q->has_available(); }))
      cv_.notify_one();
    lk.unlock();

    ChainReader reader(*chain);
    ChainWriter writer(*chain);
    size_t n = handler_(reader, writer);

    lk.lock();
    queues_[qi]->add_used(std::move(*chain), static_cast<uint32_t>(n));
    if (queues_[qi]->needs_notification() && interrupt_)
      interrupt_->notify_queue(static_cast<uint16_t>(qi));
  }
}

}  // namespace runvm::vmm::virtio::fs
