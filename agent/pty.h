// Pseudo-terminals for terminal processes. The pty should come from the devpts
// instance the process will see (the container's /dev/pts), or ttyname() inside
// the container finds no name for it. The container's filesystem is not trusted:
// the ptmx node is opened without following any symlink and must be the real
// ptmx device (char 5:2); otherwise the agent's own /dev/ptmx is used.
#pragma once

#include <string>

#include "base/result.h"

namespace runvm::agent {

// Where a devpts instance's ptmx is: `rel` (no leading '/') below directory `root`.
struct PtmxLocation {
  std::string root;
  std::string rel;
};

// An O_RDWR|O_NOCTTY|O_CLOEXEC pty master, unlocked, from `where` when it is a
// real ptmx, else from /dev/ptmx.
[[nodiscard]] Result<int> open_pty_master(const PtmxLocation& where);

// The slave side of `master`, opened through the master (TIOCGPTPEER), so no path
// in any namespace is involved. O_CLOEXEC and O_NOCTTY.
[[nodiscard]] Result<int> open_pty_peer(int master);

}  // namespace runvm::agent
