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

#include "vmm/devices/virtio/fs/file_system.h"
#include "vmm/devices/virtio/fs/fuse_buffers.h"

namespace runvm::vmm::virtio::fs {

struct FuseServerOptions {
  uint32_t max_write = 1u << 20;      // bytes per WRITE (and READ) request
  uint32_t max_readahead = 1u << 20;  // upper bound for the guest's readahead
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
  size_t handle(FuseReader& in, FuseWriter& out);

  bool initialized() const { return initialized_.load(); }
  uint32_t negotiated_minor() const { return minor_.load(); }

 private:
  struct Request;
  size_t dispatch(Request& r);
  size_t do_init(Request& r);
  size_t do_read(Request& r);
  size_t do_write(Request& r);
  size_t do_readdir(Request& r, bool plus);
  size_t do_batch_forget(Request& r);

  std::shared_ptr<FileSystem> fs_;
  FuseServerOptions opts_;
  std::atomic<bool> initialized_{false};
  std::atomic<uint32_t> minor_{0};
};

}  // namespace runvm::vmm::virtio::fs
