// Volumes: the bundle's bind mounts of host directories reach the guest as extra
// virtio-fs shares, one per mount (tag runvm-vol<N>), and the mount the guest
// performs becomes a virtiofs mount of that tag with the same options minus
// bind/rbind. `ro` also makes the share read-only in the VMM. Only directories
// can be shared: a bind mount of a file or device fails create with a clear
// error (sharing its parent would expose the siblings to the guest).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/result.h"

namespace runvm::runtime::vm {

struct Volume {
  std::string tag;        // virtio-fs tag
  std::string host_path;  // resolved host directory
  bool readonly = false;
};

// Rewrites `config` (the bundle's config.json document) in place and returns
// the shares the VMM must add. Relative sources are relative to `bundle_dir`.
// Errors name the mount: `mounts[2].source "/srv/x": No such file or directory`.
[[nodiscard]] Result<std::vector<Volume>> share_bind_mounts(nlohmann::json& config,
                                                            const std::string& bundle_dir);

}  // namespace runvm::runtime::vm
