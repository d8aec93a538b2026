#include "runtime/pod/mount_injection.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace runvm::runtime::pod {

namespace {

// Runs `step` in a forked child that joined the mount namespace of `pid` (setns needs a
// single-threaded caller, and the runtime keeps its own namespace). Returns the errno
// the step reported, with `what` naming it.
template <typename Step>
Status in_mount_namespace_of(pid_t pid, const std::string& what, Step step) {
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/mnt";
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return Error::from_errno(what + ": open " + ns_path);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error::from_errno(what + ": pipe");
  pid_t child = ::fork();
  if (child < 0) {
    int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Error::from_errno(what + ": fork", e);
  }
  if (child == 0) {
    ::close(report[0]);
    int err = ::setns(ns.get(), CLONE_NEWNS) == 0 ? step() : errno;
    (void)!::write(report[1], &err, sizeof err);
    ::_exit(err == 0 ? 0 : 1);
  }
  ::close(report[1]);
  int err = EIO;
  ssize_t n;
  while ((n = ::read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  if (n != sizeof err) err = EIO;
  ::close(report[0]);
  int ws = 0;
  while (::waitpid(child, &ws, 0) < 0 && errno == EINTR) {
  }
  if (err != 0) return Error(what + ": " + std::strerror(err), err);
  return {};
}

}  // namespace

Status inject_mount(pid_t vmm_pid, const std::string& source, const std::string& target,
                    bool readonly) {
  const std::string what = "place " + source + " in the pod VM at " + target;
  UniqueFd tree(static_cast<int>(
      ::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
  if (!tree.valid()) return Error::from_errno(what + ": clone " + source);
  if (readonly) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
      return Error::from_errno(what + ": make it read-only");
  }
  // Nothing the guest does through this mount may propagate anywhere.
  mount_attr priv{};
  priv.propagation = MS_PRIVATE;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &priv, sizeof priv) != 0)
    return Error::from_errno(what + ": make it private");
  return in_mount_namespace_of(vmm_pid, what, [&]() -> int {
    // The guest can write in a pod share's root, so the target is pinned first: a directory
    // or file, never a symlink put in its place, and the mount lands on what was opened.
    UniqueFd at(::open(target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!at.valid() || ::fstat(at.get(), &st) != 0) return errno;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return ELOOP;
    if (::move_mount(tree.get(), "", at.get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
      return errno;
    return 0;
  });
}

Status remove_injected_mount(pid_t vmm_pid, const std::string& target) {
  return in_mount_namespace_of(vmm_pid, "unmount " + target + " in the pod VM", [&]() -> int {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
        errno != ENOENT)
      return errno;
    return 0;
  });
}

}  // namespace runvm::runtime::pod
