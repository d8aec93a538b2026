// A pool of threads serving request/reply virtqueues (virtio-fs, virtio-9p):
// each descriptor chain's readable buffers are one request, its writable
// buffers the reply, both used in place in guest memory. Several requests are
// in flight at once; a slow one does not hold up the others.
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
  ~RequestWorkers() { stop(); }

  // Starts `threads` workers over `queues` (lower index served first when
  // several have work; disabled queues are skipped). Stops a previous run.
  void start(std::vector<std::optional<Queue>> queues, std::shared_ptr<VirtioInterrupt> interrupt,
             Handler handler, unsigned threads);
  // The driver posted buffers on some queue.
  void kick();
  // Lets in-flight requests finish, joins the workers and drops the queues.
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Queue>> queues_;    // GUARDED_BY(mu_)
  std::shared_ptr<VirtioInterrupt> interrupt_;  // GUARDED_BY(mu_)
  Handler handler_;                             // fixed while workers run
  bool kicked_ = false;                         // GUARDED_BY(mu_)
  bool stop_ = false;                           // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace runvm::vmm::virtio::fs
