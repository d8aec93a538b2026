#include "vmm/devices/virtio/fs/request_workers.h"

#include <sys/uio.h>

#include <algorithm>

namespace runvm::vmm::virtio::fs {

namespace {

std::vector<iovec> to_iovecs(std::span<const ChainBuffer> bufs) {
  std::vector<iovec> v;
  v.reserve(bufs.size());
  for (const ChainBuffer& b : bufs) v.push_back({b.host, b.len});
  return v;
}

}  // namespace

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
    cv_.notify_one();  // there may be more: wake a peer
    lk.unlock();

    std::vector<iovec> in = to_iovecs(chain->readable());
    std::vector<iovec> out = to_iovecs(chain->writable());
    FuseReader reader(in);
    FuseWriter writer(out);
    size_t n = handler_(reader, writer);

    lk.lock();
    queues_[qi]->add_used(std::move(*chain), static_cast<uint32_t>(n));
    if (queues_[qi]->needs_notification() && interrupt_)
      interrupt_->notify_queue(static_cast<uint16_t>(qi));
  }
}

}  // namespace runvm::vmm::virtio::fs
