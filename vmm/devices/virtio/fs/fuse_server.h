// Decodes FUSE requests (as the guest's virtio-fs driver sends them), checks
// them, dispatches them to a FileSystem and encodes the reply.
//
// Everything in a request is hostile: the header's len is checked against the
// bytes actually present, every opcode has a minimum body size, names must be
// NUL-terminated inside the body and be a single path component (no '/', not
// empty, at most NAME_MAX bytes, "." and ".." only where a lookup allows them),
// sizes are capped. A malformed request gets an error reply (or none at all
// when not even a header fits); it never crashes the VMM.
//
// Thread-safety: handle() may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "vmm/devices/virtio/chain_buffers.h"
#include "vmm/devices/virtio/fs/cache_policy.h"
#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/request_stats.h"

namespace runvm::vmm::virtio::fs {

struct FuseServerOptions {
  uint32_t max_write = 1u << 20;      // bytes per WRITE (and READ) request
  uint32_t max_readahead = 1u << 20;  // upper bound for the guest's readahead
  // What the guest may cache (the open flags and FUSE_WRITEBACK_CACHE; the entry and
  // attribute timeouts come from the FileSystem, which open_share sets from the same policy).
  CachePolicy cache = {};
};

class FuseServer {
 public:
  // Highest protocol minor spoken, and the lowest accepted (older layouts of
  // the reply structs are not produced).
  static constexpr uint32_t kMaxMinor = 31;
  static constexpr uint32_t kMinMinor = 13;
  // Largest request body copied out of guest memory (WRITE data is not copied).
  static constexpr size_t kMaxBody = 160 * 1024;

  explicit FuseServer(std::shared_ptr<FileSystem> fs, FuseServerOptions opts = {});

  // Serves one request read from `in`, writing the reply into `out`. Returns the
  // number of reply bytes written; 0 means no reply (FORGET, or a request too
  // short to carry a header, or no room for a reply header).
  size_t handle(ChainReader& in, ChainWriter& out);

  bool initialized() const { return initialized_.load(); }
  // Requests served so far, by opcode, with the time spent on them.
  const RequestStats& stats() const { return stats_; }
  uint32_t negotiated_minor() const { return minor_.load(); }

 private:
  struct Request;
  size_t serve(ChainReader& in, ChainWriter& out, uint32_t* op);  // handle() minus the stats
  size_t dispatch(Request& r);
  // One method per FUSE opcode, in opcode order; each decodes and checks its own
  // body and writes the reply.
  size_t do_lookup(Request& r);
  size_t do_forget(Request& r);  // never replies
  size_t do_getattr(Request& r);
  size_t do_setattr(Request& r);
  size_t do_readlink(Request& r);
  size_t do_symlink(Request& r);
  size_t do_mknod(Request& r);
  size_t do_mkdir(Request& r);
  size_t do_unlink(Request& r);
  size_t do_rmdir(Request& r);
  size_t do_rename(Request& r);
  size_t do_link(Request& r);
  size_t do_open(Request& r);
  size_t do_read(Request& r);   // the data lands directly in the reply buffers
  size_t do_write(Request& r);  // called from handle(): the data is passed on uncopied
  size_t do_statfs(Request& r);
  size_t do_release(Request& r);
  size_t do_fsync(Request& r);
  size_t do_setxattr(Request& r);
  size_t do_getxattr(Request& r);
  size_t do_listxattr(Request& r);
  size_t do_removexattr(Request& r);
  size_t do_flush(Request& r);
  size_t do_init(Request& r);  // negotiates the protocol; until then every other op gets EIO
  size_t do_opendir(Request& r);
  size_t do_readdir(Request& r, bool plus);  // READDIR and READDIRPLUS
  size_t do_releasedir(Request& r);
  size_t do_fsyncdir(Request& r);
  size_t do_access(Request& r);
  size_t do_create(Request& r);
  size_t do_destroy(Request& r);
  size_t do_batch_forget(Request& r);  // never replies; all entries or none
  size_t do_fallocate(Request& r);
  size_t do_rename2(Request& r);
  size_t do_lseek(Request& r);
  size_t do_copy_file_range(Request& r);  // at most 1 GiB per request

  std::shared_ptr<FileSystem> fs_;
  FuseServerOptions opts_;
  std::atomic<bool> initialized_{false};
  std::atomic<uint32_t> minor_{0};
  RequestStats stats_;
};

}  // namespace runvm::vmm::virtio::fs
