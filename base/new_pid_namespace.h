// fork() into a new pid namespace: the child is pid 1 of a namespace of its own,
// so nothing that enters /proc/<pid>/ns/pid, and no pid it sees, reaches its
// parent's namespace. Used for runvm's supervisor (a container with a pid
// entry) and for runvm-vmm (always: docs/security.md).
#pragma once

#include <sys/types.h>

namespace runvm {

// Returns like fork(): the child's pid to the parent, 0 in the child, -1 with
// errno set. The child runs on a copy of the caller's stack (a raw clone
// without a stack), so between it and exec only async-signal-safe calls.
// The parent's own pid namespace, and the one its later children get, stay.
pid_t fork_in_new_pid_namespace();

}  // namespace runvm
