// PassthroughFs: open files, directories, data and metadata I/O. The
// containment rules are in passthrough_fs.cpp.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "vmm/devices/virtio/fs/passthrough_fs.h"

namespace runvm::vmm::virtio::fs {

namespace {

int neg_errno() {
  return errno > 0 ? -errno : -EIO;
}

int host_open_flags(uint32_t flags, bool writeback) {
  // O_CREAT/O_EXCL/O_NOCTTY/O_PATH/O_TMPFILE/O_DIRECTORY are handled by us or
  // refused by omission; O_DIRECT and O_NOATIME are dropped (the host page
  // cache is fine; NOATIME needs ownership).
  flags &= O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC;
  if (writeback) {
    // The guest's page cache reads around partial writes through any open handle, and
    // it places appends itself (at the size it keeps): a host O_APPEND would move them.
    if ((flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
    flags &= ~static_cast<uint32_t>(O_APPEND);
  }
  return static_cast<int>(flags) | O_CLOEXEC;
}

// Reads or writes a whole iovec list at `off`, IOV_MAX entries at a time.
int64_t rw_all(bool write, int fd, std::span<const iovec> v, uint64_t off) {
  int64_t total = 0;
  size_t i = 0;
  while (i < v.size()) {
    size_t cnt = std::min<size_t>(v.size() - i, IOV_MAX);
    size_t want = 0;
    for (size_t k = i; k < i + cnt; ++k) want += v[k].iov_len;
    off_t at = static_cast<off_t>(off + static_cast<uint64_t>(total));
    ssize_t n = write ? ::pwritev(fd, &v[i], static_cast<int>(cnt), at)
                      : ::preadv(fd, &v[i], static_cast<int>(cnt), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return total > 0 ? total : neg_errno();
    }
    total += n;
    if (static_cast<size_t>(n) < want) break;  // EOF or a full disk
    i += cnt;
  }
  return total;
}

// xattrs are only served on regular files and directories, through a short-
// lived read-only fd re-opened from the node (no path is resolved, and no
// /proc path string is needed, so this keeps working inside a VMM jail).
bool xattr_type_ok(mode_t type) {
  return type == S_IFREG || type == S_IFDIR;
}

class XattrFd {
 public:
  explicit XattrFd(int fd) : fd_(fd) {}
  ~XattrFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  XattrFd(const XattrFd&) = delete;
  XattrFd& operator=(const XattrFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

int PassthroughFs::open(const Context&, uint64_t node, uint32_t flags, uint64_t* fh,
                        uint32_t* open_flags) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if ((flags & O_ACCMODE) == O_ACCMODE) return -EINVAL;
  switch (in->type) {
    case S_IFREG:
      break;
    case S_IFDIR:
      if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) return -EISDIR;
      break;
    case S_IFLNK:
      return -ELOOP;  // never follow a symlink on the host
    default:
      return -EACCES;  // device nodes, FIFOs, sockets are never opened on the host
  }
  int fd = reopen(*in, host_open_flags(flags, opts_.writeback));
  // A write-only file the VMM may not read (no CAP_DAC_OVERRIDE): open it as asked; the
  // guest then only writes whole pages into it or gets EIO from its read-around.
  if (fd < 0 && errno == EACCES && opts_.writeback && (flags & O_ACCMODE) == O_WRONLY)
    fd = reopen(*in, host_open_flags(flags, false));
  if (fd < 0) return neg_errno();
  *fh = handles_.add(fd, false);
  if (*fh == 0) return -ENFILE;
  *open_flags = 0;
  return 0;
}

int PassthroughFs::create(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                          uint32_t flags, uint32_t, Entry* out, uint64_t* fh,
                          uint32_t* open_flags) {
  auto p = inodes_.get(parent);
  if (!p) return -ENOENT;
  if ((flags & O_ACCMODE) == O_ACCMODE) return -EINVAL;
  mode = allowed_mode(opts_.content, S_IFREG, mode & 07777);
  std::string n(name);
  int fd = ::openat(p->fd, n.c_str(),
                    host_open_flags(flags, opts_.writeback) | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  if (fd < 0 && errno == EEXIST && !(flags & O_EXCL)) {
    // The name exists: open it exactly as LOOKUP + OPEN would, so an existing
    // symlink, device node or FIFO is never opened on the host.
    int path_fd = ::openat(p->fd, n.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (path_fd < 0) return neg_errno();
    if (int rc = make_entry(path_fd, out); rc < 0) return rc;
    if (int rc = open(ctx, out->node, flags, fh, open_flags); rc < 0) {
      inodes_.forget(out->node, 1);
      return rc;
    }
    return 0;
  }
  if (fd < 0) return neg_errno();
  // The node's O_PATH fd comes from the open file itself: same inode, no race.
  int path_fd = ::openat(proc_fd_, std::to_string(fd).c_str(), O_PATH | O_CLOEXEC);
  if (int rc = finish_create(ctx, *p, path_fd, S_IFREG, mode, out); rc < 0) {
    ::close(fd);
    return rc;
  }
  *fh = handles_.add(fd, false);
  if (*fh == 0) {
    inodes_.forget(out->node, 1);
    return -ENFILE;
  }
  *open_flags = 0;
  return 0;
}

int64_t PassthroughFs::read(const Context&, uint64_t, uint64_t fh, uint64_t offset,
                            std::span<const iovec> dst) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  return rw_all(false, h->fd, dst, offset);
}

int64_t PassthroughFs::write(const Context&, uint64_t, uint64_t fh, uint64_t offset,
                             std::span<const iovec> src, uint32_t) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  return rw_all(true, h->fd, src, offset);
}

int PassthroughFs::flush(const Context&, uint64_t, uint64_t fh) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  // close(2) of a duplicate reports deferred write errors (NFS-style hosts).
  int d = ::dup(h->fd);
  if (d < 0) return neg_errno();
  return ::close(d) < 0 ? neg_errno() : 0;
}

int PassthroughFs::release(const Context&, uint64_t, uint64_t fh) {
  return handles_.remove(fh, false) ? 0 : -EBADF;
}

int PassthroughFs::fsync(const Context&, uint64_t, uint64_t fh, bool datasync) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  return (datasync ? ::fdatasync(h->fd) : ::fsync(h->fd)) < 0 ? neg_errno() : 0;
}

int PassthroughFs::opendir(const Context&, uint64_t node, uint32_t, uint64_t* fh) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if (in->type != S_IFDIR) return -ENOTDIR;
  int fd = ::openat(in->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return neg_errno();
  *fh = handles_.add(fd, true);
  return *fh == 0 ? -ENFILE : 0;
}

int PassthroughFs::readdir(const Context&, uint64_t, uint64_t fh, uint64_t offset,
                           const DirSink& sink) {
  auto h = handles_.get(fh, true);
  if (!h) return -EBADF;
  std::lock_guard lock(h->dir_mu);
  if (offset > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  if (offset != h->dir_pos) {
    if (::lseek(h->fd, static_cast<off_t>(offset), SEEK_SET) < 0) return neg_errno();
    h->dir_buf.clear();
    h->dir_buf_pos = 0;
    h->dir_pos = offset;
  }
  for (;;) {
    if (h->dir_buf_pos >= h->dir_buf.size()) {
      h->dir_buf.resize(32 * 1024);
      h->dir_buf_pos = 0;
      ssize_t n = ::getdents64(h->fd, h->dir_buf.data(), h->dir_buf.size());
      if (n <= 0) {
        h->dir_buf.clear();
        if (n == 0) return 0;
        int e = neg_errno();
        h->dir_pos = UINT64_MAX;  // unknown: the next call seeks
        return e;
      }
      h->dir_buf.resize(static_cast<size_t>(n));
    }
    const auto* d = reinterpret_cast<const struct dirent64*>(h->dir_buf.data() + h->dir_buf_pos);
    DirEntry e;
    e.ino = d->d_ino;
    e.offset = static_cast<uint64_t>(d->d_off);
    e.type = d->d_type;
    e.name = std::string_view(d->d_name, ::strnlen(d->d_name, NAME_MAX + 1));
    if (!sink(e)) return 0;  // stays pending for the next call at dir_pos
    h->dir_buf_pos += d->d_reclen;
    h->dir_pos = e.offset;
  }
}

int PassthroughFs::releasedir(const Context&, uint64_t, uint64_t fh) {
  return handles_.remove(fh, true) ? 0 : -EBADF;
}

int PassthroughFs::fsyncdir(const Context&, uint64_t, uint64_t fh, bool datasync) {
  auto h = handles_.get(fh, true);
  if (!h) return -EBADF;
  return (datasync ? ::fdatasync(h->fd) : ::fsync(h->fd)) < 0 ? neg_errno() : 0;
}

int PassthroughFs::statfs(const Context&, uint64_t node, struct statvfs* out) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  return ::fstatvfs(in->fd, out) < 0 ? neg_errno() : 0;
}

int PassthroughFs::access(const Context& ctx, uint64_t node, uint32_t mask) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  struct stat st {};
  if (::fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) return neg_errno();
  mask &= R_OK | W_OK | X_OK;
  if (mask == 0) return 0;  // F_OK: it exists
  // Checked against the guest caller's ids, not the VMM's (which is root).
  if (ctx.uid == 0) {
    bool any_x = (st.st_mode & 0111) || S_ISDIR(st.st_mode);
    return (mask & X_OK) && !any_x ? -EACCES : 0;
  }
  uint32_t bits = st.st_uid == ctx.uid   ? (st.st_mode >> 6) & 7
                  : st.st_gid == ctx.gid ? (st.st_mode >> 3) & 7
                                         : st.st_mode & 7;
  return (bits & mask) == mask ? 0 : -EACCES;
}

int PassthroughFs::setxattr(const Context&, uint64_t node, std::string_view name,
                            std::span<const uint8_t> value, uint32_t flags) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if (!xattr_type_ok(in->type)) return -EOPNOTSUPP;
  if (int rc = check_xattr_write(opts_.content, name); rc < 0) return rc;
  std::string n(name);
  XattrFd fd(reopen(*in, O_RDONLY | O_NONBLOCK));
  if (fd.get() < 0) return neg_errno();
  int rc = ::fsetxattr(fd.get(), n.c_str(), value.data(), value.size(),
                       static_cast<int>(flags & (XATTR_CREATE | XATTR_REPLACE)));
  return rc < 0 ? neg_errno() : 0;
}

int PassthroughFs::getxattr(const Context&, uint64_t node, std::string_view name, uint32_t size,
                            std::vector<uint8_t>* value) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if (!xattr_type_ok(in->type)) return -ENODATA;
  std::string n(name);
  value->resize(size);
  XattrFd fd(reopen(*in, O_RDONLY | O_NONBLOCK));
  if (fd.get() < 0) return neg_errno();
  ssize_t r = ::fgetxattr(fd.get(), n.c_str(), size ? value->data() : nullptr, size);
  if (r < 0) return neg_errno();
  value->resize(size ? static_cast<size_t>(r) : 0);
  return static_cast<int>(r);
}

int PassthroughFs::listxattr(const Context&, uint64_t node, uint32_t size,
                             std::vector<uint8_t>* names) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  names->clear();
  if (!xattr_type_ok(in->type)) return 0;
  names->resize(size);
  XattrFd fd(reopen(*in, O_RDONLY | O_NONBLOCK));
  if (fd.get() < 0) return neg_errno();
  ssize_t r = ::flistxattr(fd.get(), size ? reinterpret_cast<char*>(names->data()) : nullptr, size);
  if (r < 0) return neg_errno();
  names->resize(size ? static_cast<size_t>(r) : 0);
  return static_cast<int>(r);
}

int PassthroughFs::removexattr(const Context&, uint64_t node, std::string_view name) {
  auto in = inodes_.get(node);
  if (!in) return -ENOENT;
  if (!xattr_type_ok(in->type)) return -EOPNOTSUPP;
  if (int rc = check_xattr_write(opts_.content, name); rc < 0) return rc;
  std::string n(name);
  XattrFd fd(reopen(*in, O_RDONLY | O_NONBLOCK));
  if (fd.get() < 0) return neg_errno();
  return ::fremovexattr(fd.get(), n.c_str()) < 0 ? neg_errno() : 0;
}

int PassthroughFs::fallocate(const Context&, uint64_t, uint64_t fh, uint32_t mode, uint64_t offset,
                             uint64_t length) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  int rc = ::fallocate(h->fd, static_cast<int>(mode), static_cast<off_t>(offset),
                       static_cast<off_t>(length));
  return rc < 0 ? neg_errno() : 0;
}

int PassthroughFs::lseek(const Context&, uint64_t, uint64_t fh, uint64_t offset, uint32_t whence,
                         uint64_t* out) {
  auto h = handles_.get(fh, false);
  if (!h) return -EBADF;
  if (whence > SEEK_HOLE || offset > static_cast<uint64_t>(INT64_MAX)) return -EINVAL;
  off_t r = ::lseek(h->fd, static_cast<off_t>(offset), static_cast<int>(whence));
  if (r < 0) return neg_errno();
  *out = static_cast<uint64_t>(r);
  return 0;
}

int64_t PassthroughFs::copy_file_range(const Context&, uint64_t, uint64_t fh_in, uint64_t off_in,
                                       uint64_t, uint64_t fh_out, uint64_t off_out, uint64_t len,
                                       uint32_t flags) {
  auto hi = handles_.get(fh_in, false);
  auto ho = handles_.get(fh_out, false);
  if (!hi || !ho) return -EBADF;
  if (flags != 0 || off_in > static_cast<uint64_t>(INT64_MAX) ||
      off_out > static_cast<uint64_t>(INT64_MAX))
    return -EINVAL;
  loff_t oi = static_cast<loff_t>(off_in), oo = static_cast<loff_t>(off_out);
  ssize_t n = ::copy_file_range(hi->fd, &oi, ho->fd, &oo, static_cast<size_t>(len), 0);
  return n < 0 ? neg_errno() : n;
}

}  // namespace runvm::vmm::virtio::fs
