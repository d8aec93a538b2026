// The filesystem operations the FUSE server dispatches to (one method per FUSE
// opcode it serves). Implementations: PassthroughFs (a host directory) and
// ReadOnlyFs (a wrapper refusing every write). Every argument comes from the
// guest: node ids and handles may be forged, names are already checked by the
// server to be single path components, sizes are bounded by the server.
//
// Errors: methods return 0 (or a byte count) on success and -errno on failure.
// Thread-safety: implementations must accept concurrent calls.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace runvm::vmm::virtio::fs {

// Who asked: the caller's ids in the guest (fuse_in_header).
struct Context {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
};

// A looked-up inode: each successful Entry-returning call counts one lookup of
// `node` that the guest later drops with forget().
struct Entry {
  uint64_t node = 0;
  uint64_t generation = 0;
  struct stat attr {};
  uint64_t entry_timeout_ns = 0;
  uint64_t attr_timeout_ns = 0;
};

// SETATTR's request: `valid` holds FATTR_* bits from <linux/fuse.h>.
struct SetAttr {
  uint32_t valid = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  timespec atime{};
  timespec mtime{};
  std::optional<uint64_t> fh;
};

// One directory entry as read from the directory; `offset` is the position of
// the NEXT entry (what the guest passes back to continue).
struct DirEntry {
  uint64_t ino = 0;
  uint64_t offset = 0;
  uint32_t type = 0;  // DT_* value
  std::string_view name;
};

// Called by readdir for each entry; returns false when the reply is full (the
// entry was not taken and readdir must stop).
using DirSink = std::function<bool(const DirEntry&)>;

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // FUSE_INIT / FUSE_DESTROY: start and end of a session (DESTROY drops every
  // inode and handle the guest held).
  virtual void init() {}
  virtual void destroy() {}
  // How long the guest may cache attributes returned by getattr/setattr.
  virtual uint64_t attr_timeout_ns() const { return 1'000'000'000; }

  virtual int lookup(const Context& ctx, uint64_t parent, std::string_view name, Entry* out) = 0;
  virtual void forget(uint64_t node, uint64_t nlookup) = 0;
  // Adds one lookup count to a node the caller already holds (a 9P fid clone);
  // false when the node is unknown.
  virtual bool add_ref(uint64_t node) = 0;
  virtual int getattr(const Context& ctx, uint64_t node, std::optional<uint64_t> fh,
                      struct stat* out) = 0;
  virtual int setattr(const Context& ctx, uint64_t node, const SetAttr& attr, struct stat* out) = 0;
  virtual int readlink(const Context& ctx, uint64_t node, std::string* target) = 0;
  virtual int symlink(const Context& ctx, uint64_t parent, std::string_view name,
                      std::string_view target, Entry* out) = 0;
  virtual int mknod(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                    uint32_t rdev, uint32_t umask, Entry* out) = 0;
  virtual int mkdir(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                    uint32_t umask, Entry* out) = 0;
  virtual int unlink(const Context& ctx, uint64_t parent, std::string_view name) = 0;
  virtual int rmdir(const Context& ctx, uint64_t parent, std::string_view name) = 0;
  // flags: RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT (0 for plain RENAME).
  virtual int rename(const Context& ctx, uint64_t olddir, std::string_view oldname, uint64_t newdir,
                     std::string_view newname, uint32_t flags) = 0;
  virtual int link(const Context& ctx, uint64_t node, uint64_t newparent, std::string_view newname,
                   Entry* out) = 0;

  // flags are the guest's open(2) flags. *fh receives a handle; *open_flags FOPEN_*.
  virtual int open(const Context& ctx, uint64_t node, uint32_t flags, uint64_t* fh,
                   uint32_t* open_flags) = 0;
  virtual int create(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
                     uint32_t flags, uint32_t umask, Entry* out, uint64_t* fh,
                     uint32_t* open_flags) = 0;
  // Reads into dst (total size = the request size); returns bytes read or -errno.
  virtual int64_t read(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
                       std::span<const iovec> dst) = 0;
  // Writes src (total size = the request size); returns bytes written or -errno.
  virtual int64_t write(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
                        std::span<const iovec> src, uint32_t write_flags) = 0;
  virtual int flush(const Context& ctx, uint64_t node, uint64_t fh) = 0;
  virtual int release(const Context& ctx, uint64_t node, uint64_t fh) = 0;
  virtual int fsync(const Context& ctx, uint64_t node, uint64_t fh, bool datasync) = 0;

  virtual int opendir(const Context& ctx, uint64_t node, uint32_t flags, uint64_t* fh) = 0;
  // Feeds entries starting at `offset` to sink until it returns false or the
  // directory ends.
  virtual int readdir(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
                      const DirSink& sink) = 0;
  virtual int releasedir(const Context& ctx, uint64_t node, uint64_t fh) = 0;
  virtual int fsyncdir(const Context& ctx, uint64_t node, uint64_t fh, bool datasync) = 0;

  virtual int statfs(const Context& ctx, uint64_t node, struct statvfs* out) = 0;
  virtual int access(const Context& ctx, uint64_t node, uint32_t mask) = 0;

  virtual int setxattr(const Context& ctx, uint64_t node, std::string_view name,
                       std::span<const uint8_t> value, uint32_t flags) = 0;
  // size == 0: returns the value's size. Otherwise fills *value (at most size
  // bytes) and returns its size, or -ERANGE.
  virtual int getxattr(const Context& ctx, uint64_t node, std::string_view name, uint32_t size,
                       std::vector<uint8_t>* value) = 0;
  // Same size convention as getxattr; *names holds NUL-separated names.
  virtual int listxattr(const Context& ctx, uint64_t node, uint32_t size,
                        std::vector<uint8_t>* names) = 0;
  virtual int removexattr(const Context& ctx, uint64_t node, std::string_view name) = 0;

  virtual int fallocate(const Context& ctx, uint64_t node, uint64_t fh, uint32_t mode,
                        uint64_t offset, uint64_t length) = 0;
  virtual int lseek(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
                    uint32_t whence, uint64_t* out) = 0;
  // Returns bytes copied or -errno.
  virtual int64_t copy_file_range(const Context& ctx, uint64_t node_in, uint64_t fh_in,
                                  uint64_t off_in, uint64_t node_out, uint64_t fh_out,
                                  uint64_t off_out, uint64_t len, uint32_t flags) = 0;
};

}  // namespace runvm::vmm::virtio::fs
