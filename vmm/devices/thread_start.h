// What a device's own threads run first. runvm-vmm starts every device thread
// (the filesystem servers' request workers) before the guest runs, and each one
// calls this hook before it serves a request: that is where the worker installs
// its seccomp filter (vmm/jail/README.md). No device thread is created later, so
// no thread that handles guest data ever needs clone().
#pragma once

#include <functional>

#include "base/result.h"

namespace runvm::vmm {

using ThreadStartHook = std::function<Status()>;

}  // namespace runvm::vmm
