// The VMM's single device-I/O thread: an epoll loop over file descriptors
// (ioeventfds for queue kicks, vsock unix sockets, the console, signalfd).
// Handlers run on the loop thread only. add/modify/remove may be called from
// any thread; a handler removed from another thread may still run once if its
// event was already collected in the current iteration.
// call() runs a function on the loop thread and waits for it: device work a
// vCPU exit triggers (activation, reset, interrupt set-up) runs there, so a vCPU
// thread's seccomp filter needs none of its syscalls (vmm/jail/README.md).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

  // From now on call() hands work to the thread that runs run() (the VMM's loop
  // thread). Until then (tests, fuzzers driving run_once) call() runs inline.
  void use_loop_thread_for_calls();
  // Runs `fn` on the loop thread and returns once it has run; on the loop thread
  // itself, or before use_loop_thread_for_calls(), inline. Returns false without
  // running it once run() has ended (the VM is stopping).
  bool call(const std::function<void()>& fn);

 private:
  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<bool> stop_{false};
  struct Call;
  void run_calls();
  void end_calls();

  std::mutex mu_;
  std::unordered_map<int, std::shared_ptr<Handler>> handlers_;

  // Cross-thread calls (GUARDED_BY calls_mu_).
  std::mutex calls_mu_;
  std::condition_variable calls_done_;
  std::deque<Call*> calls_;
  bool calls_to_thread_ = false;
  bool calls_ended_ = false;
  std::thread::id loop_thread_;
};

}  // namespace runvm::vmm
