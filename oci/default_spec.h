// The config.json `runvm spec` writes: the same document `runc spec` (runc 1.1)
// writes, field for field, except ociVersion which is this model's version
// (kSpecVersion). `runc run` accepts it unchanged.
#pragma once

#include <cstdint>

#include "oci/spec.h"

namespace runvm::oci {

// `runc spec`: terminal sh, 3 capabilities, RLIMIT_NOFILE 1024, read-only rootfs
// "rootfs", hostname "runc", the standard mounts, pid/network/ipc/uts/mount
// namespaces, masked and read-only /proc paths, deny-all device cgroup.
[[nodiscard]] Spec default_spec();

// `runc spec --rootless`: as default_spec() but with a user namespace mapping
// container root to host_uid/host_gid (the caller's euid/egid), no network
// namespace, /sys bind-mounted, no gid=5 on /dev/pts and no linux.resources.
[[nodiscard]] Spec default_rootless_spec(uint32_t host_uid, uint32_t host_gid);

}  // namespace runvm::oci
