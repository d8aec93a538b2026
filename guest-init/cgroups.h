// The container's cgroup in the guest. The VM has one container, so its cgroup
// is a child of the guest's root cgroup; the limits still matter (memory.max
// inside a VM sized larger, pids.max, cpu.max, ...). The linux.resources to
// cgroup v2 conversion is oci/cgroup2.h, shared with the host-side cgroup.
#pragma once

#include "oci/cgroup2.h"

namespace runvm::guest {

// Where guest-init puts the container's processes.
inline constexpr const char* kContainerCgroup = "/sys/fs/cgroup/runvm";

using oci::cgroup_files;
using oci::is_cgroup2;
using oci::join_cgroup;
using oci::setup_cgroup;

}  // namespace runvm::guest
