// 9P qid.path values that stay unique when a share spans several host
// filesystems. The guest's v9fs uses qid.path as the inode identity (with
// cache=mmap it reuses a cached inode whose qid matches), and st_ino alone
// repeats across filesystems: a bind mount or a second tmpfs inside the share
// would make two different files one inode in the guest.
// Files on the first device seen (the share's root) keep qid.path = st_ino, so
// the common case is unchanged. Every other device gets a 16-bit prefix in the
// top bits: path = prefix << 48 | (st_ino & (2^48 - 1)). That is unique unless
// an inode number needs more than 48 bits (or more than 65,535 devices appear),
// the same trade QEMU's qid remapping makes in spirit.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace runvm::vmm::virtio::p9 {

class QidPaths {
 public:
  static constexpr int kPrefixShift = 48;
  static constexpr uint64_t kMaxPrefix = 0xffff;

  uint64_t path(dev_t dev, ino_t ino);

 private:
  std::mutex mu_;
  bool have_root_ = false;
  dev_t root_ = 0;
  std::unordered_map<dev_t, uint64_t> prefixes_;  // GUARDED_BY(mu_)
};

}  // namespace runvm::vmm::virtio::p9
