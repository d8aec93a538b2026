#include "vmm/event/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace runvm::vmm {

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd_ >= 0 && wakefd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd_;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) {
      close(wakefd_);
      wakefd_ = -1;
    }
  }
}

EventLoop::~EventLoop() {
  if (wakefd_ >= 0) close(wakefd_);
  if (epfd_ >= 0) close(epfd_);
}

bool EventLoop::add(int fd, uint32_t events, Handler h) {
  std::lock_guard lk(mu_);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  handlers_[fd] = std::make_shared<Handler>(std::move(h));
  return true;
}

bool EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

bool EventLoop::remove(int fd) {
  std::lock_guard lk(mu_);
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  return handlers_.erase(fd) > 0;
}

struct EventLoop::Call {
  const std::function<void()>* fn;
  bool done = false;
  bool ran = false;
};

bool EventLoop::run() {
  {
    std::lock_guard lk(calls_mu_);
    loop_thread_ = std::this_thread::get_id();
  }
  bool ok = true;
  while (!stop_.load()) {
    if (run_once(-1) < 0) {
      ok = false;
      break;
    }
  }
  end_calls();
  return ok;
}

void EventLoop::use_loop_thread_for_calls() {
  std::lock_guard lk(calls_mu_);
  calls_to_thread_ = true;
}

bool EventLoop::call(const std::function<void()>& fn) {
  Call c{&fn};
  {
    std::unique_lock lk(calls_mu_);
    if (calls_ended_) return false;
    if (!calls_to_thread_ || loop_thread_ == std::this_thread::get_id()) {
      lk.unlock();
      fn();
      return true;
    }
    calls_.push_back(&c);
  }
  uint64_t one = 1;
  [[maybe_unused]] auto r = write(wakefd_, &one, sizeof one);
  std::unique_lock lk(calls_mu_);
  calls_done_.wait(lk, [&] { return c.done; });
  return c.ran;
}

void EventLoop::run_calls() {
  for (;;) {
    Call* c = nullptr;
    {
      std::lock_guard lk(calls_mu_);
      if (calls_.empty()) return;
      c = calls_.front();
      calls_.pop_front();
    }
    (*c->fn)();
    {
      std::lock_guard lk(calls_mu_);
      c->ran = true;
      c->done = true;
    }
    calls_done_.notify_all();
  }
}

// After the last iteration: waiting callers return false instead of hanging.
void EventLoop::end_calls() {
  {
    std::lock_guard lk(calls_mu_);
    calls_ended_ = true;
    for (Call* c : calls_) c->done = true;
    calls_.clear();
  }
  calls_done_.notify_all();
}

int EventLoop::run_once(int timeout_ms) {
  epoll_event evs[64];
  int n = epoll_wait(epfd_, evs, 64, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -1;
  int ran = 0;
  for (int i = 0; i < n && !stop_.load(); ++i) {
    int fd = evs[i].data.fd;
    if (fd == wakefd_) {
      uint64_t v;
      [[maybe_unused]] auto r = read(wakefd_, &v, sizeof v);
      run_calls();
      continue;
    }
    std::shared_ptr<Handler> h;
    {
      std::lock_guard lk(mu_);
      auto it = handlers_.find(fd);
      if (it == handlers_.end()) continue;
      h = it->second;
    }
    (*h)(evs[i].events);
    ++ran;
  }
  return ran;
}

void EventLoop::stop() {
  stop_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] auto r = write(wakefd_, &one, sizeof one);
}

}  // namespace runvm::vmm
