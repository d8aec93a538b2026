// A pool of threads serving request/reply virtqueues (virtio-fs, virtio-9p):
// each descriptor chain's readable buffers are one request, its writable
// buffers the reply, both used in place in guest memory. Several requests are
// in flight at once; a slow one does not hold up the others.
// The threads outlive a device reset: they are started once (spawn(), before the
// guest runs, or by the first start()) and serve one session (activation to
// reset) at a time.
// Thread-safety: all methods may be called from any thread; queues are only
// touched under the pool's mutex, handlers run outside it.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/result.h"
#include "vmm/devices/thread_start.h"
#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/virtio_device.h"

namespace runvm::vmm::virtio::fs {

class RequestWorkers {
 public:
  // Serves one request; returns the number of reply bytes written.
  using Handler = std::function<size_t(ChainReader&, ChainWriter&)>;

  RequestWorkers() = default;
  RequestWorkers(const RequestWorkers&) = delete;
  RequestWorkers& operator=(const RequestWorkers&) = delete;
  ~RequestWorkers();

  // Starts `threads` workers now; each runs `on_start` before anything else.
  // Returns once every worker has run it: the first error, if any (then no
  // worker is left). Call at most once, before start().
  [[nodiscard]] Status spawn(unsigned threads, const ThreadStartHook& on_start);
  // Serves `queues` (lower index first when several have work; disabled queues
  // are skipped), ending a previous session first. Starts `threads` workers if
  // spawn() did not (tests, fuzzers).
  void start(std::vector<std::optional<Queue>> queues, std::shared_ptr<VirtioInterrupt> interrupt,
             Handler handler, unsigned threads);
  // The driver posted buffers on some queue.
  void kick();
  // Ends the session: in-flight requests finish, the queues are dropped. The
  // workers stay for the next start().
  void stop();

 private:
  void run();
  void join_all();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Queue>> queues_;    // GUARDED_BY(mu_)
  std::shared_ptr<VirtioInterrupt> interrupt_;  // GUARDED_BY(mu_)
  std::condition_variable idle_cv_;             // in_flight_ dropped to 0
  // Written under mu_ with no request in flight; a worker reads it while its
  // request counts in in_flight_, so stop() never swaps it under a running one.
  Handler handler_;
  bool kicked_ = false;     // GUARDED_BY(mu_)
  bool serving_ = false;    // GUARDED_BY(mu_): a session is on
  bool exit_ = false;       // GUARDED_BY(mu_): the workers end
  unsigned in_flight_ = 0;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace runvm::vmm::virtio::fs
