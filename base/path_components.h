// A path's non-empty components: "/a//b/" -> {"a", "b"}. "." and ".." are kept:
// what they mean is the caller's (resolving in a rootfs, refusing them in a cgroup path).
#pragma once

#include <string>
#include <vector>

namespace runvm {

[[nodiscard]] std::vector<std::string> path_components(const std::string& path);

// The directory part of a path as dirname(1) has it for these cases:
// "a/b" -> "a", "/b" -> "/", "b" -> ".".
[[nodiscard]] inline std::string parent_directory(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace runvm
