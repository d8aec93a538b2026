#include "vmm/devices/virtio/fs/fuse_server.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/limits.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace runvm::vmm::virtio::fs {

namespace {

constexpr size_t kHdr = sizeof(fuse_out_header);
constexpr uint32_t kXattrSizeMax = 65536;  // XATTR_SIZE_MAX
constexpr uint32_t kXattrNameMax = 255;    // XATTR_NAME_MAX
constexpr uint32_t kMaxDirReply = 1u << 20;

// INIT flags this server implements. Everything else the guest offers is declined.
constexpr uint32_t kSupportedInitFlags = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
                                         FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                                         FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
                                         FUSE_AUTO_INVAL_DATA | FUSE_ASYNC_DIO;

// A cursor over a request body already copied out of guest memory.
class Body {
 public:
  explicit Body(std::span<const uint8_t> d) : d_(d) {}
  size_t remaining() const { return d_.size() - pos_; }

  template <typename T>
  [[nodiscard]] bool obj(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, d_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  // Reads `n` bytes of a prefix of T (older protocol layouts), zeroing the rest.
  template <typename T>
  [[nodiscard]] bool obj_prefix(T* out, size_t n) {
    *out = T{};
    if (n > sizeof(T) || remaining() < n) return false;
    if (n > 0) std::memcpy(out, d_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // A NUL-terminated string wholly inside the body, at most max_len bytes long.
  [[nodiscard]] bool cstr(std::string_view* out, size_t max_len) {
    if (remaining() == 0) return false;
    const auto* start = reinterpret_cast<const char*>(d_.data() + pos_);
    const void* nul = std::memchr(start, '\0', remaining());
    if (nul == nullptr) return false;
    size_t len = static_cast<const char*>(nul) - start;
    if (len > max_len) return false;
    *out = std::string_view(start, len);
    pos_ += len + 1;
    return true;
  }
  [[nodiscard]] bool bytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = d_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

enum class NameKind { Lookup, NewOrExisting };

// A single path component: non-empty, no '/', NAME_MAX at most; "." and ".."
// only for lookups (the filesystem resolves them, clamped to the root).
bool valid_name(std::string_view n, NameKind kind) {
  if (n.empty() || n.size() > NAME_MAX) return false;
  if (n.find('/') != std::string_view::npos) return false;
  if (kind != NameKind::Lookup && (n == "." || n == "..")) return false;
  return true;
}

// Takes a NUL-terminated name off the body; 0 or the errno to answer with.
int take_name(Body& b, NameKind kind, std::string_view* out) {
  if (!b.cstr(out, SIZE_MAX)) return EINVAL;  // no NUL inside the message
  if (out->size() > NAME_MAX) return ENAMETOOLONG;
  return valid_name(*out, kind) ? 0 : EINVAL;
}

uint32_t encode_dev(dev_t d) {
  uint32_t ma = major(d), mi = minor(d);
  return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffu) << 12);
}

void to_fuse_attr(const struct stat& st, fuse_attr* a) {
  *a = fuse_attr{};
  a->ino = st.st_ino;
  a->size = st.st_size;
  a->blocks = st.st_blocks;
  a->atime = st.st_atim.tv_sec;
  a->mtime = st.st_mtim.tv_sec;
  a->ctime = st.st_ctim.tv_sec;
  a->atimensec = st.st_atim.tv_nsec;
  a->mtimensec = st.st_mtim.tv_nsec;
  a->ctimensec = st.st_ctim.tv_nsec;
  a->mode = st.st_mode;
  a->nlink = st.st_nlink;
  a->uid = st.st_uid;
  a->gid = st.st_gid;
  a->rdev = encode_dev(st.st_rdev);
  a->blksize = st.st_blksize;
}

void to_entry_out(const Entry& e, fuse_entry_out* o) {
  *o = fuse_entry_out{};
  o->nodeid = e.node;
  o->generation = e.generation;
  o->entry_valid = e.entry_timeout_ns / 1'000'000'000;
  o->entry_valid_nsec = e.entry_timeout_ns % 1'000'000'000;
  o->attr_valid = e.attr_timeout_ns / 1'000'000'000;
  o->attr_valid_nsec = e.attr_timeout_ns % 1'000'000'000;
  to_fuse_attr(e.attr, &o->attr);
}

// Errors are sent as -errno in (-4096, 0); anything else a filesystem returns
// is reported as EIO.
int32_t wire_error(int64_t err) {
  if (err >= 0) return 0;
  if (err <= -4096) return -EIO;
  return static_cast<int32_t>(err);
}

// Smallest reply (header included) an opcode needs; checked before running the
// operation so a side effect (a lookup count, a created file) is never lost
// for want of reply room.
size_t min_reply(uint32_t opcode) {
  switch (opcode) {
    case FUSE_LOOKUP:
    case FUSE_SYMLINK:
    case FUSE_MKNOD:
    case FUSE_MKDIR:
    case FUSE_LINK:
      return kHdr + sizeof(fuse_entry_out);
    case FUSE_CREATE:
      return kHdr + sizeof(fuse_entry_out) + sizeof(fuse_open_out);
    case FUSE_GETATTR:
    case FUSE_SETATTR:
      return kHdr + sizeof(fuse_attr_out);
    case FUSE_OPEN:
    case FUSE_OPENDIR:
      return kHdr + sizeof(fuse_open_out);
    case FUSE_WRITE:
    case FUSE_COPY_FILE_RANGE:
      return kHdr + sizeof(fuse_write_out);
    default:
      return kHdr;
  }
}

}  // namespace

struct FuseServer::Request {
  fuse_in_header in{};
  Context ctx;
  ChainReader* reader = nullptr;
  ChainWriter* out = nullptr;
  size_t start = 0;  // writer position of the reply header
  std::vector<uint8_t> body_buf;
  Body body{{}};

  size_t reply(int64_t err, std::span<const std::span<const uint8_t>> parts = {}) {
    fuse_out_header h{};
    h.unique = in.unique;
    h.error = wire_error(err);
    size_t len = kHdr;
    if (h.error == 0)
      for (auto p : parts) len += p.size();
    if (out->remaining() < len) {
      // No room for the body: report that instead, if a bare header fits.
      if (h.error == 0 && out->remaining() >= kHdr) return reply(-EINVAL);
      return 0;
    }
    h.len = static_cast<uint32_t>(len);
    if (!out->write_obj(h)) return 0;
    if (h.error == 0)
      for (auto p : parts)
        if (!out->write(p.data(), p.size())) return 0;  // unreachable: room checked above
    return len;
  }
  size_t reply_err(int err) { return reply(-std::abs(err)); }
  size_t reply_ok() { return reply(0); }
  template <typename T>
  size_t reply_obj(const T& v) {
    std::span<const uint8_t> p(reinterpret_cast<const uint8_t*>(&v), sizeof(T));
    return reply(0, std::span(&p, 1));
  }
  size_t reply_bytes(std::span<const uint8_t> b) { return reply(0, std::span(&b, 1)); }
  size_t reply_entry(int rc, const Entry& e) {
    if (rc < 0) return reply(rc);
    fuse_entry_out o;
    to_entry_out(e, &o);
    return reply_obj(o);
  }
  size_t reply_attr(int rc, const struct stat& st, uint64_t timeout_ns) {
    if (rc < 0) return reply(rc);
    fuse_attr_out o{};
    o.attr_valid = timeout_ns / 1'000'000'000;
    o.attr_valid_nsec = timeout_ns % 1'000'000'000;
    to_fuse_attr(st, &o.attr);
    return reply_obj(o);
  }
  // GETXATTR/LISTXATTR: a request for 0 bytes asks for the length only; otherwise
  // the value itself, which must fit in `cap`.
  size_t reply_xattr(int rc, uint32_t asked, uint32_t cap, const std::vector<uint8_t>& v) {
    if (rc < 0) return reply(rc);
    if (asked == 0) {
      fuse_getxattr_out o{};
      o.size = static_cast<uint32_t>(rc);
      return reply_obj(o);
    }
    if (v.size() > cap) return reply_err(ERANGE);
    return reply_bytes(v);
  }
};

FuseServer::FuseServer(std::shared_ptr<FileSystem> fs, FuseServerOptions opts)
    : fs_(std::move(fs)), opts_(opts) {
  opts_.max_write = std::clamp<uint32_t>(opts_.max_write, 4096, 16u << 20);
}

size_t FuseServer::handle(ChainReader& in, ChainWriter& out) {
  timespec t0{}, t1{};
  ::clock_gettime(CLOCK_MONOTONIC, &t0);
  uint32_t op = UINT32_MAX;
  size_t n = serve(in, out, &op);
  ::clock_gettime(CLOCK_MONOTONIC, &t1);
  if (op != UINT32_MAX)
    stats_.record(op, static_cast<uint64_t>((t1.tv_sec - t0.tv_sec) * 1'000'000'000LL +
                                            (t1.tv_nsec - t0.tv_nsec)));
  return n;
}

size_t FuseServer::serve(ChainReader& in, ChainWriter& out, uint32_t* op_out) {
  Request r;
  r.reader = &in;
  r.out = &out;
  r.start = out.written();
  if (!in.read_obj(&r.in)) return 0;  // no header: nothing to answer to
  if (r.in.len < sizeof(fuse_in_header) || r.in.len - sizeof(fuse_in_header) > in.remaining())
    return r.reply_err(EINVAL);
  in.limit(r.in.len - sizeof(fuse_in_header));
  r.ctx = Context{r.in.uid, r.in.gid, r.in.pid};

  const uint32_t op = r.in.opcode;
  *op_out = op;
  if (op == FUSE_FORGET || op == FUSE_BATCH_FORGET) {
    // No reply for these (the guest sends them on the hiprio queue).
  } else if (out.remaining() < min_reply(op)) {
    return out.remaining() >= kHdr ? r.reply_err(EINVAL) : 0;
  }
  if (op != FUSE_INIT && !initialized_.load()) return r.reply_err(EIO);

  if (op == FUSE_WRITE) return do_write(r);
  // Every other body is small: copy it once, then parse the copy (the guest
  // cannot change it under us).
  if (in.remaining() > kMaxBody) return r.reply_err(E2BIG);
  r.body_buf.resize(in.remaining());
  if (!in.read(r.body_buf.data(), r.body_buf.size())) return r.reply_err(EINVAL);
  r.body = Body(r.body_buf);
  return dispatch(r);
}

size_t FuseServer::dispatch(Request& r) {
  // clang-format off
  switch (r.in.opcode) {
    case FUSE_LOOKUP: return do_lookup(r);
    case FUSE_FORGET: return do_forget(r);
    case FUSE_GETATTR: return do_getattr(r);
    case FUSE_SETATTR: return do_setattr(r);
    case FUSE_READLINK: return do_readlink(r);
    case FUSE_SYMLINK: return do_symlink(r);
    case FUSE_MKNOD: return do_mknod(r);
    case FUSE_MKDIR: return do_mkdir(r);
    case FUSE_UNLINK: return do_unlink(r);
    case FUSE_RMDIR: return do_rmdir(r);
    case FUSE_RENAME: return do_rename(r);
    case FUSE_LINK: return do_link(r);
    case FUSE_OPEN: return do_open(r);
    case FUSE_READ: return do_read(r);
    // FUSE_WRITE never gets here: handle() passes its data on uncopied (do_write).
    case FUSE_STATFS: return do_statfs(r);
    case FUSE_RELEASE: return do_release(r);
    case FUSE_FSYNC: return do_fsync(r);
    case FUSE_SETXATTR: return do_setxattr(r);
    case FUSE_GETXATTR: return do_getxattr(r);
    case FUSE_LISTXATTR: return do_listxattr(r);
    case FUSE_REMOVEXATTR: return do_removexattr(r);
    case FUSE_FLUSH: return do_flush(r);
    case FUSE_INIT: return do_init(r);
    case FUSE_OPENDIR: return do_opendir(r);
    case FUSE_READDIR: return do_readdir(r, false);
    case FUSE_RELEASEDIR: return do_releasedir(r);
    case FUSE_FSYNCDIR: return do_fsyncdir(r);
    case FUSE_ACCESS: return do_access(r);
    case FUSE_CREATE: return do_create(r);
    case FUSE_DESTROY: return do_destroy(r);
    case FUSE_BATCH_FORGET: return do_batch_forget(r);
    case FUSE_FALLOCATE: return do_fallocate(r);
    case FUSE_READDIRPLUS: return do_readdir(r, true);
    case FUSE_RENAME2: return do_rename2(r);
    case FUSE_LSEEK: return do_lseek(r);
    case FUSE_COPY_FILE_RANGE: return do_copy_file_range(r);
    default: return r.reply_err(ENOSYS);
  }
  // clang-format on
}

size_t FuseServer::do_lookup(Request& r) {
  std::string_view name;
  if (int e = take_name(r.body, NameKind::Lookup, &name)) return r.reply_err(e);
  Entry e;
  int rc = fs_->lookup(r.ctx, r.in.nodeid, name, &e);
  if (rc == -ENOENT && opts_.cache.timeout_ns() > 0) {
    // A negative entry (node id 0): the guest remembers the miss as long as it trusts
    // names, so a compiler's include-path probes or a shell's PATH walk cost one request.
    fuse_entry_out o{};
    o.entry_valid = opts_.cache.timeout_ns() / 1'000'000'000;
    o.entry_valid_nsec = opts_.cache.timeout_ns() % 1'000'000'000;
    return r.reply_obj(o);
  }
  return r.reply_entry(rc, e);
}

size_t FuseServer::do_forget(Request& r) {
  fuse_forget_in f{};
  if (r.body.obj(&f)) fs_->forget(r.in.nodeid, f.nlookup);
  return 0;
}

size_t FuseServer::do_getattr(Request& r) {
  fuse_getattr_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::optional<uint64_t> fh;
  if (in.getattr_flags & FUSE_GETATTR_FH) fh = in.fh;
  struct stat st {};
  int rc = fs_->getattr(r.ctx, r.in.nodeid, fh, &st);
  return r.reply_attr(rc, st, fs_->attr_timeout_ns());
}

size_t FuseServer::do_setattr(Request& r) {
  fuse_setattr_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  SetAttr a;
  a.valid = in.valid;
  a.mode = in.mode;
  a.uid = in.uid;
  a.gid = in.gid;
  a.size = in.size;
  if (in.atimensec >= 1'000'000'000 || in.mtimensec >= 1'000'000'000) return r.reply_err(EINVAL);
  a.atime = {static_cast<time_t>(in.atime), static_cast<long>(in.atimensec)};
  a.mtime = {static_cast<time_t>(in.mtime), static_cast<long>(in.mtimensec)};
  if (in.valid & FATTR_ATIME_NOW) a.atime.tv_nsec = UTIME_NOW;
  if (in.valid & FATTR_MTIME_NOW) a.mtime.tv_nsec = UTIME_NOW;
  if (in.valid & FATTR_FH) a.fh = in.fh;
  struct stat st {};
  int rc = fs_->setattr(r.ctx, r.in.nodeid, a, &st);
  return r.reply_attr(rc, st, fs_->attr_timeout_ns());
}

size_t FuseServer::do_readlink(Request& r) {
  std::string target;
  int rc = fs_->readlink(r.ctx, r.in.nodeid, &target);
  if (rc < 0) return r.reply(rc);
  return r.reply_bytes({reinterpret_cast<const uint8_t*>(target.data()), target.size()});
}

size_t FuseServer::do_symlink(Request& r) {
  std::string_view name, target;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  if (!r.body.cstr(&target, SIZE_MAX) || target.empty()) return r.reply_err(EINVAL);
  if (target.size() >= PATH_MAX) return r.reply_err(ENAMETOOLONG);
  Entry e;
  return r.reply_entry(fs_->symlink(r.ctx, r.in.nodeid, name, target, &e), e);
}

size_t FuseServer::do_mknod(Request& r) {
  fuse_mknod_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  Entry e;
  return r.reply_entry(fs_->mknod(r.ctx, r.in.nodeid, name, in.mode, in.rdev, in.umask, &e), e);
}

size_t FuseServer::do_mkdir(Request& r) {
  fuse_mkdir_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  Entry e;
  return r.reply_entry(fs_->mkdir(r.ctx, r.in.nodeid, name, in.mode, in.umask, &e), e);
}

size_t FuseServer::do_unlink(Request& r) {
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  return r.reply(fs_->unlink(r.ctx, r.in.nodeid, name));
}

size_t FuseServer::do_rmdir(Request& r) {
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  return r.reply(fs_->rmdir(r.ctx, r.in.nodeid, name));
}

size_t FuseServer::do_rename(Request& r) {
  fuse_rename_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name, newname;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  if (int e = take_name(r.body, NameKind::NewOrExisting, &newname)) return r.reply_err(e);
  return r.reply(fs_->rename(r.ctx, r.in.nodeid, name, in.newdir, newname, 0));
}

size_t FuseServer::do_link(Request& r) {
  fuse_link_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  Entry e;
  return r.reply_entry(fs_->link(r.ctx, in.oldnodeid, r.in.nodeid, name, &e), e);
}

size_t FuseServer::do_open(Request& r) {
  fuse_open_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  fuse_open_out o{};
  int rc = fs_->open(r.ctx, r.in.nodeid, in.flags, &o.fh, &o.open_flags);
  if (rc < 0) return r.reply(rc);
  o.open_flags |= opts_.cache.open_flags();
  return r.reply_obj(o);
}

size_t FuseServer::do_read(Request& r) {
  fuse_read_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  if (in.offset > static_cast<uint64_t>(INT64_MAX) ||
      in.size > static_cast<uint64_t>(INT64_MAX) - in.offset)
    return r.reply_err(EINVAL);
  size_t size = std::min<size_t>({in.size, opts_.max_write, r.out->remaining() - kHdr});
  // Header first (patched below), then the data lands directly in the reply buffers.
  fuse_out_header h{};
  h.unique = r.in.unique;
  if (!r.out->write_obj(h)) return 0;
  std::vector<iovec> dst = r.out->iovecs(size);
  int64_t n = fs_->read(r.ctx, r.in.nodeid, in.fh, in.offset, dst);
  if (n > 0) r.out->advance(std::min<size_t>(static_cast<size_t>(n), size));
  h.error = wire_error(n);
  h.len = static_cast<uint32_t>(h.error == 0 ? r.out->written() - r.start : kHdr);
  if (!r.out->write_at(r.start, &h, sizeof(h))) return 0;
  return h.len;
}

size_t FuseServer::do_write(Request& r) {
  fuse_write_in in{};
  if (!r.reader->read_obj(&in)) return r.reply_err(EINVAL);
  if (in.size > r.reader->remaining() || in.size > opts_.max_write) return r.reply_err(EINVAL);
  if (in.offset > static_cast<uint64_t>(INT64_MAX) ||
      in.size > static_cast<uint64_t>(INT64_MAX) - in.offset)
    return r.reply_err(EINVAL);
  // The data is passed to the filesystem as guest buffers, uncopied.
  std::vector<iovec> src = r.reader->iovecs(in.size);
  int64_t n = fs_->write(r.ctx, r.in.nodeid, in.fh, in.offset, src, in.write_flags);
  if (n < 0) return r.reply(n);
  fuse_write_out o{};
  o.size = static_cast<uint32_t>(std::min<int64_t>(n, in.size));
  return r.reply_obj(o);
}

size_t FuseServer::do_statfs(Request& r) {
  struct statvfs sv {};
  int rc = fs_->statfs(r.ctx, r.in.nodeid, &sv);
  if (rc < 0) return r.reply(rc);
  fuse_statfs_out o{};
  o.st.blocks = sv.f_blocks;
  o.st.bfree = sv.f_bfree;
  o.st.bavail = sv.f_bavail;
  o.st.files = sv.f_files;
  o.st.ffree = sv.f_ffree;
  o.st.bsize = static_cast<uint32_t>(sv.f_bsize);
  o.st.namelen = static_cast<uint32_t>(sv.f_namemax);
  o.st.frsize = static_cast<uint32_t>(sv.f_frsize);
  return r.reply_obj(o);
}

size_t FuseServer::do_release(Request& r) {
  fuse_release_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  return r.reply(fs_->release(r.ctx, r.in.nodeid, in.fh));
}

size_t FuseServer::do_fsync(Request& r) {
  fuse_fsync_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  bool datasync = in.fsync_flags & FUSE_FSYNC_FDATASYNC;
  return r.reply(fs_->fsync(r.ctx, r.in.nodeid, in.fh, datasync));
}

size_t FuseServer::do_setxattr(Request& r) {
  // FUSE_SETXATTR_EXT is not negotiated: the short (8-byte) header is used.
  fuse_setxattr_in in{};
  if (!r.body.obj_prefix(&in, FUSE_COMPAT_SETXATTR_IN_SIZE)) return r.reply_err(EINVAL);
  std::string_view name;
  if (!r.body.cstr(&name, kXattrNameMax) || name.empty()) return r.reply_err(EINVAL);
  if (in.size > kXattrSizeMax) return r.reply_err(E2BIG);
  std::span<const uint8_t> value;
  if (!r.body.bytes(in.size, &value)) return r.reply_err(EINVAL);
  return r.reply(fs_->setxattr(r.ctx, r.in.nodeid, name, value, in.flags));
}

size_t FuseServer::do_getxattr(Request& r) {
  fuse_getxattr_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name;
  if (!r.body.cstr(&name, kXattrNameMax) || name.empty()) return r.reply_err(EINVAL);
  uint32_t size = std::min(in.size, kXattrSizeMax);
  if (size > r.out->remaining() - kHdr) return r.reply_err(EINVAL);
  std::vector<uint8_t> v;
  int rc = fs_->getxattr(r.ctx, r.in.nodeid, name, size, &v);
  return r.reply_xattr(rc, in.size, size, v);
}

size_t FuseServer::do_listxattr(Request& r) {
  fuse_getxattr_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  uint32_t size = std::min(in.size, kXattrSizeMax);
  if (size > r.out->remaining() - kHdr) return r.reply_err(EINVAL);
  std::vector<uint8_t> v;
  int rc = fs_->listxattr(r.ctx, r.in.nodeid, size, &v);
  return r.reply_xattr(rc, in.size, size, v);
}

size_t FuseServer::do_removexattr(Request& r) {
  std::string_view name;
  if (!r.body.cstr(&name, kXattrNameMax) || name.empty()) return r.reply_err(EINVAL);
  return r.reply(fs_->removexattr(r.ctx, r.in.nodeid, name));
}

size_t FuseServer::do_flush(Request& r) {
  fuse_flush_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  // ENOSYS makes the guest stop sending FLUSH: one request less per close(2) (cache_policy.h).
  if (!opts_.cache.flush_on_close()) return r.reply_err(ENOSYS);
  return r.reply(fs_->flush(r.ctx, r.in.nodeid, in.fh));
}

size_t FuseServer::do_init(Request& r) {
  fuse_init_in in{};
  // 7.36 grew fuse_init_in (flags2); older guests send the first 16 bytes.
  if (!r.body.obj_prefix(&in, std::min(r.body.remaining(), sizeof(in))) || r.body_buf.size() < 16)
    return r.reply_err(EINVAL);
  fuse_init_out o{};
  o.major = FUSE_KERNEL_VERSION;
  o.minor = kMaxMinor;
  if (in.major > FUSE_KERNEL_VERSION) {
    // The guest speaks a newer major: answer with ours; it retries INIT with it.
    return r.reply_bytes({reinterpret_cast<const uint8_t*>(&o), FUSE_COMPAT_INIT_OUT_SIZE});
  }
  if (in.major < FUSE_KERNEL_VERSION || in.minor < kMinMinor) return r.reply_err(EPROTO);
  o.minor = std::min(in.minor, kMaxMinor);
  o.max_readahead = std::min(in.max_readahead, opts_.max_readahead);
  o.flags = in.flags & kSupportedInitFlags;
  if (opts_.cache.writeback) o.flags |= in.flags & FUSE_WRITEBACK_CACHE;
  o.max_background = 64;
  o.congestion_threshold = 48;
  o.max_write = opts_.max_write;
  o.time_gran = 1;
  if (o.flags & FUSE_MAX_PAGES) o.max_pages = static_cast<uint16_t>(opts_.max_write / 4096);
  fs_->init();
  minor_.store(o.minor);
  initialized_.store(true);
  size_t size = o.minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof(o);
  return r.reply_bytes({reinterpret_cast<const uint8_t*>(&o), size});
}

size_t FuseServer::do_opendir(Request& r) {
  fuse_open_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  fuse_open_out o{};
  int rc = fs_->opendir(r.ctx, r.in.nodeid, in.flags, &o.fh);
  if (rc < 0) return r.reply(rc);
  o.open_flags = opts_.cache.opendir_flags();
  return r.reply_obj(o);
}

size_t FuseServer::do_readdir(Request& r, bool plus) {
  fuse_read_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  const size_t cap = std::min<size_t>({in.size, kMaxDirReply, r.out->remaining() - kHdr});
  std::vector<uint8_t> buf;
  const uint64_t dir = r.in.nodeid;
  DirSink sink = [&](const DirEntry& d) {
    if (d.name.empty() || d.name.size() > NAME_MAX) return true;  // skip oddities
    const size_t base = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
    const size_t rec = FUSE_DIRENT_ALIGN(base + d.name.size());
    if (buf.size() + rec > cap) return false;
    Entry e{};
    if (plus && d.name != "." && d.name != "..") {
      // Each entry with a node id counts as a lookup; "." and ".." never get one
      // (the guest does not count them, so they would never be forgotten).
      if (fs_->lookup(r.ctx, dir, d.name, &e) < 0) e = Entry{};
    }
    size_t at = buf.size();
    buf.resize(at + rec, 0);
    fuse_dirent de{};
    de.ino = d.ino;
    de.off = d.offset;
    de.namelen = static_cast<uint32_t>(d.name.size());
    de.type = d.type;
    if (plus) {
      fuse_entry_out eo{};
      if (e.node != 0) to_entry_out(e, &eo);
      std::memcpy(buf.data() + at, &eo, sizeof(eo));
      at += sizeof(eo);
    }
    std::memcpy(buf.data() + at, &de, FUSE_NAME_OFFSET);
    std::memcpy(buf.data() + at + FUSE_NAME_OFFSET, d.name.data(), d.name.size());
    return true;
  };
  int rc = fs_->readdir(r.ctx, dir, in.fh, in.offset, sink);
  // Entries already packed (and looked up) are delivered even if reading on failed.
  if (rc < 0 && buf.empty()) return r.reply(rc);
  return r.reply_bytes(buf);
}

size_t FuseServer::do_releasedir(Request& r) {
  fuse_release_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  return r.reply(fs_->releasedir(r.ctx, r.in.nodeid, in.fh));
}

size_t FuseServer::do_fsyncdir(Request& r) {
  fuse_fsync_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  bool datasync = in.fsync_flags & FUSE_FSYNC_FDATASYNC;
  return r.reply(fs_->fsyncdir(r.ctx, r.in.nodeid, in.fh, datasync));
}

size_t FuseServer::do_access(Request& r) {
  fuse_access_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  return r.reply(fs_->access(r.ctx, r.in.nodeid, in.mask));
}

size_t FuseServer::do_create(Request& r) {
  fuse_create_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  std::string_view name;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  Entry e;
  fuse_open_out o{};
  int rc =
      fs_->create(r.ctx, r.in.nodeid, name, in.mode, in.flags, in.umask, &e, &o.fh, &o.open_flags);
  if (rc < 0) return r.reply(rc);
  o.open_flags |= opts_.cache.open_flags();
  fuse_entry_out eo;
  to_entry_out(e, &eo);
  std::span<const uint8_t> parts[2] = {{reinterpret_cast<const uint8_t*>(&eo), sizeof(eo)},
                                       {reinterpret_cast<const uint8_t*>(&o), sizeof(o)}};
  return r.reply(0, parts);
}

size_t FuseServer::do_destroy(Request& r) {
  fs_->destroy();
  initialized_.store(false);
  return r.reply_ok();
}

size_t FuseServer::do_batch_forget(Request& r) {
  fuse_batch_forget_in b{};
  if (!r.body.obj(&b)) return 0;
  // All or nothing: a count that claims more entries than are present is dropped.
  if (b.count > r.body.remaining() / sizeof(fuse_forget_one)) return 0;
  for (uint32_t i = 0; i < b.count; ++i) {
    fuse_forget_one f{};
    if (!r.body.obj(&f)) return 0;
    fs_->forget(f.nodeid, f.nlookup);
  }
  return 0;
}

size_t FuseServer::do_fallocate(Request& r) {
  fuse_fallocate_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  if (in.offset > static_cast<uint64_t>(INT64_MAX) ||
      in.length > static_cast<uint64_t>(INT64_MAX) - in.offset)
    return r.reply_err(EINVAL);
  return r.reply(fs_->fallocate(r.ctx, r.in.nodeid, in.fh, in.mode, in.offset, in.length));
}

size_t FuseServer::do_rename2(Request& r) {
  fuse_rename2_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  constexpr uint32_t kKnown = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;
  if (in.flags & ~kKnown) return r.reply_err(EINVAL);
  std::string_view name, newname;
  if (int e = take_name(r.body, NameKind::NewOrExisting, &name)) return r.reply_err(e);
  if (int e = take_name(r.body, NameKind::NewOrExisting, &newname)) return r.reply_err(e);
  return r.reply(fs_->rename(r.ctx, r.in.nodeid, name, in.newdir, newname, in.flags));
}

size_t FuseServer::do_lseek(Request& r) {
  fuse_lseek_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  fuse_lseek_out o{};
  int rc = fs_->lseek(r.ctx, r.in.nodeid, in.fh, in.offset, in.whence, &o.offset);
  if (rc < 0) return r.reply(rc);
  return r.reply_obj(o);
}

size_t FuseServer::do_copy_file_range(Request& r) {
  fuse_copy_file_range_in in{};
  if (!r.body.obj(&in)) return r.reply_err(EINVAL);
  if (in.flags != 0) return r.reply_err(EINVAL);
  // The reply counts bytes in 32 bits: never copy more per request.
  uint64_t len = std::min<uint64_t>(in.len, 1u << 30);
  int64_t n = fs_->copy_file_range(r.ctx, r.in.nodeid, in.fh_in, in.off_in, in.nodeid_out,
                                   in.fh_out, in.off_out, len, 0);
  if (n < 0) return r.reply(n);
  fuse_write_out o{};
  o.size = static_cast<uint32_t>(std::min<int64_t>(n, static_cast<int64_t>(len)));
  return r.reply_obj(o);
}

}  // namespace runvm::vmm::virtio::fs
