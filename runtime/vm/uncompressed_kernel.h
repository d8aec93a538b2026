// The guest kernel runvm-vmm boots. A distro kernel is a compressed bzImage; booting the
// ELF vmlinux inside it instead spares the guest its decompression and relocation, most
// of a cold start's kernel time in a nested guest (docs/performance.md, bench/start-bench.sh).
// runvm-update-image (packaging/guest/extract-vmlinux.sh) extracts it once per release as
// runvm-vmlinux-<release> beside the guest image, with runvm-vmlinux-<release>.source:
//   line 1: the bzImage's size in bytes
//   line 2: the bzImage's version string (kernel_release.h)
// runvm boots the copy only when that stamp matches the bzImage it would boot, so a kernel
// package rebuilt under the same release is never paired with a stale copy.
#pragma once

#include <optional>
#include <string>

namespace runvm::runtime::vm {

// The extracted copy of `bzimage` in `dir`, or nullopt (none, unreadable, stale, or
// `bzimage` is no bzImage).
[[nodiscard]] std::optional<std::string> uncompressed_kernel_for(const std::string& bzimage,
                                                                 const std::string& dir);

}  // namespace runvm::runtime::vm
