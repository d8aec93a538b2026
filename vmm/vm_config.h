// The plain machine description runvm-vmm is started with (no OCI here).
// Filled from the command line in vmm/main; read by the device wiring.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace runvm::vmm {

struct ConsoleConfig {
  enum class Kind { Stdio, File, None };
  Kind kind = Kind::Stdio;
  std::string path;  // Kind::File only
};

// A host directory shared into the guest (`--fs` virtio-fs, `--9p` virtio-9p).
struct SharedDir {
  enum class Kind { VirtioFs, P9 };
  Kind kind = Kind::VirtioFs;
  std::string tag;  // what the guest mounts
  std::string dir;
  bool read_only = false;
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

  static constexpr unsigned kMaxCpus = 64;
};

}  // namespace runvm::vmm
