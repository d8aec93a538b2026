#include "vmm/devices/virtio/fs/cache_policy.h"

#include <linux/fuse.h>

namespace runvm::vmm::virtio::fs {

uint64_t CachePolicy::timeout_ns() const {
  switch (mode) {
    case CacheMode::None:
      return 0;
    case CacheMode::Auto:
      return 1'000'000'000ull;
    case CacheMode::Always:
      return 86'400ull * 1'000'000'000ull;  // a day, as virtiofsd
  }
  return 0;
}

uint32_t CachePolicy::open_flags() const {
  switch (mode) {
    case CacheMode::None:
      return FOPEN_DIRECT_IO;
    case CacheMode::Auto:
      return 0;  // the kernel drops the file's pages at open
    case CacheMode::Always:
      return FOPEN_KEEP_CACHE;
  }
  return 0;
}

uint32_t CachePolicy::opendir_flags() const {
  return mode == CacheMode::Always ? FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR : 0;
}

std::optional<CacheMode> parse_cache_mode(std::string_view s) {
  if (s == "none") return CacheMode::None;
  if (s == "auto") return CacheMode::Auto;
  if (s == "always") return CacheMode::Always;
  return std::nullopt;
}

const char* cache_mode_name(CacheMode m) {
  switch (m) {
    case CacheMode::None:
      return "none";
    case CacheMode::Auto:
      return "auto";
    case CacheMode::Always:
      return "always";
  }
  return "?";
}

}  // namespace runvm::vmm::virtio::fs
