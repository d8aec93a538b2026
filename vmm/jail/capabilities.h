// The capabilities runvm-vmm keeps once the guest runs: only what the
// filesystem servers need to act for the guest's users on host files.
#pragma once

#include <cstdint>
#include <span>

#include <sys/capability.h>

#include "base/result.h"

namespace runvm::vmm::jail {

// CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, MKNOD, SETFCAP.
std::span<const cap_value_t> vmm_kept_capabilities();

// Drops every other capability from the bounding set (when the VMM may:
// CAP_SETPCAP), the ambient set and the effective/permitted/inheritable sets;
// the kept ones stay effective and permitted only where they were permitted.
[[nodiscard]] Status drop_vmm_capabilities();

// Becomes uid/gid (no supplementary groups) while keeping the permitted
// capabilities, which stay effective; drop_vmm_capabilities() then trims them.
// Needs CAP_SETUID and CAP_SETGID; single-threaded.
[[nodiscard]] Status switch_vmm_user(uint32_t uid, uint32_t gid);

}  // namespace runvm::vmm::jail
