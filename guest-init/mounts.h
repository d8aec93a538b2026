// The container's filesystem view from the OCI config: the mounts list, the
// default /dev, linux.devices, maskedPaths, readonlyPaths and root.readonly,
// all built under a rootfs directory; and entering that rootfs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::guest {

struct MountOptions {
  unsigned long flags = 0;        // MS_* for mount(2)
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC)
  bool bind = false;
  bool recursive = false;  // rbind
  std::string data;        // filesystem options ("mode=755,size=65536k")
};
// Splits OCI mount options into flags, propagation and filesystem data.
[[nodiscard]] MountOptions parse_mount_options(const std::vector<std::string>& options);

// The path that `path` (absolute, in the container) names under `rootfs`,
// following symlinks as if rootfs were "/" (so "../../x" or a link to "/etc"
// cannot leave it). Components that do not exist are returned as they are.
[[nodiscard]] Result<std::string> resolve_in_rootfs(const std::string& rootfs,
                                                    const std::string& path);

// Builds the container filesystem under rootfs, in the caller's mount namespace:
// makes rootfs a mount point, mounts spec.mounts in order (bind sources are
// guest paths), creates the default devices and linux.devices, masks and
// write-protects paths, and finally remounts root read-only if root.readonly.
// `defer_proc`: proc mounts (and masked/read-only paths below them) are left to
// mount_proc_in_container, for a container with a pid namespace of its own: a
// proc instance shows the pid namespace of the process that mounts it.
[[nodiscard]] Status setup_rootfs(const oci::Spec& spec, const std::string& rootfs,
                                  bool defer_proc = false);

// In the container's init, inside its root and pid namespace: the proc mounts
// setup_rootfs deferred, then the masked and read-only paths below them.
[[nodiscard]] Status mount_proc_in_container(const oci::Spec& spec);

// Propagation the config asks for: linux.rootfsPropagation for "/", then each
// mount's shared/slave/private/unbindable option (r* forms with MS_REC), in order.
struct PropagationPlan {
  unsigned long root = 0;
  std::vector<std::pair<std::string, unsigned long>> mounts;  // destination, MS_* flags
};
// `defer_proc` as for setup_rootfs: proc mounts come later and are left out.
[[nodiscard]] PropagationPlan propagation_plan(const oci::Spec& spec, bool defer_proc = false);

// In the calling process: a private copy of the mount namespace whose root is
// rootfs (pivot_root; MS_MOVE + chroot when the current root is the initramfs,
// which cannot be pivoted away). A non-empty `console` (the process's pty
// slave) is bind-mounted on /dev/console first, in the private copy only.
// The copy starts as a slave of the agent's mounts (runc's default rslave);
// `propagation` is applied last, inside the new root, so a `shared` mount is
// shared in the container's namespace as under runc.
[[nodiscard]] Status enter_rootfs(const std::string& rootfs, const std::string& console = "",
                                  const PropagationPlan& propagation = {});

// In the calling process: joins the mount namespace and root directory of
// `pid` (an exec joining the container's init process).
[[nodiscard]] Status join_rootfs_of(int pid);

// Detaches every mount at or below `path` in the caller's mount namespace, deepest
// first (a pod member's rootfs and what setup_rootfs mounted in it, on destroy).
[[nodiscard]] Status unmount_tree(const std::string& path);

}  // namespace runvm::guest
