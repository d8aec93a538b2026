// Mountpoints: each mount destination missing in the rootfs is created on the
// host before the VM boots, as runc creates them before it makes the root
// read-only; the guest could not, since a read-only rootfs is shared read-only.
// Paths resolve inside the rootfs (openat2 RESOLVE_IN_ROOT), so a symlink in the
// image cannot lead runvm to create anything outside it. Destinations below an
// earlier mount (/dev/pts under the /dev tmpfs) are the guest's business. A
// failure is left for the guest to report with its mount error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace runvm::runtime::vm {

void make_mountpoints(const std::string& rootfs, const nlohmann::json& config);

}  // namespace runvm::runtime::vm
