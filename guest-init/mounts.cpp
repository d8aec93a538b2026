#include "guest-init/mounts.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "base/path_components.h"

namespace runvm::guest {
namespace {

// mkdir -p of every component of `full` below `rootfs` (both resolved already).
Status mkdirs(const std::string& full) {
  std::string cur;
  for (const auto& c : path_components(full)) {
    cur += "/" + c;
    if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST) return Error::from_errno("mkdir " + cur);
  }
  return {};
}

Status ensure_target(const std::string& target, bool is_file) {
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) return {};
  if (!is_file) return mkdirs(target);
  std::string parent = target.substr(0, target.rfind('/'));
  if (auto s = mkdirs(parent); !s) return s;
  int fd = ::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Error::from_errno("create " + target);
  ::close(fd);
  return {};
}

Status do_mount(const std::string& src, const std::string& dst, const std::string& type,
                unsigned long flags, const std::string& data) {
  if (::mount(src.empty() ? nullptr : src.c_str(), dst.c_str(),
              type.empty() ? nullptr : type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    return Error::from_errno("mount " + (src.empty() ? type : src) + " on " + dst);
  return {};
}

Status mount_entry(const oci::Mount& m, const std::string& rootfs) {
  auto opts = parse_mount_options(m.options.value_or(std::vector<std::string>{}));
  std::string type = m.type.value_or("");
  if (type == "bind") opts.bind = true;
  if (type == "cgroup") type = "cgroup2";  // the guest kernel is ours: unified hierarchy
  std::string source = m.source.value_or(type);
  auto target = resolve_in_rootfs(rootfs, m.destination);
  if (!target) return target.error();
  bool is_file = false;
  if (opts.bind) {
    struct stat st;
    if (::stat(source.c_str(), &st) < 0) return Error::from_errno("bind source " + source);
    is_file = !S_ISDIR(st.st_mode);
  }
  if (auto s = ensure_target(*target, is_file); !s) return s;
  if (opts.bind) {
    // opts.data (mode=, size=, ...) means nothing to a bind; runc ignores it too.
    unsigned long f = MS_BIND | (opts.recursive ? MS_REC : 0);
    if (auto s = do_mount(source, *target, "", f, ""); !s) return s;
    // Bind mounts take their flags (ro, nosuid, ...) only on a remount.
    unsigned long rf = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (rf)
      if (auto s = do_mount("", *target, "", MS_BIND | MS_REMOUNT | rf, ""); !s) return s;
  } else {
    if (auto s = do_mount(source, *target, type, opts.flags, opts.data); !s) return s;
  }
  if (opts.propagation)
    if (auto s = do_mount("", *target, "", opts.propagation, ""); !s) return s;
  return {};
}

struct DefaultDev {
  const char* name;
  unsigned major, minor;
};
constexpr DefaultDev kDefaultDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                          {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

Status make_device(const std::string& path, mode_t type, unsigned major, unsigned minor,
                   mode_t perm, uid_t uid, gid_t gid, const std::string& fallback_src) {
  ::unlink(path.c_str());
  if (::mknod(path.c_str(), type | perm, makedev(major, minor)) == 0) {
    if (::chown(path.c_str(), uid, gid) < 0) return Error::from_errno("chown " + path);
    if (::chmod(path.c_str(), perm) < 0) return Error::from_errno("chmod " + path);
    return {};
  }
  if (errno != EPERM || fallback_src.empty()) return Error::from_errno("mknod " + path);
  // Without CAP_MKNOD (user namespaces) bind the caller's node instead, as runc does.
  if (auto s = ensure_target(path, true); !s) return s;
  return do_mount(fallback_src, path, "", MS_BIND, "");
}

Status create_devices(const oci::Spec& spec, const std::string& rootfs) {
  std::string dev = rootfs + "/dev";
  if (auto s = mkdirs(dev); !s) return s;
  for (const auto& d : kDefaultDevices)
    if (auto s = make_device(dev + "/" + d.name, S_IFCHR, d.major, d.minor, 0666, 0, 0,
                             std::string("/dev/") + d.name);
        !s)
      return s.error().wrap("default devices");
  struct Link {
    const char* target;
    const char* name;
  };
  for (auto l : {Link{"/proc/self/fd", "fd"}, Link{"/proc/self/fd/0", "stdin"},
                 Link{"/proc/self/fd/1", "stdout"}, Link{"/proc/self/fd/2", "stderr"},
                 Link{"pts/ptmx", "ptmx"}}) {
    std::string p = dev + "/" + l.name;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      if (!S_ISLNK(st.st_mode) && std::string(l.name) != "ptmx") continue;
      ::unlink(p.c_str());
    }
    if (::symlink(l.target, p.c_str()) < 0) return Error::from_errno("symlink " + p);
  }
  if (spec.linux && spec.linux->devices) {
    for (size_t i = 0; i < spec.linux->devices->size(); ++i) {
      const auto& d = (*spec.linux->devices)[i];
      std::string where = "linux.devices[" + std::to_string(i) + "]";
      mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
      auto path = resolve_in_rootfs(rootfs, d.path);
      if (!path) return path.error().wrap(where);
      if (auto s = mkdirs(path->substr(0, path->rfind('/'))); !s) return s.error().wrap(where);
      if (auto s = make_device(*path, type, static_cast<unsigned>(d.major.value_or(0)),
                               static_cast<unsigned>(d.minor.value_or(0)),
                               d.fileMode.value_or(0666) & 07777, d.uid.value_or(0),
                               d.gid.value_or(0), d.path);
          !s)
        return s.error().wrap(where);
    }
  }
  return {};
}

Status mask_path(const std::string& rootfs, const std::string& p) {
  auto t = resolve_in_rootfs(rootfs, p);
  if (!t) return t.error();
  struct stat st;
  if (::stat(t->c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return Error::from_errno("stat " + *t);
  }
  if (S_ISDIR(st.st_mode)) return do_mount("tmpfs", *t, "tmpfs", MS_RDONLY, "size=0");
  return do_mount("/dev/null", *t, "", MS_BIND, "");
}

Status readonly_path(const std::string& rootfs, const std::string& p) {
  auto t = resolve_in_rootfs(rootfs, p);
  if (!t) return t.error();
  if (::mount(t->c_str(), t->c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    if (errno == ENOENT) return {};
    return Error::from_errno("bind " + *t);
  }
  return do_mount("", *t, "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, "");
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  struct Flag {
    bool clear;
    unsigned long flag;
  };
  static const std::map<std::string, Flag> kFlags = {
      {"ro", {false, MS_RDONLY}},
      {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},
      {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},
      {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},
      {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}},
      {"async", {true, MS_SYNCHRONOUS}},
      {"dirsync", {false, MS_DIRSYNC}},
      {"remount", {false, MS_REMOUNT}},
      {"mand", {false, MS_MANDLOCK}},
      {"nomand", {true, MS_MANDLOCK}},
      {"atime", {true, MS_NOATIME}},
      {"noatime", {false, MS_NOATIME}},
      {"diratime", {true, MS_NODIRATIME}},
      {"nodiratime", {false, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}},
      {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}},
      {"nostrictatime", {true, MS_STRICTATIME}},
  };
  static const std::map<std::string, unsigned long> kPropagation = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  MountOptions o;
  for (const auto& opt : options) {
    if (auto f = kFlags.find(opt); f != kFlags.end()) {
      if (f->second.clear)
        o.flags &= ~f->second.flag;
      else
        o.flags |= f->second.flag;
    } else if (auto p = kPropagation.find(opt); p != kPropagation.end()) {
      o.propagation = p->second;  // one mount(2) call takes one type; the last one wins
    } else if (opt == "bind" || opt == "rbind") {
      o.bind = true;
      o.recursive |= opt == "rbind";
    } else {
      if (!o.data.empty()) o.data += ",";
      o.data += opt;
    }
  }
  return o;
}

Result<std::string> resolve_in_rootfs(const std::string& rootfs, const std::string& path) {
  std::vector<std::string> todo = path_components(path);
  std::vector<std::string> done;  // resolved components below rootfs
  int links = 0;
  // Process components front to back; a symlink's target is spliced in front.
  std::vector<std::string> stack(todo.rbegin(), todo.rend());
  while (!stack.empty()) {
    std::string c =
        stack.back();  // a copy: GCC 12 misreads a moved-from SSO string (-Wmaybe-uninitialized)
    stack.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();  // never above the root
      continue;
    }
    std::string cur = rootfs;
    for (const auto& d : done) cur += "/" + d;
    cur += "/" + c;
    struct stat st;
    if (::lstat(cur.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++links > 40) return Error("resolve " + path + ": too many symlinks", ELOOP);
      char buf[4096];
      ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
      if (n < 0) return Error::from_errno("readlink " + cur);
      std::string target(buf, static_cast<size_t>(n));
      if (!target.empty() && target[0] == '/') done.clear();
      auto parts = path_components(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) stack.push_back(*it);
      continue;
    }
    done.push_back(std::move(c));
  }
  std::string out = rootfs;
  for (const auto& d : done) out += "/" + d;
  return out;
}

namespace {

bool is_proc(const oci::Mount& m) {
  return m.type.value_or("") == "proc";
}

// True when `path` is a proc mount's destination or below one.
bool under_proc(const oci::Spec& spec, const std::string& path) {
  if (!spec.mounts) return false;
  for (const auto& m : *spec.mounts) {
    if (!is_proc(m)) continue;
    const std::string& d = m.destination;
    if (path == d || (path.size() > d.size() && path.compare(0, d.size(), d) == 0 &&
                      (d.back() == '/' || path[d.size()] == '/')))
      return true;
  }
  return false;
}

// maskedPaths and readonlyPaths, those below a proc mount only (`proc` true) or the others.
Status mask_and_protect(const oci::Spec& spec, const std::string& rootfs, bool proc) {
  if (spec.linux && spec.linux->maskedPaths)
    for (const auto& p : *spec.linux->maskedPaths)
      if (under_proc(spec, p) == proc)
        if (auto s = mask_path(rootfs, p); !s) return s.error().wrap("maskedPaths " + p);
  if (spec.linux && spec.linux->readonlyPaths)
    for (const auto& p : *spec.linux->readonlyPaths)
      if (under_proc(spec, p) == proc)
        if (auto s = readonly_path(rootfs, p); !s) return s.error().wrap("readonlyPaths " + p);
  return {};
}

}  // namespace

Status setup_rootfs(const oci::Spec& spec, const std::string& rootfs, bool defer_proc) {
  // pivot_root and the final read-only remount need rootfs to be a mount point.
  if (auto s = do_mount(rootfs, rootfs, "", MS_BIND | MS_REC, ""); !s)
    return s.error().wrap("rootfs");
  if (spec.mounts) {
    for (size_t i = 0; i < spec.mounts->size(); ++i) {
      const auto& m = (*spec.mounts)[i];
      const std::string where = "mounts[" + std::to_string(i) + "] " + m.destination;
      if (defer_proc && is_proc(m)) {
        // Only its mountpoint now: the root may be read-only by the time proc is mounted.
        auto target = resolve_in_rootfs(rootfs, m.destination);
        if (!target) return target.error().wrap(where);
        if (auto s = ensure_target(*target, false); !s) return s.error().wrap(where);
        continue;
      }
      if (auto s = mount_entry(m, rootfs); !s) return s.error().wrap(where);
    }
  }
  if (auto s = create_devices(spec, rootfs); !s) return s;
  if (auto s = mask_and_protect(spec, rootfs, false); !s) return s;
  if (!defer_proc)
    if (auto s = mask_and_protect(spec, rootfs, true); !s) return s;
  if (spec.root && spec.root->readonly.value_or(false))
    if (auto s = do_mount("", rootfs, "", MS_BIND | MS_REMOUNT | MS_RDONLY, ""); !s)
      return s.error().wrap("root.readonly");
  return {};
}

PropagationPlan propagation_plan(const oci::Spec& spec, bool defer_proc) {
  PropagationPlan plan;
  if (spec.linux && spec.linux->rootfsPropagation)
    plan.root = parse_mount_options({*spec.linux->rootfsPropagation}).propagation;
  if (spec.mounts)
    for (const auto& m : *spec.mounts) {
      if (defer_proc && is_proc(m)) continue;  // not there yet; its mount applies its own
      auto p = parse_mount_options(m.options.value_or(std::vector<std::string>{})).propagation;
      if (p) plan.mounts.emplace_back(m.destination, p);
    }
  return plan;
}

Status mount_proc_in_container(const oci::Spec& spec) {
  if (spec.mounts)
    for (size_t i = 0; i < spec.mounts->size(); ++i)
      if (is_proc((*spec.mounts)[i]))
        if (auto s = mount_entry((*spec.mounts)[i], ""); !s)  // "": the container's root
          return s.error().wrap("mounts[" + std::to_string(i) + "] " +
                                (*spec.mounts)[i].destination);
  return mask_and_protect(spec, "", true);
}

static Status apply_propagation(const PropagationPlan& plan) {
  if (plan.root)
    if (auto s = do_mount("", "/", "", plan.root, ""); !s)
      return s.error().wrap("rootfsPropagation");
  for (const auto& [destination, flags] : plan.mounts) {
    // In the container's root: the kernel resolves symlinks inside it.
    if (auto s = do_mount("", destination, "", flags, ""); !s) return s;
  }
  return {};
}

Status enter_rootfs(const std::string& rootfs, const std::string& console,
                    const PropagationPlan& propagation) {
  if (::unshare(CLONE_NEWNS) < 0) return Error::from_errno("unshare mount namespace");
  // Our mount changes must not propagate back to the agent's namespace.
  if (auto s = do_mount("", "/", "", MS_REC | MS_SLAVE, ""); !s) return s;
  if (!console.empty()) {
    std::string target = rootfs + "/dev/console";
    if (auto s = ensure_target(target, true); !s) return s.error().wrap("/dev/console");
    if (auto s = do_mount(console, target, "", MS_BIND, ""); !s)
      return s.error().wrap("/dev/console");
  }
  int newroot = ::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) return Error::from_errno("open " + rootfs);
  int rc = ::fchdir(newroot);
  ::close(newroot);
  if (rc < 0) return Error::from_errno("chdir " + rootfs);
  if (syscall(SYS_pivot_root, ".", ".") == 0) {
    // The old root is stacked under the new one at "."; detach it.
    if (::umount2(".", MNT_DETACH) < 0) return Error::from_errno("detach old root");
  } else if (errno == EINVAL) {
    // The initramfs cannot be pivoted away: move the rootfs over "/" and chroot.
    if (auto s = do_mount(".", "/", "", MS_MOVE, ""); !s) return s;
    if (::chroot(".") < 0) return Error::from_errno("chroot " + rootfs);
  } else {
    return Error::from_errno("pivot_root " + rootfs);
  }
  if (::chdir("/") < 0) return Error::from_errno("chdir /");
  // The copy made / a slave of the agent's mounts; now the propagation the config asks for.
  return apply_propagation(propagation);
}

Status join_rootfs_of(int pid) {
  std::string base = "/proc/" + std::to_string(pid);
  int ns = ::open((base + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return Error::from_errno("open " + base + "/ns/mnt");
  int root = ::open((base + "/root").c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (root < 0) {
    int e = errno;
    ::close(ns);
    return Error::from_errno("open " + base + "/root", e);
  }
  int rc = ::setns(ns, CLONE_NEWNS);
  int e = errno;
  ::close(ns);
  if (rc < 0) {
    ::close(root);
    return Error::from_errno("join mount namespace of " + std::to_string(pid), e);
  }
  // setns leaves us at the namespace's root; the process may be chrooted below it.
  rc = ::fchdir(root);
  e = errno;
  ::close(root);
  if (rc < 0 || ::chroot(".") < 0)
    return Error::from_errno("enter root of " + std::to_string(pid), rc < 0 ? e : errno);
  if (::chdir("/") < 0) return Error::from_errno("chdir /");
  return {};
}

namespace {
// A mountinfo field with its octal escapes (\040 for a space, ...) undone.
std::string unescape_mountinfo(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        std::isdigit(static_cast<unsigned char>(field[i + 1]))) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}
}  // namespace

Status unmount_tree(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return Error::from_errno("open /proc/self/mountinfo");
  std::vector<std::string> below;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    if (!(f >> id >> parent >> dev >> root >> point)) continue;
    point = unescape_mountinfo(point);
    if (point == path ||
        (point.size() > path.size() && point.starts_with(path) && point[path.size()] == '/'))
      below.push_back(point);
  }
  // Later mounts stack on earlier ones: undo them in reverse order.
  for (auto it = below.rbegin(); it != below.rend(); ++it)
    if (::umount2(it->c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      return Error::from_errno("unmount " + *it);
  return {};
}

}  // namespace runvm::guest
