#include "vmm/devices/virtio/fs/open_share.h"

#include "vmm/devices/virtio/fs/passthrough_fs.h"
#include "vmm/devices/virtio/fs/read_only_fs.h"
#include "vmm/jail/fd_limits.h"

namespace runvm::vmm::virtio::fs {

Result<std::shared_ptr<FileSystem>> open_share(const std::string& dir, const ShareOptions& opts) {
  jail::raise_nofile_limit();
  PassthroughOptions po;
  po.content = opts.content;
  po.timeout_ns = opts.served_cache().timeout_ns();
  po.writeback = opts.served_cache().writeback;
  auto pfs = PassthroughFs::create(dir, po);
  if (!pfs) return pfs.error();
  std::shared_ptr<FileSystem> fs = *pfs;
  if (opts.read_only) fs = std::make_shared<ReadOnlyFs>(std::move(fs));
  return fs;
}

}  // namespace runvm::vmm::virtio::fs
