#include "vmm/devices/virtio/p9/virtio_9p.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace runvm::vmm::virtio::p9 {

Result<std::shared_ptr<Virtio9p>> Virtio9p::create(const std::string& tag,
                                                   std::shared_ptr<fs::FileSystem> fs,
                                                   unsigned workers) {
  if (tag.empty() || tag.size() > kMaxTag || tag.find('\0') != std::string::npos)
    return Error("virtio-9p: tag \"" + tag + "\" must be 1 to 64 bytes without NUL");
  if (!fs) return Error("virtio-9p: no filesystem");
  return std::shared_ptr<Virtio9p>(new Virtio9p(tag, std::move(fs), std::max(workers, 1u)));
}

Virtio9p::Virtio9p(std::string tag, std::shared_ptr<fs::FileSystem> fs, unsigned workers)
    : tag_(std::move(tag)),
      fs_(std::move(fs)),
      nworkers_(workers),
      server_(std::make_shared<P9Server>(fs_)) {}

void Virtio9p::read_config(uint32_t offset, std::span<uint8_t> data) {
  std::vector<uint8_t> cfg(2 + tag_.size());
  uint16_t len = static_cast<uint16_t>(tag_.size());  // little-endian host (x86-64)
  std::memcpy(cfg.data(), &len, 2);
  std::memcpy(cfg.data() + 2, tag_.data(), tag_.size());
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t at = static_cast<uint64_t>(offset) + i;
    data[i] = at < cfg.size() ? cfg[at] : 0;
  }
}

Status Virtio9p::start_threads(const ThreadStartHook& on_start) {
  return workers_.spawn(nworkers_, on_start);
}

Status Virtio9p::activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                          std::shared_ptr<VirtioInterrupt> interrupt) {
  if (queues.size() != 1 || !queues[0])
    return Error("virtio-9p " + tag_ + ": request queue not enabled");
  std::lock_guard lk(mu_);
  std::shared_ptr<P9Server> server = server_;
  workers_.start(
      std::move(queues), std::move(interrupt),
      [server](ChainReader& in, ChainWriter& out) { return server->handle(in, out); }, nworkers_);
  return {};
}

std::string Virtio9p::snapshot_blocker() const {
  std::lock_guard lk(mu_);
  return server_ && server_->fid_count() > 0 ? "virtio-9p " + tag_ + " is attached in the guest"
                                             : "";
}

void Virtio9p::reset() {
  std::lock_guard lk(mu_);
  workers_.stop();
  // A new driver starts a new session (Tversion): drop every fid of the old one.
  server_ = std::make_shared<P9Server>(fs_);
  fs_->destroy();
}

std::shared_ptr<VirtioDevice> make_virtio_9p(const std::string& tag, const std::string& dir,
                                             const fs::ShareOptions& opts, std::string* error) {
  auto fs = fs::open_share(dir, opts);
  if (!fs) {
    if (error) *error = fs.error().what();
    return nullptr;
  }
  auto dev = Virtio9p::create(tag, std::move(*fs));
  if (!dev) {
    if (error) *error = dev.error().what();
    return nullptr;
  }
  return *dev;
}

}  // namespace runvm::vmm::virtio::p9
