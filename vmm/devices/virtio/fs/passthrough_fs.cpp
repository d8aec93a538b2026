// PassthroughFs: the guest's view of one host directory.
//
// Threat model. The guest kernel (and anything running as root in it) is the
// adversary. It controls every name, node id, file handle, offset, size and
// flag in every request, and it can race its own requests against each other.
// Host-side changes to the share are trusted (the host owns the share).
// Guarantees:
//  - Nothing outside the share is read, written, created, stat'ed or opened.
//    Every inode the guest knows is an O_PATH|O_NOFOLLOW fd obtained by a
//    single-component openat() relative to an inode it already knew, starting
//    at the root; the server refuses names with '/', and here "." is the
//    parent itself and ".." at the root is the root itself. No host path is
//    ever resolved from a guest string, so `../` walks and absolute names
//    cannot escape.
//  - Symlinks are never followed on the host: lookups use O_NOFOLLOW (a
//    symlink becomes a symlink node), READLINK returns the link text for the
//    guest to resolve in its own namespace, and OPEN of a symlink node fails
//    with ELOOP. A symlink swapped in for a directory after LOOKUP changes
//    nothing: the node still is the O_PATH fd of the original directory.
//  - Operations are fd-relative (openat, mkdirat, unlinkat, renameat2,
//    linkat, symlinkat, mknodat, fchownat, fstatat); files are opened by
//    re-opening the node's O_PATH fd through /proc/self/fd/N, which names
//    that exact inode, never a path. Path-based calls that go through
//    /proc/self/fd/N (chmod, utimes, truncate, xattrs) are only made on inodes
//    known not to be symlinks, so the magic link cannot lead anywhere else.
//  - Special files: the guest may create FIFOs, sockets and overlayfs
//    whiteouts (char 0:0), never other device nodes (share_policy.h: a host
//    process finding one would reach a host device). Whatever special files
//    the host put in the share are never opened on the host: OPEN of a
//    char/block device, FIFO or socket node answers EACCES, CREATE on an
//    existing name opens it only if it is a regular file, so a FIFO cannot
//    block the worker thread.
//  - Hard links: the guest can only link inodes it already reached inside
//    the share. A hard link the host itself placed inside the share points
//    at an inode that is inside the share by definition.
//  - Forged node ids and handles find nothing (ENOENT/EBADF): ids are table
//    keys, never pointers. Every inode/handle is reference counted; FORGET
//    and RELEASE free them, and the tables have hard caps (ENFILE).
//  - Ownership: objects the guest creates get the caller's uid/gid (chown
//    after creation; the gid is inherited instead under a set-gid directory)
//    and exactly the mode it asked for (the VMM's umask is undone).
//  - Set-uid/set-gid files and xattrs follow the share's ShareContent
//    (share_policy.h): a volume keeps neither set-uid/set-gid bits on files
//    nor security.* xattrs; a container rootfs keeps both set-id bits and
//    security.capability. "trusted." names are refused everywhere (they steer
//    host-side machinery such as overlayfs). Permission checks between guest
//    users are the guest kernel's business; the server adds none beyond
//    ACCESS.
// Not covered here: set-uid files in a container rootfs are set-uid on the
// host too; the host should not execute from a rootfs (mount it nosuid).
#include "vmm/devices/virtio/fs/passthrough_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "base/proc_self.h"

namespace runvm::vmm::virtio::fs {

namespace {

int neg_errno() {
  return errno > 0 ? -errno : -EIO;
}

int stat_fd(int fd, struct stat* st) {
  return ::fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? neg_errno() : 0;
}

// The FUSE wire encoding of dev_t (the kernel's new_encode_dev).
dev_t decode_dev(uint32_t d) {
  return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

}  // namespace

Result<std::shared_ptr<PassthroughFs>> PassthroughFs::create(const std::string& root_dir,
                                                             PassthroughOptions opts) {
  // Through the /proc/<pid> kept open by base: the jailed VMM has no /proc.
  int proc = ::openat(proc_self_dir(), "fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return Error::from_errno("virtio-fs: open /proc/self/fd");
  int root = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    Error e = Error::from_errno("virtio-fs: open shared directory " + root_dir);
    ::close(proc);
    return e;
  }
  struct stat st {};
  if (stat_fd(root, &st) < 0) {
    Error e = Error::from_errno("virtio-fs: stat shared directory " + root_dir);
    ::close(root);
    ::close(proc);
    return e;
  }
  std::shared_ptr<PassthroughFs> fs(new PassthroughFs(proc, opts));
  fs->inodes_.set_root(root, st);
  return fs;
}

PassthroughFs::PassthroughFs(int proc_fd, PassthroughOptions opts)
    : proc_fd_(proc_fd),
      opts_(opts),
      inodes_(opts.max_inodes),
      handles_(opts.max_handles, opts.max_dir_handles) {}

PassthroughFs::~PassthroughFs() {
  handles_.clear();
  inodes_.clear();
  ::close(proc_fd_);
}

int PassthroughFs::reopen(const Inode& inode, int flags) const {
  return ::openat(proc_fd_, std::to_string(inode.fd).c_str(), flags | O_CLOEXEC);
}

int PassthroughFs::make_entry(int fd, Entry* out) {
  struct stat st {};
  if (int rc = stat_fd(fd, &st); rc < 0) {
    ::close(fd);
    return rc;
  }
  uint64_t node = inodes_.insert_or_ref(fd, st);
  if (node == 0) return -ENFILE;
  *out = Entry{};
  out->node = node;
  out->attr = st;
  out->entry_timeout_ns = opts_.timeout_ns;
  out->attr_timeout_ns = opts_.timeout_ns;
  return 0;
}

// Gives a freshly created object the caller's ids and the exact mode asked for,
// then registers it. fd is the new object's O_PATH fd (or -1 with errno set).
int PassthroughFs::finish_create(const Context& ctx, const Inode& parent, int fd, mode_t want_type,
                                 uint32_t mode, Entry* out) {
  if (fd < 0) return neg_errno();
  struct stat st {};
  if (int rc = stat_fd(fd, &st); rc < 0) {
    ::close(fd);
    return rc;
  }
  // If another request swapped the name meanwhile, leave what we found alone.
  if ((st.st_mode & S_IFMT) == want_type) {
    if (opts_.chown_to_caller && (st.st_uid != ctx.uid || st.st_gid != ctx.gid)) {
      struct stat pst {};
      gid_t gid = ctx.gid;
      if (stat_fd(parent.fd, &pst) == 0 && (pst.st_mode & S_ISGID)) gid = static_cast<gid_t>(-1);
      // EPERM when the VMM lacks CAP_CHOWN: the file keeps the VMM's ids.
      (void)::fchownat(fd, "", ctx.uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    }
    if (want_type != S_IFLNK) {
      mode_t want = (mode & 07777) | (want_type == S_IFDIR ? (st.st_mode & S_ISGID) : 0);
      struct stat now {};
      if (stat_fd(fd, &now) == 0 && (now.st_mode & 07777) != want)
        (void)::fchmodat(proc_fd_, std::to_string(fd).c_str(), want, 0);
    }
  }
  return make_entry(fd, out);
}

void PassthroughFs::destroy() {
  handles_.clear();
  inodes_.clear();
}

int PassthroughFs::lookup(const Context&, uint64_t parent, std::string_view name, Entry* out) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  if (p->type != S_IFDIR) return -ENOTDIR;
  if (name == "." || (name == ".." && parent == kRootNode)) {
    // ".." at the root is the root: the guest never sees above the share.
    struct stat st {};
    if (int rc = stat_fd(p->fd, &st); rc < 0) return rc;
    if (!inodes_.ref(parent)) return -ENOENT;
    *out = Entry{};
    out->node = parent;
    out->attr = st;
    out->entry_timeout_ns = opts_.timeout_ns;
    out->attr_timeout_ns = opts_.timeout_ns;
    return 0;
  }
  std::string n(name);
  int fd = ::openat(p->fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return neg_errno();
  return make_entry(fd, out);
}

void PassthroughFs::forget(uint64_t node, uint64_t nlookup) {
  inodes_.forget(node, nlookup);
}

int PassthroughFs::getattr(const Context&, uint64_t node, std::optional<uint64_t> fh,
                           struct stat* out) {
  if (fh) {
    auto h = handles_.get(*fh, false);
    if (!h) return -EBADF;
    return ::fstat(h->fd, out) < 0 ? neg_errno() : 0;
  }
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  return stat_fd(in->fd, out);
}

int PassthroughFs::setattr(const Context&, uint64_t node, const SetAttr& a, struct stat* out) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  std::shared_ptr<Handle> h;
  if (a.fh) {
    h = handles_.get(*a.fh, false);
    if (!h) return -EBADF;
  }
  const std::string self = std::to_string(in->fd);
  const bool is_link = in->type == S_IFLNK;

  if (a.valid & (FATTR_UID | FATTR_GID)) {
    uid_t uid = (a.valid & FATTR_UID) ? a.uid : static_cast<uid_t>(-1);
    gid_t gid = (a.valid & FATTR_GID) ? a.gid : static_cast<gid_t>(-1);
    if (::fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
      return neg_errno();
  }
  if (a.valid & FATTR_MODE) {
    mode_t mode = allowed_mode(opts_.content, in->type, a.mode & 07777);
    int rc = h         ? ::fchmod(h->fd, mode)
             : is_link ? (errno = EOPNOTSUPP, -1)
                       : ::fchmodat(proc_fd_, self.c_str(), mode, 0);
    if (rc < 0) return neg_errno();
  }
  if (a.valid & FATTR_SIZE) {
    if (a.size > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
    if (h) {
      if (::ftruncate(h->fd, static_cast<off_t>(a.size)) < 0) return neg_errno();
    } else {
      if (in->type == S_IFDIR) return -EISDIR;
      if (in->type != S_IFREG) return -EINVAL;  // never open a device to truncate it
      int fd = reopen(*in, O_WRONLY);
      if (fd < 0) return neg_errno();
      int rc = ::ftruncate(fd, static_cast<off_t>(a.size));
      int e = errno;
      ::close(fd);
      if (rc < 0) return -e;
    }
  }
  if (a.valid & (FATTR_ATIME | FATTR_MTIME)) {
    timespec ts[2];
    ts[0] = (a.valid & FATTR_ATIME) ? a.atime : timespec{0, UTIME_OMIT};
    ts[1] = (a.valid & FATTR_MTIME) ? a.mtime : timespec{0, UTIME_OMIT};
    int rc = h         ? ::futimens(h->fd, ts)
             : is_link ? (errno = EOPNOTSUPP, -1)
                       : ::utimensat(proc_fd_, self.c_str(), ts, 0);
    if (rc < 0) return neg_errno();
  }
  return stat_fd(in->fd, out);
}

int PassthroughFs::readlink(const Context&, uint64_t node, std::string* target) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if (in->type != S_IFLNK) return -EINVAL;
  std::vector<char> buf(PATH_MAX);
  ssize_t n = ::readlinkat(in->fd, "", buf.data(), buf.size());
  if (n < 0) return neg_errno();
  target->assign(buf.data(), static_cast<size_t>(n));
  return 0;
}

int PassthroughFs::symlink(const Context& ctx, uint64_t parent, std::string_view name,
                           std::string_view target, Entry* out) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  std::string n(name), t(target);
  if (::symlinkat(t.c_str(), p->fd, n.c_str()) < 0) return neg_errno();
  int fd = ::openat(p->fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return finish_create(ctx, *p, fd, S_IFLNK, 0, out);
}

int PassthroughFs::mknod(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                         uint32_t rdev, uint32_t, Entry* out) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  mode_t type = mode & S_IFMT;
  if (type == 0) type = S_IFREG;
  if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO && type != S_IFSOCK)
    return -EINVAL;
  if (int rc = check_new_node(type, decode_dev(rdev)); rc < 0) return rc;
  mode = allowed_mode(opts_.content, type, mode & 07777);
  std::string n(name);
  if (::mknodat(p->fd, n.c_str(), type | mode, decode_dev(rdev)) < 0) return neg_errno();
  int fd = ::openat(p->fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return finish_create(ctx, *p, fd, type, mode, out);
}

int PassthroughFs::mkdir(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                         uint32_t, Entry* out) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  std::string n(name);
  if (::mkdirat(p->fd, n.c_str(), mode & 07777) < 0) return neg_errno();
  int fd = ::openat(p->fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return finish_create(ctx, *p, fd, S_IFDIR, mode, out);
}

int PassthroughFs::unlink(const Context&, uint64_t parent, std::string_view name) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  return ::unlinkat(p->fd, std::string(name).c_str(), 0) < 0 ? neg_errno() : 0;
}

int PassthroughFs::rmdir(const Context&, uint64_t parent, std::string_view name) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  return ::unlinkat(p->fd, std::string(name).c_str(), AT_REMOVEDIR) < 0 ? neg_errno() : 0;
}

int PassthroughFs::rename(const Context&, uint64_t olddir, std::string_view oldname,
                          uint64_t newdir, std::string_view newname, uint32_t flags) {
  auto op = inodes_.get(olddir);
  auto np = inodes_.get(newdir);
  if (!op || !np) return -ENOENT;
  int rc = ::renameat2(op->fd, std::string(oldname).c_str(), np->fd, std::string(newname).c_str(),
                       flags);
  return rc < 0 ? neg_errno() : 0;
}

int PassthroughFs::link(const Context&, uint64_t node, uint64_t newparent, std::string_view newname,
                        Entry* out) {
  auto in = inodes_.get(node);
  auto np = inodes_.get(newparent);
  if (!in || !np) return -ENOENT;
  if (in->type == S_IFDIR) return -EPERM;
  std::string n(newname);
  // AT_EMPTY_PATH links the fd's own inode but needs CAP_DAC_READ_SEARCH; the
  // /proc/self/fd fallback is only safe for non-symlinks (it follows).
  int rc = ::linkat(in->fd, "", np->fd, n.c_str(), AT_EMPTY_PATH);
  if (rc < 0 && errno == ENOENT && in->type != S_IFLNK)
    rc = ::linkat(proc_fd_, std::to_string(in->fd).c_str(), np->fd, n.c_str(), AT_SYMLINK_FOLLOW);
  if (rc < 0) return neg_errno();
  struct stat st {};
  if (int r = stat_fd(in->fd, &st); r < 0) return r;
  if (!inodes_.ref(node)) return -ENOENT;
  *out = Entry{};
  out->node = node;
  out->attr = st;
  out->entry_timeout_ns = opts_.timeout_ns;
  out->attr_timeout_ns = opts_.timeout_ns;
  return 0;
}

}  // namespace runvm::vmm::virtio::fs
