// Removes a directory tree of any depth with a bounded number of open fds
// (std::filesystem::remove_all keeps one per level and fails with EMFILE on a
// deep tree, which a guest can build in a writable share). Never follows
// symlinks and never enters another filesystem: a mountpoint inside the tree
// is left in place and reported.
#pragma once

#include <string>

#include "base/result.h"

namespace runvm {

// A missing `path` is success.
[[nodiscard]] Status remove_tree(const std::string& path);

}  // namespace runvm
