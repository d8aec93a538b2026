#include "vmm/devices/virtio/fs/read_only_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace runvm::vmm::virtio::fs {

int ReadOnlyFs::open(const Context& c, uint64_t node, uint32_t flags, uint64_t* fh, uint32_t* of) {
  // Write access or truncation would modify the share.
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT))) return -EROFS;
  return in_->open(c, node, flags, fh, of);
}

int ReadOnlyFs::statfs(const Context& c, uint64_t node, struct statvfs* o) {
  int rc = in_->statfs(c, node, o);
  if (rc == 0) o->f_flag |= ST_RDONLY;
  return rc;
}

int ReadOnlyFs::access(const Context& c, uint64_t node, uint32_t mask) {
  if (mask & W_OK) {
    // Still report a missing node as such.
    int rc = in_->access(c, node, F_OK);
    return rc < 0 ? rc : -EROFS;
  }
  return in_->access(c, node, mask);
}

}  // namespace runvm::vmm::virtio::fs
