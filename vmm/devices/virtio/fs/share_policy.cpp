#include "vmm/devices/virtio/fs/share_policy.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

namespace runvm::vmm::virtio::fs {

int check_new_node(mode_t type, dev_t rdev) {
  if (type == S_IFBLK) return -EPERM;
  if (type == S_IFCHR && (major(rdev) != 0 || minor(rdev) != 0)) return -EPERM;
  return 0;
}

uint32_t allowed_mode(ShareContent content, mode_t type, uint32_t mode) {
  if (content == ShareContent::Volume && type != S_IFDIR)
    return mode & ~uint32_t{S_ISUID | S_ISGID};
  return mode;
}

int check_xattr_write(ShareContent content, std::string_view name) {
  if (name.starts_with("trusted.")) return -EPERM;
  if (!name.starts_with("security.")) return 0;
  if (content == ShareContent::ContainerRoot && name == "security.capability") return 0;
  return -EOPNOTSUPP;
}

}  // namespace runvm::vmm::virtio::fs
