// virtio-9p device (device id 9, the "9P transport" of the virtio spec): one
// request queue carrying 9P2000.L messages; config space le16 tag_len + tag.
// Requests are served by a RequestWorkers pool in place in guest memory.
// Thread-safety: VirtioDevice calls may come from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/open_share.h"
#include "vmm/devices/virtio/fs/request_workers.h"
#include "vmm/devices/virtio/p9/p9_server.h"
#include "vmm/devices/virtio/virtio_device.h"

namespace runvm::vmm::virtio::p9 {

class Virtio9p final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 1024;
  static constexpr size_t kMaxTag = 64;
  static constexpr uint64_t kFeatureMountTag = 1;  // VIRTIO_9P_MOUNT_TAG
  static constexpr unsigned kDefaultWorkers = 4;

  // tag: 1..64 bytes, no NUL (`mount -t 9p -o trans=virtio TAG dir`).
  [[nodiscard]] static Result<std::shared_ptr<Virtio9p>> create(const std::string& tag,
                                                                std::shared_ptr<fs::FileSystem> fs,
                                                                unsigned workers = kDefaultWorkers);
  ~Virtio9p() override { workers_.stop(); }

  std::string name() const override { return "9p"; }
  uint32_t device_type() const override { return kDeviceType9p; }
  uint64_t device_features() const override { return kFeatureMountTag; }
  std::vector<uint16_t> queue_max_sizes() const override { return {kQueueSize}; }
  uint32_t config_size() const override { return static_cast<uint32_t>(2 + tag_.size()); }
  void read_config(uint32_t offset, std::span<uint8_t> data) override;
  [[nodiscard]] Status start_threads(const ThreadStartHook& on_start) override;
  [[nodiscard]] Status activate(const GuestMemory& mem, std::vector<std::optional<Queue>> queues,
                                std::shared_ptr<VirtioInterrupt> interrupt) override;
  void queue_notify(uint16_t) override { workers_.kick(); }
  void reset() override;
  // An attached share: the guest's fids live in this session's server only.
  std::string snapshot_blocker() const override;

 private:
  Virtio9p(std::string tag, std::shared_ptr<fs::FileSystem> fs, unsigned workers);

  const std::string tag_;
  const std::shared_ptr<fs::FileSystem> fs_;
  const unsigned nworkers_;
  mutable std::mutex mu_;             // serialises activate/reset
  std::shared_ptr<P9Server> server_;  // GUARDED_BY(mu_); replaced on reset
  fs::RequestWorkers workers_;
};

// Builds the virtio-9p device for `--9p TAG=DIR[:ro][:rootfs]` over
// fs::open_share(dir, opts). Returns nullptr and sets *error (when error is
// not null) on failure.
std::shared_ptr<VirtioDevice> make_virtio_9p(const std::string& tag, const std::string& dir,
                                             const fs::ShareOptions& opts, std::string* error);

}  // namespace runvm::vmm::virtio::p9
