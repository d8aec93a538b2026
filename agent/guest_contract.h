// What the host (runtime/) and the guest (guest-init/, the agent server) must
// agree on, in one place: the agent's vsock port, the rootfs tag, where guest-init
// mounts the rootfs and the extra shares, and the runvm.* kernel command-line keys
// the runtime writes and guest-init reads (guest-init/README.md lists them).
#pragma once

#include <cstdint>
#include <string_view>

namespace runvm::agent {

// The guest agent listens on this vsock port (any CID); the host connects to it.
inline constexpr uint32_t kAgentVsockPort = 1024;

// virtio-fs/9p tag of the container's rootfs share.
inline constexpr const char* kRootfsTag = "runvm-rootfs";
// Where guest-init mounts the rootfs share (the container's root).
inline constexpr const char* kGuestRootfsDir = "/run/runvm/rootfs";
// Where guest-init mounts each runvm.share=<tag> share: <dir>/<tag>, outside the
// container's root (runtime/vm/volumes.h binds files out of them).
inline constexpr const char* kGuestSharesDir = "/run/runvm/shares";

// Kernel command-line keys (runvm.<key>=<value>).
inline constexpr std::string_view kCmdlineRootfs = "runvm.rootfs";         // <virtiofs|9p>:<tag>
inline constexpr std::string_view kCmdlineShare = "runvm.share";           // <tag>, repeatable
inline constexpr std::string_view kCmdlineModules = "runvm.modules";       // module list path
inline constexpr std::string_view kCmdlineAgentPort = "runvm.agent_port";  // vsock port
inline constexpr std::string_view kCmdlineAgentSerial = "runvm.agent_serial";  // port name
// runvm.template=1: a template VM (issue 15). guest-init loads modules and listens, then
// writes the VMM's snapshot point port (base/snapshot_point.h) and, in each VM
// started from that snapshot, mounts the shares once the host sent `restored`.
inline constexpr std::string_view kCmdlineTemplate = "runvm.template";

}  // namespace runvm::agent
