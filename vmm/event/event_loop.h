// The VMM's single device-I/O thread: an epoll loop over file descriptors
// (ioeventfds for queue kicks, vsock unix sockets, the console, signalfd).
// Handlers run on the loop thread only. add/modify/remove may be called from
// any thread; a handler removed from another thread may still run once if its
// event was already collected in the current iteration.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace runvm::vmm {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t epoll_events)>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return epfd_ >= 0 && wakefd_ >= 0; }

  [[nodiscard]] bool add(int fd, uint32_t events, Handler h);
  [[nodiscard]] bool modify(int fd, uint32_t events);
  bool remove(int fd);

  // Runs until stop(); returns false if epoll failed unexpectedly.
  bool run();
  // One iteration on the calling thread: waits up to timeout_ms (-1: forever,
  // 0: not at all) and runs the handlers of what is ready. Returns how many
  // ran, or -1 if epoll failed (EINTR counts as 0). For tests and fuzzers,
  // which drive the loop step by step; run() is this in a loop.
  int run_once(int timeout_ms);
  // Thread-safe; makes run() return after the current iteration.
  void stop();
  bool stopped() const { return stop_.load(); }

 private:
  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::unordered_map<int, std::shared_ptr<Handler>> handlers_;
};

}  // namespace runvm::vmm
