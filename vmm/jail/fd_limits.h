// The VMM's file descriptors: nothing inherited but what it was given, and a
// fixed ceiling on how many it may hold.
#pragma once

#include <sys/resource.h>

#include <span>

#include "base/result.h"

namespace runvm::vmm::jail {

// Every filesystem server pins one O_PATH fd per inode the guest holds, as
// virtiofsd does; this many, at most, per VMM (fs.nr_open permitting).
inline constexpr rlim_t kMaxVmmFds = rlim_t{1} << 20;

// Closes every fd above 2 except those in `keep` (the caller's tap).
[[nodiscard]] Status close_inherited_fds(std::span<const int> keep);

// Raises RLIMIT_NOFILE towards kMaxVmmFds: to min(kMaxVmmFds, fs.nr_open) with
// CAP_SYS_RESOURCE, else to the hard limit. Called by each filesystem device.
void raise_nofile_limit();

// Makes the current soft limit the hard one, so the VMM can never hold more.
[[nodiscard]] Status freeze_nofile_limit();

}  // namespace runvm::vmm::jail
