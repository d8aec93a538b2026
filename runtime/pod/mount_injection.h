// Mounts placed into a running VMM's mount namespace (its jail, vmm/jail/mount_jail.h):
// how a pod member's rootfs and bind mounts reach the pod VM's shares after it booted,
// without device hotplug. The source is cloned in the caller's namespace (open_tree,
// with its submounts), then a child joins the VMM's namespace and attaches the clone
// (move_mount). Needs CAP_SYS_ADMIN; the target must exist in the VMM's view.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace runvm::runtime::pod {

// Binds `source` onto `target` (a path in the VMM's root) in the mount namespace of
// `vmm_pid`; `readonly` makes the whole clone read-only there.
[[nodiscard]] Status inject_mount(pid_t vmm_pid, const std::string& source,
                                  const std::string& target, bool readonly);

// Detaches what inject_mount placed on `target` (a lazy unmount: the VMM's open files
// keep their mount until closed). An already unmounted target is not an error.
[[nodiscard]] Status remove_injected_mount(pid_t vmm_pid, const std::string& target);

}  // namespace runvm::runtime::pod
