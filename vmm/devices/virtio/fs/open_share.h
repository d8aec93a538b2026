// The FileSystem behind one `--fs`/`--9p` share, for both transports.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "vmm/devices/virtio/fs/cache_policy.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/share_policy.h"

namespace runvm::vmm::virtio::fs {

struct ShareOptions {
  bool read_only = false;
  ShareContent content = ShareContent::Volume;
  // virtio-fs only (a 9p guest picks its caching at mount time).
  CachePolicy cache = {};

  // `cache` as served: a read-only share never takes writeback (nothing to write back).
  CachePolicy served_cache() const {
    CachePolicy c = cache;
    c.writeback = c.writeback && !read_only;
    return c;
  }
};

// A PassthroughFs over dir with the share's policy (wrapped in ReadOnlyFs when
// read-only; entry and attribute timeouts from opts.cache), after raising RLIMIT_NOFILE: every
// inode the guest holds is an open O_PATH fd, and the usual soft limit of 1024 would be hit by any
// rootfs.
[[nodiscard]] Result<std::shared_ptr<FileSystem>> open_share(const std::string& dir,
                                                             const ShareOptions& opts);

}  // namespace runvm::vmm::virtio::fs
