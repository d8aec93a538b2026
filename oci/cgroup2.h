// linux.resources applied to a cgroup v2 directory, as runc's fs2 driver does:
// in the guest for the container's own cgroup (guest-init), and on the host for
// the cgroup at linux.cgroupsPath that holds the supervisor and the VMM
// (runtime/vm/host_cgroup.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace runvm::oci {

// The cgroup v2 files and values for `r`, in write order, converting the v1
// style fields as runc does (shares -> cpu.weight, quota/period -> cpu.max,
// swap = memory+swap -> memory.swap.max, ...). `unified` entries come last and
// win. Errors name the field ("unified[\"../x\"]: invalid file name").
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> cgroup_files(
    const Resources& r);

// Creates `dir`, enables the needed controllers in its parent's
// cgroup.subtree_control and writes the files.
[[nodiscard]] Status setup_cgroup(const Resources& r, const std::string& dir);

// Whether `path` is in a cgroup v2 filesystem.
[[nodiscard]] bool is_cgroup2(const std::string& path);

// Moves the calling process into `dir`.
[[nodiscard]] Status join_cgroup(const std::string& dir);

}  // namespace runvm::oci
