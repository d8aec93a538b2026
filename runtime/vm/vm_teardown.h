// What a container holds outside its state directory, released by every path that
// removes a created container's state (delete, run's end, a failed create): a pod
// member's place in its pod VM (runtime/pod/pod_member.h) and the host cgroup.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/vm/vm_layout.h"

namespace runvm::runtime::vm {

// Tries every step; returns the first error (the caller usually only logs it).
[[nodiscard]] Status release_outside_state(const VmLayout& layout, const std::string& id);

}  // namespace runvm::runtime::vm
