// A path's non-empty components: "/a//b/" -> {"a", "b"}. "." and ".." are kept:
// what they mean is the caller's (resolving in a rootfs, refusing them in a cgroup path).
#pragma once

#include <string>
#include <vector>

namespace runvm {

[[nodiscard]] std::vector<std::string> path_components(const std::string& path);

}  // namespace runvm
