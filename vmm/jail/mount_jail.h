// The VMM's own root (issue 10 item 1): a new mount namespace whose root is an
// empty tmpfs holding only the directories the VMM still reaches by path once
// the guest runs, bind-mounted (with their submounts) at their own paths. The
// host's other files, its /proc and /dev included, are gone from its view. New
// network, IPC, UTS and cgroup namespaces come with it (kVmmNamespaces).
//
// Entered after the kernel, initrd and /dev/kvm are open and before any device
// is created (the devices open their shares and sockets by path inside the new
// root, so a share's submounts stay attached), while single-threaded. Needs
// CAP_SYS_ADMIN; vmm/jail/README.md lists what is bound and why.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/vm_config.h"

namespace runvm::vmm::jail {

// The namespaces enter_mount_jail() gives the VMM.
extern const int kVmmNamespaces;

struct JailDir {
  std::string path;  // absolute; bound at the same path in the new root
  bool read_only = false;
};

// The directories `cfg` needs after the pivot: each share (read-only for `:ro`
// shares), the vsock socket's directory (guest-to-host connections connect to
// <uds>_<port>) and the console log's (rotation renames it). A directory below
// another one in the list comes with it and is dropped.
std::vector<JailDir> jail_dirs(const VmConfig& cfg);

// Moves the calling process into the new root. Paths are resolved
// (realpath) first, so a symlinked path still names the same directory.
// `chroot_only` skips pivot_root and takes the fallback used on hosts that run
// from their initramfs (for tests of that path).
[[nodiscard]] Status enter_mount_jail(const std::vector<JailDir>& dirs, bool chroot_only = false);

}  // namespace runvm::vmm::jail
