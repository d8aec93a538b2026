#include "vmm/devices/virtio/fs/virtio_fs.h"

#include <sys/resource.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace runvm::vmm::virtio::fs {

Result<std::shared_ptr<VirtioFs>> VirtioFs::create(const std::string& tag,
                                                   std::shared_ptr<FileSystem> fs, unsigned workers,
                                                   FuseServerOptions server) {
  if (tag.empty() || tag.size() > kTagSize || tag.find('\0') != std::string::npos)
    return Error("virtio-fs: tag \"" + tag + "\" must be 1 to 36 bytes without NUL");
  if (!fs) return Error("virtio-fs: no filesystem");
  return std::shared_ptr<VirtioFs>(new VirtioFs(tag, std::move(fs), std::max(workers, 1u), server));
}

VirtioFs::VirtioFs(std::string tag, std::shared_ptr<FileSystem> fs, unsigned workers,
                   FuseServerOptions server)
    : tag_(std::move(tag)),
      fs_(std::move(fs)),
      nworkers_(workers),
      server_opts_(server),
      server_(std::make_shared<FuseServer>(fs_, server_opts_)) {}

VirtioFs::~VirtioFs() {
  workers_.stop();
}

std::vector<uint16_t> VirtioFs::queue_max_sizes() const {
  return std::vector<uint16_t>(1 + kNumRequestQueues, kQueueSize);
}

void VirtioFs::read_config(uint32_t offset, std::span<uint8_t> data) {
  uint8_t cfg[kConfigSize] = {};
  std::memcpy(cfg, tag_.data(), tag_.size());
  uint32_t nq = kNumRequestQueues;  // little-endian host (x86-64)
  std::memcpy(cfg + kTagSize, &nq, sizeof(nq));
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t at = static_cast<uint64_t>(offset) + i;
    data[i] = at < kConfigSize ? cfg[at] : 0;
  }
}

Status VirtioFs::activate(const GuestMemory&, std::vector<std::optional<Queue>> queues,
                          std::shared_ptr<VirtioInterrupt> interrupt) {
  if (queues.size() != 1 + kNumRequestQueues)
    return Error("virtio-fs " + tag_ + ": wrong number of queues");
  if (!queues[1]) return Error("virtio-fs " + tag_ + ": request queue not enabled");
  std::lock_guard lk(mu_);
  std::shared_ptr<FuseServer> server = server_;
  workers_.start(
      std::move(queues), std::move(interrupt),
      [server](ChainReader& in, ChainWriter& out) { return server->handle(in, out); }, nworkers_);
  return {};
}

Status VirtioFs::start_threads(const ThreadStartHook& on_start) {
  return workers_.spawn(nworkers_, on_start);
}

std::string VirtioFs::debug_state() const {
  std::lock_guard lk(mu_);
  return "fuse: " + server_->stats().summary();
}

std::string VirtioFs::snapshot_blocker() const {
  std::lock_guard lk(mu_);
  return server_->initialized() ? "virtio-fs " + tag_ + " is mounted in the guest" : "";
}

void VirtioFs::queue_notify(uint16_t) {
  workers_.kick();
}

void VirtioFs::reset() {
  std::lock_guard lk(mu_);
  workers_.stop();
  // The guest starts a new FUSE session (INIT) after a reset: drop the old one.
  fs_->destroy();
  server_ = std::make_shared<FuseServer>(fs_, server_opts_);
}

std::shared_ptr<VirtioDevice> make_virtio_fs(const std::string& tag, const std::string& dir,
                                             const ShareOptions& opts, std::string* error) {
  auto fs = open_share(dir, opts);
  if (!fs) {
    if (error) *error = fs.error().what();
    return nullptr;
  }
  FuseServerOptions server;
  server.cache = opts.served_cache();
  auto dev = VirtioFs::create(tag, std::move(*fs), VirtioFs::kDefaultWorkers, server);
  if (!dev) {
    if (error) *error = dev.error().what();
    return nullptr;
  }
  return *dev;
}

}  // namespace runvm::vmm::virtio::fs
