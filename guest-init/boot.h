// PID 1 bring-up steps of the guest, in order: early mounts, modules, the
// shared rootfs, the agent's vsock listener. Each fails with context.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/guest_contract.h"
#include "base/result.h"

namespace runvm::guest {

// Settings read from the kernel command line (runvm.* parameters).
struct BootConfig {
  // runvm.rootfs=<fstype>:<tag>, fstype virtiofs or 9p.
  std::string rootfs_fstype = "virtiofs";
  std::string rootfs_tag = agent::kRootfsTag;
  // Where the shared rootfs is mounted in the guest (the container's root).
  std::string rootfs_target = agent::kGuestRootfsDir;
  // runvm.share=<tag> (repeatable): virtio-fs shares mounted at
  // kSharesDir/<tag>, outside the container's root; the host rewrites bind
  // mounts of host files and directories into binds out of them
  // (runtime/vm/volumes.h).
  std::vector<std::string> shares;
  static constexpr const char* kSharesDir = agent::kGuestSharesDir;
  // runvm.modules=<path>: module files (one path a line) loaded in order.
  std::string modules_list = "/lib/modules/runvm.list";
  // runvm.agent_port=<n>: vsock port of the agent.
  uint32_t agent_port = agent::kAgentVsockPort;
  // runvm.agent_serial=<name>: also serve the agent protocol on the virtio-serial
  // port of that name (a debug/test transport for hosts without vhost-vsock).
  std::string agent_serial;
  // runvm.template=1: stop at the snapshot point before mounting (guest-init/restore.h).
  bool template_vm = false;
};
// Parses /proc/cmdline text; unknown parameters are ignored, malformed runvm.* ones are errors.
[[nodiscard]] Result<BootConfig> parse_cmdline(std::string_view cmdline);

// Mounts /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /run, /sys/fs/cgroup
// (cgroup2); already mounted is fine.
// Opens /dev/console on fds 0..2 if they are closed.
[[nodiscard]] Status mount_early_filesystems();

// One line of the module list: "PATH [pci=VVVV:DDDD,...]". With pci=, the module is loaded
// only when one of those PCI functions exists: a driver without its device costs boot time
// alone (its signature check and init, ~17 ms each in the nested test host).
struct ModuleEntry {
  std::string path;
  std::vector<std::string> pci;  // "1af4:1041", lower-case hex; empty: always loaded
  bool operator==(const ModuleEntry&) const = default;
};

// Reads the module list and finit_module()s each wanted file in order. Blank lines and
// '#' comments are skipped; a module that is already loaded is fine.
[[nodiscard]] Status load_modules(const std::string& list_path,
                                  const std::string& pci_sysfs = "/sys/bus/pci/devices");
// The entries of a list file's text, in order.
[[nodiscard]] std::vector<ModuleEntry> parse_module_list(std::string_view text);
// "vvvv:dddd" of every PCI function under `sysfs_dir` (its vendor and device files).
[[nodiscard]] std::set<std::string> present_pci_ids(const std::string& sysfs_dir);
[[nodiscard]] bool module_wanted(const ModuleEntry& m, const std::set<std::string>& present);

// Mounts the shared rootfs at cfg.rootfs_target and every runvm.share share.
[[nodiscard]] Status mount_shared_rootfs(const BootConfig& cfg);

// Opens the virtio-serial port named `name` (/sys/class/virtio-ports/*/name),
// waiting up to timeout_ms for the host to announce the name.
[[nodiscard]] Result<int> open_virtio_port(const std::string& name, int timeout_ms);

// A listening AF_VSOCK stream socket on (VMADDR_CID_ANY, port).
[[nodiscard]] Result<int> listen_vsock(uint32_t port);

}  // namespace runvm::guest
