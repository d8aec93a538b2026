// The process's own /proc directory, opened once: runvm-vmm moves into a root
// without /proc (vmm/jail/mount_jail.h) and still needs its fd table
// (re-opening O_PATH fds) and its task list (the jail's single-thread check).
#pragma once

namespace runvm {

// An O_PATH directory fd of /proc/<pid> for the calling process, opened on the
// first call (and again after a fork, so a child never reads its parent's
// entries) and kept open. -1 with errno set when /proc could not be opened.
int proc_self_dir();

// Makes `fd` (an O_PATH directory fd of this process's /proc entry, owned from
// now on) what proc_self_dir() returns: the VMM's jail swaps in the entry of a
// private, pid-only /proc instance.
void set_proc_self_dir(int fd);

}  // namespace runvm
