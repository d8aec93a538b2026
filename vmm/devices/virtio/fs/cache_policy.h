// How much of a virtio-fs share the guest may cache: virtiofsd's cache=none|auto|always,
// plus FUSE_WRITEBACK_CACHE. The trade-off (README.md, "Cache modes"): the more the guest
// caches, the fewer requests cross into the VMM, and the later it sees a change made to the
// share on the host.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace runvm::vmm::virtio::fs {

enum class CacheMode {
  None,    // nothing cached: names (missing ones too) and attributes revalidated every time, file
           // data read and written through the share (FOPEN_DIRECT_IO)
  Auto,    // names (missing ones too) and attributes for 1 s; file data until the next open
  Always,  // names, attributes, file data and directory listings kept until the guest
           // drops them (for shares only this guest changes)
};

struct CachePolicy {
  CacheMode mode = CacheMode::Auto;
  // The guest writes into its page cache and sends whole pages later (FUSE_WRITEBACK_CACHE);
  // it keeps the file size and mtime itself meanwhile, so only for shares only it writes.
  bool writeback = false;

  // How long the guest may trust a LOOKUP's entry and attributes, and a missing name.
  uint64_t timeout_ns() const;
  // Whether the guest sends FLUSH at each close(2). Only `none` wants it: a FLUSH reports
  // an error the host file system defers to close(2) (NFS-style; a local one reports at
  // write(2)). Otherwise the first FLUSH answers ENOSYS and the guest stops sending them;
  // with writeback it still writes its dirty pages back at close.
  bool flush_on_close() const { return mode == CacheMode::None; }
  // FOPEN_* for a regular file's OPEN/CREATE reply, and for OPENDIR's.
  uint32_t open_flags() const;
  uint32_t opendir_flags() const;
};

// "none" | "auto" | "always".
std::optional<CacheMode> parse_cache_mode(std::string_view s);
const char* cache_mode_name(CacheMode m);

}  // namespace runvm::vmm::virtio::fs
