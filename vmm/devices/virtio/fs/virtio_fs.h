// virtio-fs device (virtio 1.x section 5.11): queue 0 is the high-priority
// queue (FORGET, BATCH_FORGET), queues 1..n carry FUSE requests. Config space:
// tag[36] (NUL-padded) + le32 num_request_queues.
//
// Requests are served by a RequestWorkers pool (several requests in flight:
// a slow FSYNC does not hold up READs), in place in guest memory.
// Thread-safety: VirtioDevice calls may come from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/fuse_server.h"
#include "vmm/devices/virtio/fs/open_share.h"
#include "vmm/devices/virtio/fs/request_workers.h"
#include "vmm/devices/virtio/virtio_device.h"

namespace runvm::vmm::virtio::fs {

class VirtioFs final : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 1024;
  static constexpr uint32_t kNumRequestQueues = 1;
  static constexpr size_t kTagSize = 36;
  static constexpr uint32_t kConfigSize = kTagSize + 4;
  static constexpr unsigned kDefaultWorkers = 4;

  // tag: 1..36 bytes, no NUL (what the guest mounts: `mount -t virtiofs TAG dir`).
  [[nodiscard]] static Result<std::shared_ptr<VirtioFs>> create(const std::string& tag,
                                                                std::shared_ptr<FileSystem> fs,
                                                                unsigned workers = kDefaultWorkers,
                                                                FuseServerOptions server = {});
  ~VirtioFs() override;

  std::string name() const override { return "fs"; }
  uint32_t device_type() const override { return kDeviceTypeFs; }
  uint64_t device_features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override;
  uint32_t config_size() const override { return kConfigSize; }
  void read_config(uint32_t offset, std::span<uint8_t> data) override;
  [[nodiscard]] Status activate(const GuestMemory& mem, std::vector<std::optional<Queue>> queues,
                                std::shared_ptr<VirtioInterrupt> interrupt) override;
  void queue_notify(uint16_t index) override;
  void reset() override;
  // "fuse: LOOKUP=n/ms ..." of the current session (RequestStats).
  [[nodiscard]] Status start_threads(const ThreadStartHook& on_start) override;
  std::string debug_state() const override;
  // A mounted share: the guest holds node ids only this session's server knows.
  std::string snapshot_blocker() const override;

  const std::string& tag() const { return tag_; }

 private:
  VirtioFs(std::string tag, std::shared_ptr<FileSystem> fs, unsigned workers,
           FuseServerOptions server);

  const std::string tag_;
  const std::shared_ptr<FileSystem> fs_;
  const unsigned nworkers_;
  const FuseServerOptions server_opts_;
  mutable std::mutex mu_;               // serialises activate/reset
  std::shared_ptr<FuseServer> server_;  // GUARDED_BY(mu_); replaced on reset (new session)
  RequestWorkers workers_;
};

// Builds the virtio-fs device for `--fs TAG=DIR[:ro][:rootfs][:cache=MODE][:writeback]`
// over open_share(dir, opts), with opts.cache's open flags and writeback. Returns nullptr and sets
// *error (when error is not null) on failure.
std::shared_ptr<VirtioDevice> make_virtio_fs(const std::string& tag, const std::string& dir,
                                             const ShareOptions& opts, std::string* error);

}  // namespace runvm::vmm::virtio::fs
