// Mountpoints: each mount destination missing in the rootfs is created on the
// host before the VM boots, as runc creates them before it makes the root
// read-only; the guest could not, since a read-only rootfs is shared read-only.
// Paths resolve inside the rootfs (openat2 RESOLVE_IN_ROOT), so a symlink in the
// image cannot lead runvm to create anything outside it. Destinations below an
// earlier mount (/dev/pts under the /dev tmpfs) are the guest's business. A
// failure is left for the guest to report with its mount error. Destinations in
// `file_destinations` (binds of single files) end in an empty file, not a directory.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace runvm::runtime::vm {

void make_mountpoints(const std::string& rootfs, const nlohmann::json& config,
                      const std::set<std::string>& file_destinations = {});

}  // namespace runvm::runtime::vm
