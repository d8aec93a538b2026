// A snapshot's guest memory file: the guest's RAM regions back to back (below
// the PCI hole, then above 4 GiB), as a sparse file: pages that are all zero are
// holes. Restored VMs map it copy-on-write (GuestMemory::map_file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace runvm::vmm::snapshot {

[[nodiscard]] Status save_memory(const GuestMemory& mem, int fd, const std::string& what);
// Maps `fd` as `size_bytes` of guest RAM; a file of another size is an error.
[[nodiscard]] Result<GuestMemory> map_memory(int fd, uint64_t size_bytes, const std::string& what);

}  // namespace runvm::vmm::snapshot
