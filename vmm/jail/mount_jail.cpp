#include "vmm/jail/mount_jail.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include "base/path_components.h"
#include "base/proc_self.h"
#include "base/unique_fd.h"

namespace runvm::vmm::jail {

namespace {

Result<std::string> resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return Error::from_errno("mount jail: resolve " + path);
  return std::string(buf);
}

// True when `inner` is `outer` or lies below it.
bool within(const std::string& inner, const std::string& outer) {
  if (outer == "/") return true;
  return inner == outer ||
         (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
}

// mkdir -p of `path` inside the directory `root` (the new tmpfs).
Status make_dirs_in(int root, const std::string& path) {
  UniqueFd at(::dup(root));
  for (const auto& c : path_components(path)) {
    if (::mkdirat(at.get(), c.c_str(), 0755) != 0 && errno != EEXIST)
      return Error::from_errno("mount jail: mkdir " + path);
    UniqueFd next(::openat(at.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return Error::from_errno("mount jail: open " + path);
    at = std::move(next);
  }
  return {};
}

// The filesystem servers re-open O_PATH fds through /proc/self/fd, the jail
// counts threads in /proc/self/task and long unix socket paths go through
// /proc/self/fd/N/<name> (base/unix_address.h), but the host's /proc would
// lead to /proc/sys (writable by uid 0) and every process. So the VMM gets a
// private proc instance, mounted as /proc of its new root: pids only
// (subset=pid: no sys, no kcore), and only processes it may ptrace
// (hidepid=ptraceable; the jail makes every VMM non-dumpable, so no VMM sees
// another). Returns the detached mount; proc_self_dir() names its /proc/<pid>.
Result<UniqueFd> private_proc() {
  UniqueFd fs(::fsopen("proc", FSOPEN_CLOEXEC));
  if (!fs.valid()) return Error::from_errno("mount jail: fsopen(proc)");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "subset", "pid", 0) != 0 ||
      ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "hidepid", "ptraceable", 0) != 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return Error::from_errno("mount jail: configure a pid-only proc");
  UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC,
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt.valid()) return Error::from_errno("mount jail: fsmount(proc)");
  int self = ::openat(mnt.get(), std::to_string(::getpid()).c_str(),
                      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (self < 0) return Error::from_errno("mount jail: open the private /proc/<pid>");
  set_proc_self_dir(self);
  return mnt;
}

}  // namespace

const int kVmmNamespaces =
    CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

std::vector<JailDir> jail_dirs(const VmConfig& cfg) {
  std::vector<JailDir> dirs;
  for (const auto& sd : cfg.shared_dirs) dirs.push_back({sd.dir, sd.read_only});
  if (!cfg.vsock_uds.empty()) dirs.push_back({parent_directory(cfg.vsock_uds), false});
  if (cfg.console.kind == ConsoleConfig::Kind::File)
    dirs.push_back({parent_directory(cfg.console.path), false});
  return dirs;
}

Status enter_mount_jail(const std::vector<JailDir>& wanted, bool chroot_only) {
  // Each directory appears at its resolved path and at the path as given
  // (Docker's state lives under /var/run, a symlink to /run: the VMM later
  // binds its socket by the given path). Only the outermost are bound (a
  // read-write one wins over a read-only one at the same path).
  struct Bind {
    std::string target, source;
    bool read_only;
  };
  std::vector<Bind> binds;
  for (const auto& d : wanted) {
    auto source = resolved(d.path);
    if (!source) return std::move(source).error();
    binds.push_back({*source, *source, d.read_only});
    auto given = std::filesystem::absolute(d.path).lexically_normal().string();
    while (given.size() > 1 && given.back() == '/') given.pop_back();
    if (given != *source) binds.push_back({given, *source, d.read_only});
  }
  std::sort(binds.begin(), binds.end(), [](const Bind& a, const Bind& b) {
    return a.target != b.target ? a.target < b.target : a.read_only < b.read_only;
  });
  std::vector<Bind> outer;
  for (const auto& b : binds)
    if (outer.empty() || !within(b.target, outer.back().target)) outer.push_back(b);

  // Relative paths (a console log in the cwd) keep working where the cwd is in
  // the new root: it is entered again afterwards.
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  // With the mount namespace, namespaces of its own for what the VMM never
  // uses: no network (its tap fd is open and its sockets are unix ones, bound
  // by path), no System V IPC, no hostname, a cgroup view rooted at its own.
  if (::unshare(kVmmNamespaces) != 0) {
    // An unprivileged user's VMM has nothing of root's to protect: run without.
    if (errno == EPERM && ::geteuid() != 0) {
      std::fprintf(stderr, "runvm-vmm: no mount jail: not root (CAP_SYS_ADMIN needed)\n");
      return {};
    }
    return Error::from_errno("mount jail: unshare(mount, net, ipc, uts, cgroup)");
  }
  // Nothing done here may reach the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return Error::from_errno("mount jail: make / private");
  auto proc = private_proc();
  if (!proc) return std::move(proc).error();

  // Clone each directory's mount tree first: the tmpfs below may hide it.
  std::vector<UniqueFd> trees;
  for (const auto& b : outer) {
    UniqueFd t(static_cast<int>(::open_tree(AT_FDCWD, b.source.c_str(),
                                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
    if (!t.valid()) return Error::from_errno("mount jail: clone " + b.source);
    if (b.read_only) {
      mount_attr attr{};
      attr.attr_set = MOUNT_ATTR_RDONLY;
      if (::mount_setattr(t.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        return Error::from_errno("mount jail: make " + b.source + " read-only");
    }
    trees.push_back(std::move(t));
  }

  // The new root: a small tmpfs on /proc, which always exists and which the
  // jailed VMM no longer needs: the private one replaces it.
  const char* kTop = "/proc";
  if (::mount("runvm-vmm-root", kTop, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=1m,nr_inodes=4096,mode=0755") != 0)
    return Error::from_errno("mount jail: tmpfs for the new root");
  UniqueFd top(::open(kTop, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!top.valid()) return Error::from_errno("mount jail: open the new root");
  for (size_t i = 0; i < outer.size(); ++i) {
    const std::string& p = outer[i].target;
    if (auto s = make_dirs_in(top.get(), p); !s) return s;
    const std::string target = std::string(kTop) + p;
    if (::move_mount(trees[i].get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
      return Error::from_errno("mount jail: bind " + p);
  }
  if (::mkdirat(top.get(), "proc", 0555) != 0 && errno != EEXIST)
    return Error::from_errno("mount jail: mkdir /proc");
  if (::move_mount(proc->get(), "", top.get(), "proc", MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return Error::from_errno("mount jail: mount the private /proc");
  if (::fchdir(top.get()) != 0) return Error::from_errno("mount jail: chdir to the new root");
  // pivot_root(".", "."): the old root ends up stacked on the new one and is
  // then detached; nothing of it stays reachable.
  if (!chroot_only && ::syscall(SYS_pivot_root, ".", ".") == 0) {
    if (::umount2(".", MNT_DETACH) != 0)
      return Error::from_errno("mount jail: detach the old root");
  } else if (chroot_only || errno == EINVAL) {
    // The host runs from its initramfs, which cannot be pivoted away: move the
    // new root onto / and chroot into it (runc's --no-pivot). The way back up
    // needs CAP_SYS_CHROOT, which the jail drops with the rest.
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
      return Error::from_errno("mount jail: move the new root onto /");
    if (::chroot(".") != 0) return Error::from_errno("mount jail: chroot");
  } else {
    return Error::from_errno("mount jail: pivot_root");
  }
  if ((cwd[0] == '\0' || ::chdir(cwd) != 0) && ::chdir("/") != 0)
    return Error::from_errno("mount jail: chdir /");
  // The root itself holds only mount points: read-only from now on.
  if (::mount(nullptr, "/", nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return Error::from_errno("mount jail: make the new root read-only");
  return {};
}

}  // namespace runvm::vmm::jail
