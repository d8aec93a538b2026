#include "vmm/devices/virtio/fs/request_workers.h"

#include <algorithm>

namespace runvm::vmm::virtio::fs {

RequestWorkers::~RequestWorkers() {
  stop();
  join_all();
}

Status RequestWorkers::spawn(unsigned threads, const ThreadStartHook& on_start) {
  std::mutex started_mu;
  std::condition_variable started_cv;
  unsigned started = 0;
  Status first_error;
  const unsigned n = std::max(threads, 1u);
  for (unsigned i = 0; i < n; ++i) {
    threads_.emplace_back([&, this] {
      Status s = on_start ? on_start() : Status{};
      {
        // Notified under the lock: spawn() (and these locals) may be gone after it.
        std::lock_guard lk(started_mu);
        if (!s && first_error) first_error = s;
        ++started;
        started_cv.notify_all();
      }
      // A worker whose hook failed must not serve: it leaves at once.
      if (!s) return;
      run();
    });
  }
  {
    std::unique_lock lk(started_mu);
    started_cv.wait(lk, [&] { return started == n; });
  }
  if (!first_error) {
    join_all();
    return first_error;
  }
  return {};
}

void RequestWorkers::start(std::vector<std::optional<Queue>> queues,
                           std::shared_ptr<VirtioInterrupt> interrupt, Handler handler,
                           unsigned threads) {
  stop();
  {
    std::lock_guard lk(mu_);
    queues_ = std::move(queues);
    interrupt_ = std::move(interrupt);
    handler_ = std::move(handler);
    serving_ = true;
    kicked_ = true;  // serve anything posted before the first kick
  }
  if (threads_.empty()) {
    for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { run(); });
  }
  cv_.notify_all();
}

void RequestWorkers::kick() {
  {
    std::lock_guard lk(mu_);
    kicked_ = true;
  }
  cv_.notify_one();
}

void RequestWorkers::stop() {
  std::unique_lock lk(mu_);
  serving_ = false;
  idle_cv_.wait(lk, [this] { return in_flight_ == 0; });
  queues_.clear();
  interrupt_.reset();
  handler_ = nullptr;
  kicked_ = false;
}

void RequestWorkers::join_all() {
  {
    std::lock_guard lk(mu_);
    exit_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lk(mu_);
  exit_ = false;
}

void RequestWorkers::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return exit_ || (serving_ && kicked_); });
    if (exit_) return;
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
    ++in_flight_;
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
    // stop() waits for in_flight_ to reach 0 before it drops the queues.
    queues_[qi]->add_used(std::move(*chain), static_cast<uint32_t>(n));
    if (queues_[qi]->needs_notification() && interrupt_)
      interrupt_->notify_queue(static_cast<uint16_t>(qi));
    if (--in_flight_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace runvm::vmm::virtio::fs
