// What a guest may leave in a host share (docs/security.md, "What the guest can
// leave on the host"). Both transports (virtio-fs, virtio-9p) reach the host
// through PassthroughFs, which asks these functions before it creates, chmods
// or sets an xattr, so one policy holds for every share.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace runvm::vmm::virtio::fs {

enum class ShareContent {
  // Data shared with the host (volumes, runvm's own files): the guest can
  // leave no set-uid/set-gid file and no security.* xattr there, since a host
  // process might execute or trust what it finds.
  Volume,
  // A container's root filesystem: images carry set-uid binaries (su, passwd)
  // and file capabilities (ping), and package managers in the guest install
  // them, so set-uid/set-gid bits and security.capability are kept.
  ContainerRoot,
};

// Device nodes are refused in every share (-EPERM, what runc's device cgroup
// answers): a node the guest made would open a host device for any host
// process that finds it. Overlayfs whiteouts (char 0:0) open nothing and are
// allowed. FIFOs, sockets and regular files are allowed.
int check_new_node(mode_t type, dev_t rdev);

// `mode` (permission bits) without what this share does not keep: set-uid and
// set-gid on non-directories of a Volume (set-gid on a directory only makes
// new entries inherit its group and is kept).
uint32_t allowed_mode(ShareContent content, mode_t type, uint32_t mode);

// Whether the guest may set or remove the xattr `name`: 0, -EPERM for
// trusted.* (host machinery such as overlayfs trusts it), -EOPNOTSUPP for the
// security.* names this share does not keep (tar and cp treat that as "the
// filesystem has no such namespace" and go on).
int check_xattr_write(ShareContent content, std::string_view name);

}  // namespace runvm::vmm::virtio::fs
