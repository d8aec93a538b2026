#include "vmm/devices/virtio/p9/qid_paths.h"

#include <algorithm>

namespace runvm::vmm::virtio::p9 {

uint64_t QidPaths::path(dev_t dev, ino_t ino) {
  std::lock_guard lk(mu_);
  if (!have_root_) {
    have_root_ = true;
    root_ = dev;
  }
  if (dev == root_) return ino;
  auto it = prefixes_.find(dev);
  if (it == prefixes_.end()) {
    // Past the last prefix every further device shares it: still distinct
    // from the root's files, which is the case that matters most.
    uint64_t next = std::min<uint64_t>(prefixes_.size() + 1, kMaxPrefix);
    it = prefixes_.emplace(dev, next).first;
  }
  return (it->second << kPrefixShift) | (static_cast<uint64_t>(ino) & ((1ull << kPrefixShift) - 1));
}

}  // namespace runvm::vmm::virtio::p9
