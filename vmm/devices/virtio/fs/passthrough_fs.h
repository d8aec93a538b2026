// A FileSystem over one host directory (the share). Containment rules and the
// threat model are described at the top of passthrough_fs.cpp.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/inode_table.h"
#include "vmm/devices/virtio/fs/share_policy.h"

namespace runvm::vmm::virtio::fs {

struct PassthroughOptions {
  // How long the guest may cache names and attributes. The share may change
  // behind the guest's back (host side), so keep it short by default.
  uint64_t timeout_ns = 1'000'000'000;
  // The guest uses FUSE_WRITEBACK_CACHE (cache_policy.h): files are opened readable
  // for its read-around and without O_APPEND.
  bool writeback = false;
  // Give created files the guest caller's uid/gid (needs CAP_CHOWN; without it
  // files keep the VMM's ids).
  bool chown_to_caller = true;
  size_t max_inodes = 1 << 20;
  size_t max_handles = 1 << 16;
  // Open directories (each may pin a 32 KiB read-ahead buffer: 128 MiB at most).
  size_t max_dir_handles = 1 << 12;
  // What the guest may leave here (share_policy.h); the strict one by default.
  ShareContent content = ShareContent::Volume;
};

class PassthroughFs final : public FileSystem {
 public:
  // Opens `root_dir` (which must be a directory) as the share's root.
  [[nodiscard]] static Result<std::shared_ptr<PassthroughFs>> create(const std::string& root_dir,
                                                                     PassthroughOptions opts = {});
  ~PassthroughFs() override;

  // For tests and monitoring: inodes (root included) and open handles held.
  size_t inode_count() const { return inodes_.size(); }
  size_t handle_count() const { return handles_.size(); }

  void destroy() override;
  uint64_t attr_timeout_ns() const override { return opts_.timeout_ns; }
  int lookup(const Context& ctx, uint64_t parent, std::string_view name, Entry* out) override;
  void forget(uint64_t node, uint64_t nlookup) override;
  bool add_ref(uint64_t node) override { return inodes_.ref(node); }
  int getattr(const Context& ctx, uint64_t node, std::optional<uint64_t> fh,
              struct stat* out) override;
  int setattr(const Context& ctx, uint64_t node, const SetAttr& attr, struct stat* out) override;
  int readlink(const Context& ctx, uint64_t node, std::string* target) override;
  int symlink(const Context& ctx, uint64_t parent, std::string_view name, std::string_view target,
              Entry* out) override;
  int mknod(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
            uint32_t rdev, uint32_t umask, Entry* out) override;
  int mkdir(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
            uint32_t umask, Entry* out) override;
  int unlink(const Context& ctx, uint64_t parent, std::string_view name) override;
  int rmdir(const Context& ctx, uint64_t parent, std::string_view name) override;
  int rename(const Context& ctx, uint64_t olddir, std::string_view oldname, uint64_t newdir,
             std::string_view newname, uint32_t flags) override;
  int link(const Context& ctx, uint64_t node, uint64_t newparent, std::string_view newname,
           Entry* out) override;
  int open(const Context& ctx, uint64_t node, uint32_t flags, uint64_t* fh,
           uint32_t* open_flags) override;
  int create(const Context& ctx, uint64_t parent, std::string_view name, uint32_t mode,
             uint32_t flags, uint32_t umask, Entry* out, uint64_t* fh,
             uint32_t* open_flags) override;
  int64_t read(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
               std::span<const iovec> dst) override;
  int64_t write(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
                std::span<const iovec> src, uint32_t write_flags) override;
  int flush(const Context& ctx, uint64_t node, uint64_t fh) override;
  int release(const Context& ctx, uint64_t node, uint64_t fh) override;
  int fsync(const Context& ctx, uint64_t node, uint64_t fh, bool datasync) override;
  int opendir(const Context& ctx, uint64_t node, uint32_t flags, uint64_t* fh) override;
  int readdir(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset,
              const DirSink& sink) override;
  int releasedir(const Context& ctx, uint64_t node, uint64_t fh) override;
  int fsyncdir(const Context& ctx, uint64_t node, uint64_t fh, bool datasync) override;
  int statfs(const Context& ctx, uint64_t node, struct statvfs* out) override;
  int access(const Context& ctx, uint64_t node, uint32_t mask) override;
  int setxattr(const Context& ctx, uint64_t node, std::string_view name,
               std::span<const uint8_t> value, uint32_t flags) override;
  int getxattr(const Context& ctx, uint64_t node, std::string_view name, uint32_t size,
               std::vector<uint8_t>* value) override;
  int listxattr(const Context& ctx, uint64_t node, uint32_t size,
                std::vector<uint8_t>* names) override;
  int removexattr(const Context& ctx, uint64_t node, std::string_view name) override;
  int fallocate(const Context& ctx, uint64_t node, uint64_t fh, uint32_t mode, uint64_t offset,
                uint64_t length) override;
  int lseek(const Context& ctx, uint64_t node, uint64_t fh, uint64_t offset, uint32_t whence,
            uint64_t* out) override;
  int64_t copy_file_range(const Context& ctx, uint64_t node_in, uint64_t fh_in, uint64_t off_in,
                          uint64_t node_out, uint64_t fh_out, uint64_t off_out, uint64_t len,
                          uint32_t flags) override;

 private:
  PassthroughFs(int proc_fd, PassthroughOptions opts);
  int make_entry(int fd, Entry* out);
  int finish_create(const Context& ctx, const Inode& parent, int fd, mode_t want_type,
                    uint32_t mode, Entry* out);
  int reopen(const Inode& inode, int flags) const;

  const int proc_fd_;  // /proc/self/fd, for re-opening O_PATH fds
  const PassthroughOptions opts_;
  InodeTable inodes_;
  HandleTable handles_;
};

}  // namespace runvm::vmm::virtio::fs
