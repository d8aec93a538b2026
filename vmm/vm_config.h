// The plain machine description runvm-vmm is started with (no OCI here).
// Filled from the command line in vmm/main; read by the device wiring.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmm/devices/virtio/fs/cache_policy.h"
#include "vmm/devices/virtio/fs/share_policy.h"

namespace runvm::vmm {

struct ConsoleConfig {
  enum class Kind { Stdio, File, None };
  Kind kind = Kind::Stdio;
  std::string path;  // Kind::File only
  // Kind::File: rotated to PATH.1 at this size (vmm/devices/legacy/console_log.h).
  uint64_t max_bytes = uint64_t{1} << 20;
};

// A host directory shared into the guest (`--fs` virtio-fs, `--9p` virtio-9p).
struct SharedDir {
  enum class Kind { VirtioFs, P9 };
  Kind kind = Kind::VirtioFs;
  std::string tag;  // what the guest mounts
  std::string dir;
  bool read_only = false;
  // What the guest may leave there (`:rootfs` marks a container's root).
  virtio::fs::ShareContent content = virtio::fs::ShareContent::Volume;
  // What the guest may cache (`:cache=MODE`, `:writeback`; virtio-fs only).
  virtio::fs::CachePolicy cache = {};
};

// The one virtio-net NIC (`--net`): a tap fd the VMM inherited, opened by the
// caller with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR and a 12-byte vnet header; the
// device owns it from then on.
struct NetConfig {
  int tap_fd = -1;
  std::array<uint8_t, 6> mac{};  // unicast, not all zero
  // 68..65535, offered as VIRTIO_NET_F_MTU (the guest's maximum and initial MTU);
  // 0: not offered, so the guest may set any MTU (runvm learns the container's
  // only after the VMM started and has the agent set it).
  uint16_t mtu = 0;
};

// The VMM's confinement once set-up is done (vmm/jail/README.md). Off by
// default for in-process users (tests); runvm-vmm turns it on.
struct JailConfig {
  bool enabled = false;
  bool seccomp = true;  // the allow-list; --no-seccomp is for debugging only
  // Its own mount namespace and root (vmm/jail/mount_jail.h); needs CAP_SYS_ADMIN.
  bool mount_namespace = true;
  // Test of the jail: make a forbidden syscall right after entering it.
  bool test_forbidden_syscall = false;
  // Run as this uid/gid once set up (--user; vmm/jail/README.md), keeping only
  // the filesystem capabilities. -1: stay as started (root under runvm).
  int64_t uid = -1;
  int64_t gid = -1;
  // Test of the per-thread filters: a vCPU thread makes a syscall the main
  // thread may make (eventfd2) but its own filter refuses.
  bool test_vcpu_forbidden_syscall = false;
};

// Snapshots (vmm/snapshot/README.md). save_dir: boot, and when the guest writes
// the snapshot point port, save the VM into save_dir (vm.state, memory) and exit
// 0. restore_dir: start from the VM saved there instead of booting a kernel.
struct SnapshotConfig {
  std::string save_dir;
  std::string restore_dir;
};

struct VmConfig {
  std::string kernel;   // bzImage or ELF vmlinux
  std::string initrd;   // optional initramfs
  std::string cmdline;  // kernel command line
  uint64_t memory_mib = 256;
  unsigned cpus = 1;  // 1..kMaxCpus

  // virtio-vsock (used by vmm/devices/virtio): guest CID and the host unix socket.
  std::optional<uint32_t> vsock_cid;
  std::string vsock_uds;

  ConsoleConfig console;

  std::vector<SharedDir> shared_dirs;

  std::optional<NetConfig> net;
  JailConfig jail;
  SnapshotConfig snapshot;

  // When runvm-vmm's main() began (CLOCK_MONOTONIC ns; 0: unknown). With it the VMM prints
  // one "start trace" line as the guest is entered, read by the runtime (runtime/vm/start_trace.h).
  uint64_t started_ns = 0;

  static constexpr unsigned kMaxCpus = 64;
};

}  // namespace runvm::vmm
