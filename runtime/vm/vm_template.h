// Template VMs (issue 15, docs/performance.md "Snapshots"): a VM booted once per
// shape up to the guest agent listening, with no share mounted, and saved by
// runvm-vmm (--snapshot-save, vmm/snapshot/README.md). A container whose VM has
// that shape starts from the snapshot (--restore) instead of booting a kernel.
//
// The shape is everything the guest saw before the snapshot: runvm-vmm, kernel
// and initrd (path, size, mtime), the command line, memory, vCPUs, the vsock CID
// and the virtio-fs tags in order. Its hash names the template's directory under
// the snapshot directory, so a change in any of them makes a new template and the
// old one is never used. A NIC is part of the shape, not its tap or MAC: the
// template VM gets a throwaway tap in a network namespace of its own and the MAC
// kTemplateGuestMac, which every VM restored from it offers too (the agent then
// gives the NIC the container link's MAC, as after a boot).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace runvm::runtime::vm {

inline constexpr const char* kTemplateGuestMac = "02:72:76:6d:00:01";

// The template directory for a VM started with `vmm_args` (argv of runvm-vmm,
// booting), built first when missing: a template VM with the same shape whose
// shares are empty directories, saved at its snapshot point. Concurrent callers
// wait for one build (a lock file). An error says why no template could be made.
[[nodiscard]] Result<std::string> ensure_template(const std::string& snapshot_dir,
                                                  const std::vector<std::string>& vmm_args,
                                                  unsigned timeout_s);

// `vmm_args` starting from the template in `dir`: --kernel, --initrd and --cmdline
// give way to --restore.
std::vector<std::string> restore_args(const std::vector<std::string>& vmm_args,
                                      const std::string& dir);

// Removes a template that failed to restore, so the next start builds it anew.
void discard_template(const std::string& dir);

// The hash naming a shape's directory (exposed for tests).
std::string template_key(const std::vector<std::string>& vmm_args);

}  // namespace runvm::runtime::vm
